// The session document as the agent reads it (agent.md §5.1): DocumentContent of an
// interactive_shell task, with parameters already substituted by the service, reduced to what
// picks and configures a session plugin. Pure parsing; no I/O.
#pragma once

#include <string>
#include <string_view>

#include "mocksvc/agent/error.hpp"

namespace mocksvc::agent {

enum class SessionType { standard_stream, interactive_commands, non_interactive_commands, port };
std::string_view to_string(SessionType t);  // the sessionType string, e.g. "Standard_Stream"

// Port and NonInteractiveCommands always handshake; the shell types only with KMS, which the
// built-in agent never uses (data-channel.md §6.4).
bool requires_handshake(SessionType t);

struct SessionDocument {
  SessionType session_type = SessionType::standard_stream;
  // Handshake Properties: the document's properties object for Port, null for the shell family
  // (data-channel.md §6.2).
  std::string handshake_properties_json = "null";
  std::string shell_profile;  // inputs.shellProfile.linux
  // properties.linux.commands (a string; a list of strings is joined with newlines).
  std::string commands;
  bool separate_output_stream = false;  // bool or "true"/"false"
  std::string stdout_prefix;
  std::string stderr_prefix;
  std::string port_number;  // properties.portNumber
  std::string port_type;    // properties.type: "LocalPortForwarding" or "" (SSH)
  std::string host;         // properties.host (remote-host sessions)
  std::string kms_key_id;   // recorded only: the built-in agent never encrypts
};

// Refuses non-objects, a schemaVersion other than "1.0" and unknown session types. Missing
// optional fields take their defaults; plugin-level checks (empty port, bad prefixes) are left
// to the plugin, which fails the session after the handshake as the real agent does.
Result<SessionDocument> parse_session_document(std::string_view document_content_json);

// Numeric dotted-version compare ("1.2.331.0" vs "1.1.70"); missing parts count as 0 and a
// non-numeric part compares as 0. Returns <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace mocksvc::agent
