// The command-line contract between `aws ssm start-session` and session-manager-plugin
// (data-channel.md §1, ssm-api.md §4): argv[1] the StartSession response JSON or the name of the
// environment variable holding it, argv[2] region, argv[3] operation, argv[4] profile, argv[5]
// the request parameters JSON, argv[6] the SSM endpoint. parse_args() turns argv into what the
// program does next; it never throws and never crashes on bad input.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "mocksvc/client/version.hpp"

namespace mocksvc::client {

// The environment-variable hand-off name (§1.2). Any argv[1] starting with it is read from the
// environment and then unset, as the plugin does.
inline constexpr std::string_view kResponseEnvVar = "AWS_SSM_START_SESSION_RESPONSE";

struct StartSessionArgs {
  std::string session_id;
  std::string token_value;
  std::string stream_url;
  std::string region;
  std::string profile;
  std::string target;                   // argv[5].Target; empty with fewer than 6 arguments
  std::string request_parameters_json;  // argv[5] verbatim
  std::string ssm_endpoint;             // argv[6]; used only for ResumeSession/TerminateSession
  // The legacy 4-argument form (response, region, operation): the session then refuses
  // KMSEncryption with the "upgrade your CLI" error (§1.1, §6.3).
  bool cli_upgrade_needed = false;
  bool response_from_environment = false;
};

// Print `stdout_text` and exit: the banner, `--version`, "Unknown operation", "Invalid Operation".
struct PrintAndExit {
  std::string stdout_text;
  int exit_code = 0;
};

enum class ArgsErrc {
  malformed_response,      // argv[1] (or the variable) is not a JSON object / has a wrong type
  response_missing_field,  // SessionId, TokenValue or StreamUrl absent or null
  malformed_parameters,    // argv[5] is not a JSON object
  missing_target,          // argv[5] has no string Target
};

// Where the plugin prints "Cannot perform start session: ..." on stdout and exits 0 (a JSON
// error), so do we; where it panics (exit 2: a nil field, a non-string Target) we print one line
// on stderr and exit 2.
struct ArgsError {
  ArgsErrc code;
  std::string message;  // one line, no trailing newline
  bool to_stdout = false;
  int exit_code = 2;
};

using ParsedArgs = std::variant<StartSessionArgs, PrintAndExit, ArgsError>;

// Access to the process environment, replaceable in tests.
struct Environment {
  std::function<std::optional<std::string>(const std::string& name)> get;
  std::function<void(const std::string& name)> unset;
  static Environment process();
};

ParsedArgs parse_args(std::span<const std::string> argv, const Environment& env,
                      std::string_view client_version = kDefaultClientVersion);
ParsedArgs parse_args(int argc, const char* const* argv);

// "\nStarting session with SessionId: <id>\n", printed before any network activity (§1.3).
std::string starting_session_line(std::string_view session_id);

}  // namespace mocksvc::client
