// The built-in catalogue of Session documents (SSM-SessionManagerRunShell, the port-forwarding,
// SSH and command documents) and what StartSession does with one: check the caller's parameters
// against the document's declarations, fill in defaults, substitute `{{ name }}` placeholders
// into `properties`, and merge the session preferences into `inputs`. The result is the
// DocumentContent an agent receives in interactive_shell (agent.md §5.1).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mocksvc/backend/error.hpp"
#include "mocksvc/backend/model.hpp"

namespace mocksvc::backend {

// What StartSession uses when DocumentName is absent (ssm-api.md §2).
inline constexpr std::string_view kDefaultSessionDocument = "SSM-SessionManagerRunShell";

using ParameterValues = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct ResolvedDocument {
  std::string name;             // the catalogue name (an ARN given by the caller is reduced)
  std::string session_type;     // Standard_Stream | Port | InteractiveCommands | ...
  std::string content_json;     // schemaVersion "1.0" document, placeholders substituted
  std::string parameters_json;  // {"portNumber":"80",...}: every declared parameter's value
  std::string properties_json;  // the substituted `properties` object alone
};

// InvalidDocument for an unknown or non-Session document; InvalidParameters for an unknown
// parameter, a missing required one, a wrong number of values or a value not matching its
// allowedPattern (message as the real service words it:
// `Parameter "host" has value "x" not matching "<pattern>".`).
Result<ResolvedDocument> resolve_session_document(std::string_view name,
                                                  const ParameterValues& parameters,
                                                  const SessionPreferences& preferences);

// The catalogue's document names, in a stable order.
std::vector<std::string> session_document_names();

}  // namespace mocksvc::backend
