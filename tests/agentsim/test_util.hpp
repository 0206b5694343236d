// Helpers shared by the agentsim suites: an interactive_shell frame as the service sends it,
// and verifying an on-prem RSA-PSS signature with OpenSSL.
#pragma once

#include <string>
#include <string_view>

#include "mocksvc/wire/frame.hpp"

namespace ssmh::agentsim::testing {

// A session document of the given type (properties as JSON text) with schemaVersion `schema`.
std::string session_document(std::string_view session_type, std::string_view properties_json = "{}",
                             std::string_view schema = "1.0");
// The interactive_shell frame for `session_id` running `document` (agent.md §5.1).
mocksvc::wire::Bytes interactive_shell_frame(std::string_view session_id, std::string_view document);
mocksvc::wire::Bytes channel_closed_frame(std::string_view session_id, std::string_view instance_id);
mocksvc::wire::Bytes task_acknowledge_frame(std::string_view message_id, std::string_view session_id);

// True when `signature` (raw bytes) is RSA-PSS(SHA-256, MGF1-SHA-256, salt 32) of `message`
// under the base64 PKIX DER public key.
bool verify_pss(std::string_view public_key_base64, std::string_view message, std::string_view signature);

}  // namespace ssmh::agentsim::testing
