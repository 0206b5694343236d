// Typed JSON payloads of the session protocol, with the exact field names and field order the
// official client, agent and service use (data-channel.md §4, §6, §7, §9; agent.md §2.3, §5, §6).
// Each type serializes to compact JSON with to_json() and parses with parse_*(), which returns a
// wire::Error instead of throwing. Parsing ignores unknown fields, as every real peer does.
// Opaque sub-objects (action parameters, document content) travel as JSON text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/wire/error.hpp"

namespace mocksvc::wire {

// First text frame on a data channel. The client variant (plugin) carries ClientId and
// ClientVersion; the agent variant carries ClientInstanceId and ClientId (always ""); npm
// ssm-session sends only the first three fields.
struct OpenDataChannel {
  enum class Variant { client, agent };
  Variant variant = Variant::client;
  std::string message_schema_version = "1.0";
  std::string request_id;
  std::string token_value;
  std::optional<std::string> client_id;
  std::optional<std::string> client_version;       // client variant, plugin >= 1.2.677.0
  std::optional<std::string> client_instance_id;   // agent variant
  std::string to_json() const;
};
Result<OpenDataChannel> parse_open_data_channel(std::string_view json);

// First text frame on the agent's control channel. Cookie is always null.
struct OpenControlChannel {
  std::string message_schema_version = "1.0";
  std::string request_id;
  std::string token_value;
  std::string agent_version;
  std::string platform_type = "linux";
  std::string to_json() const;
};
Result<OpenControlChannel> parse_open_control_channel(std::string_view json);

struct Acknowledge {
  std::string acknowledged_message_type;
  std::string acknowledged_message_id;
  std::int64_t acknowledged_message_sequence_number = 0;
  bool is_sequential_message = true;
  std::string to_json() const;
};
Result<Acknowledge> parse_acknowledge(std::string_view json);

struct RequestedClientAction {
  std::string action_type;              // "SessionType" or "KMSEncryption"
  std::string action_parameters_json;   // JSON object text
};
struct HandshakeRequest {
  std::string agent_version;
  std::vector<RequestedClientAction> requested_client_actions;
  std::string to_json() const;
};
Result<HandshakeRequest> parse_handshake_request(std::string_view json);
// {"SessionType":<type>,"Properties":<properties_json or null>} for a SessionType action.
std::string session_type_action_parameters(std::string_view session_type,
                                           std::string_view properties_json);

enum class ActionStatus : int { unset = 0, success = 1, failed = 2, unsupported = 3 };
struct ProcessedClientAction {
  std::string action_type;
  int action_status = 1;
  std::string action_result_json = "null";  // JSON value text
  std::string error;
};
struct HandshakeResponse {
  std::string client_version;
  std::vector<ProcessedClientAction> processed_client_actions;
  std::string errors_json = "null";  // null or a JSON array of strings
  std::string to_json() const;
};
Result<HandshakeResponse> parse_handshake_response(std::string_view json);

struct HandshakeComplete {
  std::int64_t handshake_time_to_complete_ns = 0;
  std::string customer_message;
  std::string to_json() const;
};
Result<HandshakeComplete> parse_handshake_complete(std::string_view json);

// EncChallengeRequest (PT 8) and EncChallengeResponse (PT 9) share one shape.
struct EncChallenge {
  std::string challenge;  // base64
  std::string to_json() const;
};
Result<EncChallenge> parse_enc_challenge(std::string_view json);

// channel_closed, service -> client or agent. CreatedDate is a string timestamp.
struct ChannelClosed {
  std::string message_id;
  std::string created_date;
  std::string destination_id;
  std::string session_id;
  int schema_version = 1;
  std::string output;
  std::string to_json() const;
};
Result<ChannelClosed> parse_channel_closed(std::string_view json);

// agent_session_state, agent -> service on the data channel.
struct AgentSessionState {
  int schema_version = 1;
  std::string session_state;  // "Connected", "Terminating"
  std::string session_id;
  std::string to_json() const;
};
Result<AgentSessionState> parse_agent_session_state(std::string_view json);

// The interactive_shell envelope (MGSPayload): Content is a JSON *string* holding the task.
struct MgsPayload {
  std::string content;
  std::string task_id;
  std::string topic;
  int schema_version = 1;
  std::string to_json() const;
};
Result<MgsPayload> parse_mgs_payload(std::string_view json);

// The inner interactive_shell task. Keys are matched case-insensitively on parse, as Go does.
struct InteractiveShellTask {
  std::string session_id;
  std::string document_name;
  std::string run_as_user;
  std::string session_owner;
  std::string parameters_json = "{}";        // name -> string or list of strings
  std::string document_content_json = "{}";  // the session document
  std::string to_json() const;
};
Result<InteractiveShellTask> parse_interactive_shell_task(std::string_view json);

struct AgentTaskComplete {
  int schema_version = 1;
  std::string task_id;
  std::string topic = "agent_task_complete";
  std::string final_task_status;  // "Success", "Failed", ...
  bool is_routing_failure = false;
  std::string aws_account_id;
  std::string instance_id;
  std::string output;
  std::string s3_bucket;
  std::string s3_url_suffix;
  std::string cwl_group;
  std::string cwl_stream;
  int retry_number = 1;
  std::string to_json() const;
};
Result<AgentTaskComplete> parse_agent_task_complete(std::string_view json);

struct AgentTaskAcknowledge {
  int schema_version = 1;
  std::string message_id;
  std::string task_id;
  std::string topic = "agent_task_complete";
  std::string to_json() const;
};
Result<AgentTaskAcknowledge> parse_agent_task_acknowledge(std::string_view json);

// Terminal size, client -> agent (PT 3): {"cols":C,"rows":R}.
struct SizeData {
  std::uint32_t cols = 0;
  std::uint32_t rows = 0;
  std::string to_json() const;
};
Result<SizeData> parse_size(std::string_view json);

// Flag payloads (PT 10): a 4-byte big-endian u32.
enum class FlagValue : std::uint32_t {
  disconnect_to_port = 1,
  terminate_session = 2,
  connect_to_port_error = 3,
};
std::string encode_flag(std::uint32_t value);
Result<std::uint32_t> decode_flag(std::string_view payload);

// ExitCode payloads (PT 12): ASCII "EXIT_CODE: <n>".
std::string encode_exit_code(int code);
Result<int> decode_exit_code(std::string_view payload);

}  // namespace mocksvc::wire
