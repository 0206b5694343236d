#include "agentsim/control_messages.hpp"

#include <array>
#include <cstring>

#include "mocksvc/agent/document.hpp"

namespace ssmh::agentsim {

namespace wire = mocksvc::wire;

namespace {

// Offsets of the AgentMessage header fields (agent.md §4).
constexpr std::size_t kOffType = 4;
constexpr std::size_t kOffCreated = 40;
constexpr std::size_t kOffMessageId = 64;

template <typename T>
T read_be(const std::uint8_t* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p[i]);
  return v;
}

bool blank(char c) { return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

Outcome<AgentMessage> read_agent_message(wire::ByteView frame) {
  if (frame.size() < wire::kMinFrameSize) return failure<AgentMessage>("frame shorter than 120 bytes");
  const std::uint8_t* p = frame.data();
  const std::uint32_t header_length = read_be<std::uint32_t>(p);
  if (header_length == 0) return failure<AgentMessage>("HeaderLength is 0");
  std::string_view type(reinterpret_cast<const char*>(p + kOffType), wire::kMessageTypeSize);
  while (!type.empty() && blank(type.front())) type.remove_prefix(1);
  while (!type.empty() && blank(type.back())) type.remove_suffix(1);
  if (type.empty()) return failure<AgentMessage>("MessageType is empty");
  AgentMessage m;
  m.message_type = std::string(type);
  m.created_date_ms = read_be<std::uint64_t>(p + kOffCreated);
  if (m.created_date_ms == 0) return failure<AgentMessage>("CreatedDate is 0");
  std::array<std::uint8_t, 16> id{};
  std::memcpy(id.data(), p + kOffMessageId, id.size());
  m.message_id = wire::uuid_from_wire(id);
  const std::size_t payload_at = static_cast<std::size_t>(header_length) + 4;
  if (payload_at < frame.size())
    m.payload.assign(reinterpret_cast<const char*>(p + payload_at), frame.size() - payload_at);
  return success(std::move(m));
}

ControlEvent classify_control_frame(wire::ByteView frame) {
  auto m = read_agent_message(frame);
  if (!m) return Ignored{"undecodable frame: " + m.error()};
  if (m->message_type == wire::msg::kInteractiveShell) {
    auto envelope = wire::parse_mgs_payload(m->payload);
    if (!envelope) return Ignored{"interactive_shell with a bad envelope: " + envelope.error().message()};
    auto task = wire::parse_interactive_shell_task(envelope->content);
    if (!task) return Ignored{"interactive_shell with a bad task: " + task.error().message()};
    if (task->session_id.empty()) return Ignored{"interactive_shell without a SessionId"};
    // The real agent drops a document it cannot run without a word (§5.1).
    auto document = mocksvc::agent::parse_session_document(task->document_content_json);
    if (!document) return Ignored{"session " + task->session_id + " refused: " + document.error().message()};
    return StartSession{std::move(*task)};
  }
  if (m->message_type == wire::msg::kChannelClosed) {
    auto closed = wire::parse_channel_closed(m->payload);
    if (!closed) return Ignored{"channel_closed that does not parse: " + closed.error().message()};
    if (closed->session_id.empty()) return Ignored{"channel_closed without a SessionId"};
    return CloseSession{closed->session_id};
  }
  if (m->message_type == wire::msg::kAgentTaskAcknowledge) {
    auto ack = wire::parse_agent_task_acknowledge(m->payload);
    if (!ack) return Ignored{"agent_task_acknowledge that does not parse: " + ack.error().message()};
    return TaskAcknowledged{ack->message_id};
  }
  if (m->message_type == wire::msg::kAgentJob || m->message_type == wire::msg::kAgentJobReplyAck)
    return Ignored{m->message_type + ": Run Command is not simulated"};
  return Ignored{"invalid message type " + m->message_type};
}

wire::Bytes control_reply_frame(std::string_view message_type, const mocksvc::base::Uuid& message_id,
                                std::string_view payload) {
  wire::Message m = wire::make_message(message_type, 0, 0, wire::PayloadType::none, payload);
  m.message_id = message_id;
  return wire::encode(m);
}

std::string data_channel_setup_failure(std::string_view session_id, std::string_view why) {
  return "Setting up data channel with id " + std::string(session_id) + " failed: " + std::string(why);
}

}  // namespace ssmh::agentsim
