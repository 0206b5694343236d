#include "plugin/aws_environment.hpp"

#include <fstream>
#include <sstream>

namespace ssmh::plugin {
namespace {

using mocksvc::auth::Credentials;
using mocksvc::client::Environment;

std::optional<std::string> non_empty(const Environment& env, const char* name) {
  if (!env.get) return std::nullopt;
  auto v = env.get(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// The section name a profile has in the file: the config file writes `[profile name]` for
// every profile but the default one.
bool section_matches(std::string_view section, std::string_view profile, bool config_file_syntax) {
  section = trim(section);
  if (section == profile) return !config_file_syntax || profile == "default";
  if (!config_file_syntax || !section.starts_with("profile")) return false;
  std::string_view rest = section.substr(7);
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) return false;
  return trim(rest) == profile;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string home_file(const Environment& env, const char* relative) {
  auto home = non_empty(env, "HOME");
  return home ? *home + "/" + relative : std::string();
}

}  // namespace

std::string effective_profile(std::string_view argv_profile, const Environment& env) {
  if (!argv_profile.empty()) return std::string(argv_profile);
  if (auto p = non_empty(env, "AWS_PROFILE")) return *p;
  if (auto p = non_empty(env, "AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}

std::optional<Credentials> parse_credentials_ini(std::string_view text, std::string_view profile,
                                                 bool config_file_syntax) {
  Credentials c;
  bool in_profile = false;
  bool seen_profile = false;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = trim(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const auto close = line.find(']');
      if (close == std::string_view::npos) {
        in_profile = false;
        continue;
      }
      in_profile = section_matches(line.substr(1, close - 1), profile, config_file_syntax);
      seen_profile = seen_profile || in_profile;
      continue;
    }
    if (!in_profile) continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, eq));
    const std::string value(trim(line.substr(eq + 1)));
    if (mocksvc::auth::iequals(key, "aws_access_key_id")) {
      c.access_key_id = value;
    } else if (mocksvc::auth::iequals(key, "aws_secret_access_key")) {
      c.secret_access_key = value;
    } else if (mocksvc::auth::iequals(key, "aws_session_token")) {
      c.session_token = value;
    } else if (mocksvc::auth::iequals(key, "aws_security_token") && c.session_token.empty()) {
      c.session_token = value;
    }
  }
  if (!seen_profile || c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

std::optional<Credentials> load_credentials(std::string_view argv_profile, const Environment& env) {
  auto id = non_empty(env, "AWS_ACCESS_KEY_ID");
  if (!id) id = non_empty(env, "AWS_ACCESS_KEY");
  auto secret = non_empty(env, "AWS_SECRET_ACCESS_KEY");
  if (!secret) secret = non_empty(env, "AWS_SECRET_KEY");
  if (id && secret) {
    Credentials c{*id, *secret, {}};
    if (auto token = non_empty(env, "AWS_SESSION_TOKEN")) c.session_token = *token;
    return c;
  }

  const std::string profile = effective_profile(argv_profile, env);
  struct Source {
    std::string path;
    bool config_file_syntax;
  };
  const Source sources[] = {
      {non_empty(env, "AWS_SHARED_CREDENTIALS_FILE").value_or(home_file(env, ".aws/credentials")), false},
      {non_empty(env, "AWS_CONFIG_FILE").value_or(home_file(env, ".aws/config")), true},
  };
  for (const auto& s : sources) {
    if (s.path.empty()) continue;
    auto text = read_file(s.path);
    if (!text) continue;
    if (auto c = parse_credentials_ini(*text, profile, s.config_file_syntax)) return c;
  }
  return std::nullopt;
}

std::string ca_bundle_path(const Environment& env) {
  if (auto p = non_empty(env, "AWS_CA_BUNDLE")) return *p;
  if (auto p = non_empty(env, "SSL_CERT_FILE")) return *p;
  return {};
}

}  // namespace ssmh::plugin
