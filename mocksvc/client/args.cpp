#include "mocksvc/client/args.hpp"

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

namespace mocksvc::client {
namespace {

using json = nlohmann::json;

constexpr std::string_view kStartSessionOperation = "StartSession";
// argv sizes with the program path (§1.1): the legacy CLI passes 3 arguments, current ones 6.
constexpr std::size_t kLegacyArgc = 4;

ArgsError error(ArgsErrc code, std::string message, bool to_stdout) {
  return ArgsError{code, std::move(message), to_stdout, to_stdout ? 0 : 2};
}

// Go's json.Unmarshal into StartSessionOutput: a syntax or type error is reported (stdout, exit
// 0); an absent or null field would be dereferenced as nil (a panic in the plugin).
std::variant<StartSessionArgs, ArgsError> parse_response(std::string_view text, StartSessionArgs a) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return error(ArgsErrc::malformed_response,
                 text.empty() ? "Cannot perform start session: the StartSession response is empty"
                              : "Cannot perform start session: the StartSession response is not "
                                "valid JSON",
                 true);
  }
  if (!j.is_object()) {
    return error(ArgsErrc::malformed_response,
                 "Cannot perform start session: the StartSession response is not a JSON object",
                 true);
  }
  struct Field {
    const char* name;
    std::string* out;
  };
  for (Field f : {Field{"SessionId", &a.session_id}, Field{"StreamUrl", &a.stream_url},
                  Field{"TokenValue", &a.token_value}}) {
    auto it = j.find(f.name);
    if (it != j.end() && !it->is_null() && !it->is_string()) {
      return error(ArgsErrc::malformed_response,
                   std::string("Cannot perform start session: ") + f.name +
                       " in the StartSession response is not a string",
                   true);
    }
  }
  for (Field f : {Field{"SessionId", &a.session_id}, Field{"StreamUrl", &a.stream_url},
                  Field{"TokenValue", &a.token_value}}) {
    auto it = j.find(f.name);
    if (it == j.end() || it->is_null()) {
      return error(ArgsErrc::response_missing_field,
                   std::string("session-manager-plugin: the StartSession response has no ") +
                       f.name,
                   false);
    }
    *f.out = it->get<std::string>();
  }
  return a;
}

}  // namespace

Environment Environment::process() {
  return Environment{
      [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
      },
      [](const std::string& name) { ::unsetenv(name.c_str()); },
  };
}

ParsedArgs parse_args(std::span<const std::string> argv, const Environment& env,
                      std::string_view client_version) {
  const std::size_t argc = argv.size();
  if (argc <= 1) {
    return PrintAndExit{"\nThe Session Manager plugin was installed successfully. Use the AWS CLI "
                        "to start a session.\n\n"};
  }
  if (argc == 2 && argv[1] == "--version") return PrintAndExit{std::string(client_version) + "\n"};
  if (argc < kLegacyArgc) {
    return PrintAndExit{"\nUnknown operation " + argv[1] +
                        ". \nUse session-manager-plugin --version to check the version.\n\n"};
  }

  StartSessionArgs a;
  a.cli_upgrade_needed = argc == kLegacyArgc;
  std::string response;
  if (argv[1].starts_with(kResponseEnvVar)) {
    a.response_from_environment = true;
    if (env.get) response = env.get(argv[1]).value_or("");
    if (env.unset) env.unset(argv[1]);
  } else {
    response = argv[1];
  }
  a.region = argv[2];
  const std::string& operation = argv[3];
  if (argc > 4) a.profile = argv[4];
  if (argc > 5) {
    a.request_parameters_json = argv[5];
    json p = json::parse(argv[5].begin(), argv[5].end(), nullptr, false);
    if (p.is_discarded() || !p.is_object()) {
      return error(ArgsErrc::malformed_parameters,
                   "session-manager-plugin: the StartSession parameters (argument 5) are not a "
                   "JSON object",
                   false);
    }
    auto t = p.find("Target");
    if (t == p.end() || !t->is_string()) {
      return error(ArgsErrc::missing_target,
                   "session-manager-plugin: the StartSession parameters (argument 5) have no "
                   "string Target",
                   false);
    }
    a.target = t->get<std::string>();
  }
  if (argc > 6) a.ssm_endpoint = argv[6];

  if (operation != kStartSessionOperation) return PrintAndExit{"Invalid Operation"};

  auto parsed = parse_response(response, std::move(a));
  if (auto* e = std::get_if<ArgsError>(&parsed)) return *e;
  return std::get<StartSessionArgs>(std::move(parsed));
}

ParsedArgs parse_args(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
  return parse_args(args, Environment::process());
}

std::string starting_session_line(std::string_view session_id) {
  return "\nStarting session with SessionId: " + std::string(session_id) + "\n";
}

}  // namespace mocksvc::client
