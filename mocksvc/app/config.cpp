#include "mocksvc/app/config.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mocksvc/api/instance_json.hpp"

namespace mocksvc::app {

using json = nlohmann::json;
using Result = boost::system::result<void, std::string>;

ServiceConfig default_config() {
  ServiceConfig c;
  backend::Account acct;
  acct.access_key_id = kDefaultAccessKeyId;
  acct.secret_access_key = kDefaultSecretAccessKey;
  acct.account_id = "123456789012";
  acct.user_name = "tester";
  c.backend.accounts.push_back(acct);

  backend::InstanceSpec shell;
  shell.instance_id = kDefaultShellInstance;
  shell.name = "shell-host";
  shell.tags = {{"Name", "shell-host"}, {"env", "test"}};
  shell.platform_name = "Amazon Linux";
  shell.platform_version = "2023";
  shell.agent_version = "3.3.987.0";
  shell.ip_address = "10.0.0.11";
  shell.computer_name = "ip-10-0-0-11.ec2.internal";
  shell.virtual_options.hostname = "ip-10-0-0-11";
  c.backend.instances.push_back(shell);

  backend::InstanceSpec web;
  web.instance_id = kDefaultPortInstance;
  web.name = "web-host";
  web.tags = {{"Name", "web-host"}, {"env", "test"}};
  web.platform_name = "Ubuntu";
  web.platform_version = "22.04";
  web.agent_version = "3.3.987.0";
  web.ip_address = "10.0.0.12";
  web.computer_name = "ip-10-0-0-12.ec2.internal";
  web.virtual_options.hostname = "ip-10-0-0-12";
  c.backend.instances.push_back(web);
  return c;
}

Result parse_listen(ServiceConfig& config, std::string_view value) {
  auto colon = value.rfind(':');
  if (colon == std::string_view::npos) return "listen address '" + std::string(value) + "' must be host:port";
  std::string host(value.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  auto port_text = value.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
    return "listen address '" + std::string(value) + "' has an invalid port";
  config.listen_host = host;
  config.listen_port = static_cast<unsigned short>(port);
  return {};
}

namespace {

std::string where(std::string_view source, std::string_view key) {
  return std::string(source) + ": '" + std::string(key) + "'";
}

template <typename T>
Result get(const json& j, std::string_view key, T& out, std::string_view source, std::string_view type) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>)
    ok = it->is_boolean();
  else if constexpr (std::is_same_v<T, std::string>)
    ok = it->is_string();
  else
    ok = it->is_number_integer() && it->template get<long long>() >= 0;
  if (!ok) return where(source, key) + " must be " + std::string(type);
  out = it->template get<T>();
  return {};
}

}  // namespace

Result apply_config_json(ServiceConfig& c, std::string_view text, std::string_view source) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return std::string(source) + ": not valid JSON";
  if (!j.is_object()) return std::string(source) + ": the top level must be an object";
  static const char* kKnown[] = {"listen", "state_dir", "tls", "threads", "log_level", "region",
                                 "accept_any_credentials", "credentials", "instances", "session_preferences",
                                 "token_ttl_minutes", "audit_log", "session_logging", "seed",
                                 "default_account_id", "builtin_targets", "auto_register_agents"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (auto k : kKnown) known = known || it.key() == k;
    if (!known) return where(source, it.key()) + " is not a configuration key";
  }
  if (auto it = j.find("listen"); it != j.end()) {
    if (!it->is_string()) return where(source, "listen") + " must be a \"host:port\" string";
    if (auto r = parse_listen(c, it->get<std::string>()); !r) return std::string(source) + ": " + r.error();
  }
  std::string state_dir = c.state_dir.string();
  if (auto r = get(j, "state_dir", state_dir, source, "a path string"); !r) return r;
  c.state_dir = state_dir;
  if (auto r = get(j, "threads", c.threads, source, "a non-negative integer"); !r) return r;
  if (auto r = get(j, "log_level", c.log_level, source, "trace|debug|info|warn|error|off"); !r) return r;
  if (auto r = get(j, "region", c.backend.default_region, source, "a region name"); !r) return r;
  if (auto r = get(j, "default_account_id", c.backend.default_account_id, source, "a 12-digit string"); !r) return r;
  if (auto r = get(j, "accept_any_credentials", c.backend.accept_any_credentials, source, "true or false"); !r)
    return r;
  if (auto r = get(j, "audit_log", c.audit_log, source, "a path string"); !r) return r;
  if (auto r = get(j, "session_logging", c.session_logging, source, "true or false"); !r) return r;
  if (auto r = get(j, "builtin_targets", c.builtin_targets, source, "true or false"); !r) return r;
  if (auto r = get(j, "auto_register_agents", c.backend.auto_register_agents, source,
                   "true or false");
      !r)
    return r;
  if (auto it = j.find("token_ttl_minutes"); it != j.end()) {
    if (!it->is_number_integer() || it->get<long long>() < 1)
      return where(source, "token_ttl_minutes") + " must be a positive integer";
    c.backend.token_ttl = std::chrono::minutes(it->get<long long>());
  }
  if (auto it = j.find("seed"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) return where(source, "seed") + " must be a non-negative integer";
    c.backend.seed = it->get<std::uint64_t>();
  }
  if (auto it = j.find("tls"); it != j.end()) {
    if (!it->is_object()) return where(source, "tls") + " must be an object";
    if (auto r = get(*it, "enabled", c.tls, source, "true or false"); !r) return r;
    if (auto r = get(*it, "cert", c.tls_cert, source, "a path string"); !r) return r;
    if (auto r = get(*it, "key", c.tls_key, source, "a path string"); !r) return r;
    if (auto n = it->find("extra_names"); n != it->end()) {
      if (!n->is_array()) return where(source, "tls.extra_names") + " must be an array of names";
      for (const auto& name : *n) {
        if (!name.is_string()) return where(source, "tls.extra_names") + " must hold strings";
        c.tls_names.push_back(name.get<std::string>());
      }
    }
  }
  if (auto it = j.find("credentials"); it != j.end()) {
    if (!it->is_array()) return where(source, "credentials") + " must be an array";
    c.backend.accounts.clear();
    std::size_t i = 0;
    for (const auto& e : *it) {
      const std::string at = "credentials[" + std::to_string(i++) + "]";
      if (!e.is_object()) return where(source, at) + " must be an object";
      backend::Account a;
      if (auto r = get(e, "access_key_id", a.access_key_id, source, "a string"); !r) return r;
      if (auto r = get(e, "secret_access_key", a.secret_access_key, source, "a string"); !r) return r;
      if (auto r = get(e, "session_token", a.session_token, source, "a string"); !r) return r;
      if (auto r = get(e, "account_id", a.account_id, source, "a string"); !r) return r;
      if (auto r = get(e, "user_name", a.user_name, source, "a string"); !r) return r;
      if (auto r = get(e, "arn", a.arn, source, "a string"); !r) return r;
      if (a.access_key_id.empty() || a.secret_access_key.empty())
        return where(source, at) + " needs access_key_id and secret_access_key";
      if (a.account_id.empty()) a.account_id = c.backend.default_account_id;
      c.backend.accounts.push_back(std::move(a));
    }
  }
  if (auto it = j.find("instances"); it != j.end()) {
    if (!it->is_array()) return where(source, "instances") + " must be an array";
    c.backend.instances.clear();
    std::size_t i = 0;
    for (const auto& e : *it) {
      auto spec = api::instance_spec_from_json(e);
      if (!spec)
        return where(source, "instances[" + std::to_string(i) + "]") + ": " + spec.error().message;
      c.backend.instances.push_back(std::move(*spec));
      ++i;
    }
  }
  if (auto it = j.find("session_preferences"); it != j.end()) {
    if (!it->is_object()) return where(source, "session_preferences") + " must be an object";
    auto& p = c.backend.preferences;
    if (auto r = get(*it, "idle_timeout_minutes", p.idle_timeout_minutes, source, "minutes (1-60)"); !r) return r;
    if (auto r = get(*it, "max_session_duration_minutes", p.max_session_duration_minutes, source, "minutes (0-1440)");
        !r)
      return r;
    if (auto r = get(*it, "run_as_enabled", p.run_as_enabled, source, "true or false"); !r) return r;
    if (auto r = get(*it, "run_as_default_user", p.run_as_default_user, source, "a user name"); !r) return r;
    if (auto r = get(*it, "shell_profile_linux", p.shell_profile_linux, source, "a string"); !r) return r;
  }
  return {};
}

Result load_config_file(ServiceConfig& config, const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return "cannot read configuration file " + path.string();
  std::stringstream ss;
  ss << in.rdbuf();
  return apply_config_json(config, ss.str(), path.string());
}

}  // namespace mocksvc::app
