// The session frame ("ClientMessage" / "AgentMessage"): the one binary message layout used on
// data channels and control channels, in both directions (data-channel.md §5, agent.md §4).
//
//  offset size field           encoding
//  ------ ---- --------------- -----------------------------------------------------------------
//       0    4 HeaderLength    u32 BE, always 116 (= offset of PayloadLength)
//       4   32 MessageType     ASCII, left-aligned, right-padded with spaces (0x20)
//      36    4 SchemaVersion   u32 BE, 1
//      40    8 CreatedDate     u64 BE, milliseconds since the Unix epoch, never 0
//      48    8 SequenceNumber  i64 BE
//      56    8 Flags           u64 BE (bit 0 SYN, bit 1 FIN)
//      64   16 MessageId       UUID with halves swapped: [64,72) = UUID bytes 8..15,
//                              [72,80) = UUID bytes 0..7
//      80   32 PayloadDigest   SHA-256 of the payload
//     112    4 PayloadType     u32 BE (PayloadType below)
//     116    4 PayloadLength   u32 BE
//     120    n Payload
//
// Pure functions: no I/O, no state. Decoding never throws and never reads out of bounds.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/error.hpp"

namespace mocksvc::wire {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline constexpr std::uint32_t kHeaderLength = 116;
inline constexpr std::size_t kMinFrameSize = 120;
inline constexpr std::size_t kMessageTypeSize = 32;

// Message type strings (data-channel.md §5.1, agent.md §5).
namespace msg {
inline constexpr std::string_view kInputStreamData = "input_stream_data";
inline constexpr std::string_view kOutputStreamData = "output_stream_data";
inline constexpr std::string_view kAcknowledge = "acknowledge";
inline constexpr std::string_view kChannelClosed = "channel_closed";
inline constexpr std::string_view kStartPublication = "start_publication";
inline constexpr std::string_view kPausePublication = "pause_publication";
inline constexpr std::string_view kAgentSessionState = "agent_session_state";
inline constexpr std::string_view kInteractiveShell = "interactive_shell";
inline constexpr std::string_view kAgentTaskComplete = "agent_task_complete";
inline constexpr std::string_view kAgentTaskAcknowledge = "agent_task_acknowledge";
inline constexpr std::string_view kAgentJob = "agent_job";
inline constexpr std::string_view kAgentJobAck = "agent_job_ack";
inline constexpr std::string_view kAgentJobReply = "agent_job_reply";
inline constexpr std::string_view kAgentJobReplyAck = "agent_job_reply_ack";
}  // namespace msg

// PayloadType numbers (data-channel.md §5.3).
enum class PayloadType : std::uint32_t {
  none = 0,  // acknowledge, channel_closed, agent_session_state, control-channel messages
  output = 1,
  error = 2,
  size = 3,
  parameter = 4,
  handshake_request = 5,
  handshake_response = 6,
  handshake_complete = 7,
  enc_challenge_request = 8,
  enc_challenge_response = 9,
  flag = 10,
  std_err = 11,
  exit_code = 12,
};
std::string_view to_string(PayloadType t);

inline constexpr std::uint64_t kFlagSyn = 1;
inline constexpr std::uint64_t kFlagFin = 2;

struct Message {
  std::string message_type;
  std::uint32_t schema_version = 1;
  std::uint64_t created_date_ms = 0;
  std::int64_t sequence_number = 0;
  std::uint64_t flags = 0;
  base::Uuid message_id;
  PayloadType payload_type = PayloadType::none;
  Bytes payload;

  std::string_view payload_text() const {
    return {reinterpret_cast<const char*>(payload.data()), payload.size()};
  }
  void set_payload(std::string_view text) { payload.assign(text.begin(), text.end()); }
};

// Builds a message stamped with the current wall clock and a random message id.
Message make_message(std::string_view type, std::int64_t seq, std::uint64_t flags, PayloadType pt,
                     std::string_view payload);
std::uint64_t now_ms();

// What a lenient decode forgave (each false in strict mode, where they are errors).
struct Leniency {
  bool nul_padding = false;      // MessageType padded (on either side) with NULs, not right with spaces
  bool hex_digest = false;       // PayloadDigest held the first 32 hex characters of the SHA-256
  bool digest_ignored = false;   // PayloadDigest matched nothing and was accepted (trusting mode)
  bool any() const { return nul_padding || hex_digest || digest_ignored; }
};

enum class DecodeMode {
  strict,    // the official client and agent's framing only
  lenient,   // also what third-party clients send (ssm-api.md §5), reported in Leniency
  // lenient, and a digest that matches nothing is accepted too: the real agent never verifies
  // it (agent.md §4), and npm ssm-session sends unrelated digests for byte payloads. The
  // service and the agent side decode this way; the client side (like the official plugin,
  // data-channel.md §5) does not.
  trusting,
};

struct Decoded {
  Message message;
  Leniency leniency;
  // The 32 bytes found at offset 80, as sent (useful to faults and transcripts).
  std::array<std::uint8_t, 32> wire_digest{};
};

// Validation order: size >= 120, HeaderLength == 116, PayloadLength matches, MessageType
// non-empty and printable, CreatedDate != 0, digest. start_publication / pause_publication are
// exempt from the digest and date checks, as the official client exempts them.
Result<Decoded> decode(ByteView frame, DecodeMode mode = DecodeMode::strict);

// Encodes with HeaderLength 116, space padding and the SHA-256 digest of the payload.
// message_type longer than 32 bytes is cut at 32 (callers use the fixed names above).
Bytes encode(const Message& m);
void encode_into(const Message& m, Bytes& out);
// Frame-size helper: 120 + payload length.
inline std::size_t encoded_size(const Message& m) { return kMinFrameSize + m.payload.size(); }

// Wire form of a message id (halves swapped) and back.
std::array<std::uint8_t, 16> uuid_to_wire(const base::Uuid& u);
base::Uuid uuid_from_wire(std::span<const std::uint8_t, 16> w);

}  // namespace mocksvc::wire
