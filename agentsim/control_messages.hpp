// What the agent makes of a frame on its control channel and what it writes back (agent.md §4,
// §5): the agent's own lenient reading of an AgentMessage (digest not checked, payload = the
// bytes after HeaderLength + 4), interactive_shell / channel_closed / agent_task_acknowledge
// turned into typed events, and the agent_task_complete reply. Pure functions: no I/O, no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "agentsim/rsa_key.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace ssmh::agentsim {

struct AgentMessage {
  std::string message_type;
  std::uint64_t created_date_ms = 0;
  mocksvc::base::Uuid message_id;
  std::string payload;
};

// The agent's acceptance rules: at least 120 bytes, HeaderLength != 0, a MessageType that is
// not blank once NULs and whitespace are stripped, CreatedDate != 0. PayloadLength and the
// digest are not checked; the payload runs from HeaderLength + 4 to the end of the frame.
Outcome<AgentMessage> read_agent_message(mocksvc::wire::ByteView frame);

// interactive_shell whose document the agent accepts (schemaVersion "1.0", known session type).
struct StartSession {
  mocksvc::wire::InteractiveShellTask task;
};
// channel_closed: cancel that session.
struct CloseSession {
  std::string session_id;
};
// agent_task_acknowledge: stop resending the agent_task_complete with this MessageId.
struct TaskAcknowledged {
  std::string message_id;
};
// Everything the agent drops (with why, for the debug log): undecodable frames, unknown types,
// refused documents, agent_job (Run Command is not simulated).
struct Ignored {
  std::string why;
};
using ControlEvent = std::variant<StartSession, CloseSession, TaskAcknowledged, Ignored>;

ControlEvent classify_control_frame(mocksvc::wire::ByteView frame);

// A control-channel reply (agent_task_complete and friends): SchemaVersion 1, Seq 0, Flags 0,
// PayloadType 0, and the given MessageId so resends carry the same one (§4, §5.3).
mocksvc::wire::Bytes control_reply_frame(std::string_view message_type, const mocksvc::base::Uuid& message_id,
                                         std::string_view payload);

// How many times agent_task_complete is sent without an acknowledgement, 1 s apart (§5.3).
inline constexpr int kTaskCompleteSends = 3;

// "Setting up data channel with id <sid> failed: <why>": agent_task_complete Output when the
// data channel never opened (§5.3).
std::string data_channel_setup_failure(std::string_view session_id, std::string_view why);

}  // namespace ssmh::agentsim
