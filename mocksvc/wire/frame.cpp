#include "mocksvc/wire/frame.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/base/sha256.hpp"

namespace mocksvc::wire {
namespace {

constexpr std::size_t kOffType = 4;
constexpr std::size_t kOffSchema = 36;
constexpr std::size_t kOffCreated = 40;
constexpr std::size_t kOffSeq = 48;
constexpr std::size_t kOffFlags = 56;
constexpr std::size_t kOffId = 64;
constexpr std::size_t kOffDigest = 80;
constexpr std::size_t kOffPayloadType = 112;
constexpr std::size_t kOffPayloadLength = 116;

template <typename T>
T read_be(const std::uint8_t* p) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p[i]);
  return v;
}

template <typename T>
void write_be(std::uint8_t* p, T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  for (std::size_t i = sizeof(T); i-- > 0;) {
    p[i] = static_cast<std::uint8_t>(u & 0xff);
    u = static_cast<U>(u >> 8);
  }
}

bool is_exempt(std::string_view type) {
  return type == msg::kStartPublication || type == msg::kPausePublication;
}

}  // namespace

std::string_view to_string(PayloadType t) {
  switch (t) {
    case PayloadType::none: return "none";
    case PayloadType::output: return "Output";
    case PayloadType::error: return "Error";
    case PayloadType::size: return "Size";
    case PayloadType::parameter: return "Parameter";
    case PayloadType::handshake_request: return "HandshakeRequest";
    case PayloadType::handshake_response: return "HandshakeResponse";
    case PayloadType::handshake_complete: return "HandshakeComplete";
    case PayloadType::enc_challenge_request: return "EncChallengeRequest";
    case PayloadType::enc_challenge_response: return "EncChallengeResponse";
    case PayloadType::flag: return "Flag";
    case PayloadType::std_err: return "StdErr";
    case PayloadType::exit_code: return "ExitCode";
  }
  return "unknown";
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

Message make_message(std::string_view type, std::int64_t seq, std::uint64_t flags, PayloadType pt,
                     std::string_view payload) {
  Message m;
  m.message_type = std::string(type);
  m.created_date_ms = now_ms();
  m.sequence_number = seq;
  m.flags = flags;
  m.message_id = base::Uuid::random();
  m.payload_type = pt;
  m.set_payload(payload);
  return m;
}

std::array<std::uint8_t, 16> uuid_to_wire(const base::Uuid& u) {
  std::array<std::uint8_t, 16> w{};
  std::memcpy(w.data(), u.bytes.data() + 8, 8);
  std::memcpy(w.data() + 8, u.bytes.data(), 8);
  return w;
}

base::Uuid uuid_from_wire(std::span<const std::uint8_t, 16> w) {
  base::Uuid u;
  std::memcpy(u.bytes.data(), w.data() + 8, 8);
  std::memcpy(u.bytes.data() + 8, w.data(), 8);
  return u;
}

void encode_into(const Message& m, Bytes& out) {
  const std::size_t n = m.payload.size();
  out.resize(kMinFrameSize + n);
  std::uint8_t* p = out.data();
  write_be<std::uint32_t>(p, kHeaderLength);
  std::memset(p + kOffType, ' ', kMessageTypeSize);
  std::memcpy(p + kOffType, m.message_type.data(), std::min(m.message_type.size(), kMessageTypeSize));
  write_be<std::uint32_t>(p + kOffSchema, m.schema_version);
  write_be<std::uint64_t>(p + kOffCreated, m.created_date_ms);
  write_be<std::int64_t>(p + kOffSeq, m.sequence_number);
  write_be<std::uint64_t>(p + kOffFlags, m.flags);
  auto id = uuid_to_wire(m.message_id);
  std::memcpy(p + kOffId, id.data(), id.size());
  auto digest = base::sha256(ByteView(m.payload));
  std::memcpy(p + kOffDigest, digest.data(), digest.size());
  write_be<std::uint32_t>(p + kOffPayloadType, static_cast<std::uint32_t>(m.payload_type));
  write_be<std::uint32_t>(p + kOffPayloadLength, static_cast<std::uint32_t>(n));
  if (n) std::memcpy(p + kMinFrameSize, m.payload.data(), n);
}

Bytes encode(const Message& m) {
  Bytes out;
  encode_into(m, out);
  return out;
}

Result<Decoded> decode(ByteView frame, DecodeMode mode) {
  if (frame.size() < kMinFrameSize) return Error::frame_too_short;
  const std::uint8_t* p = frame.data();
  if (read_be<std::uint32_t>(p) != kHeaderLength) return Error::bad_header_length;
  const std::uint32_t payload_length = read_be<std::uint32_t>(p + kOffPayloadLength);
  if (payload_length != frame.size() - kMinFrameSize) return Error::payload_length_mismatch;

  Decoded d;
  // MessageType: the official peers right-pad with spaces; strip NULs and whitespace from both
  // ends in lenient mode, and only trailing spaces in strict mode.
  std::string_view raw(reinterpret_cast<const char*>(p + kOffType), kMessageTypeSize);
  auto is_pad = [](char c) { return c == ' ' || c == '\0' || c == '\t' || c == '\r' || c == '\n'; };
  std::size_t b = 0, e = raw.size();
  while (b < e && is_pad(raw[b])) ++b;
  while (e > b && is_pad(raw[e - 1])) --e;
  std::string_view type = raw.substr(b, e - b);
  if (type.empty()) return Error::empty_message_type;
  for (char c : type)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      return Error::bad_message_type;
  bool odd_padding = b != 0;
  for (std::size_t i = e; i < raw.size(); ++i)
    if (raw[i] != ' ') odd_padding = true;
  if (odd_padding) {
    if (mode == DecodeMode::strict) return Error::bad_message_type;
    d.leniency.nul_padding = true;
  }

  Message& m = d.message;
  m.message_type = std::string(type);
  m.schema_version = read_be<std::uint32_t>(p + kOffSchema);
  m.created_date_ms = read_be<std::uint64_t>(p + kOffCreated);
  m.sequence_number = read_be<std::int64_t>(p + kOffSeq);
  m.flags = read_be<std::uint64_t>(p + kOffFlags);
  m.message_id = uuid_from_wire(std::span<const std::uint8_t, 16>(p + kOffId, 16));
  std::memcpy(d.wire_digest.data(), p + kOffDigest, 32);
  m.payload_type = static_cast<PayloadType>(read_be<std::uint32_t>(p + kOffPayloadType));
  m.payload.assign(p + kMinFrameSize, p + frame.size());

  const bool exempt = is_exempt(m.message_type);
  if (m.created_date_ms == 0 && !exempt) return Error::zero_created_date;
  if (!exempt) {
    auto digest = base::sha256(ByteView(m.payload));
    if (!std::equal(digest.begin(), digest.end(), d.wire_digest.begin())) {
      if (mode == DecodeMode::strict) return Error::digest_mismatch;
      // ssm-session writes the first 32 characters of the hex digest instead of the raw bytes.
      std::string hex = base::to_hex(digest);
      bool hex_prefix = std::equal(d.wire_digest.begin(), d.wire_digest.end(), hex.begin(),
                                   [](std::uint8_t a, char c) { return a == static_cast<std::uint8_t>(c); });
      if (hex_prefix) {
        d.leniency.hex_digest = true;
      } else if (mode == DecodeMode::trusting) {
        d.leniency.digest_ignored = true;
      } else {
        return Error::digest_mismatch;
      }
    }
  }
  return d;
}

}  // namespace mocksvc::wire
