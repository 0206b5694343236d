#include <gtest/gtest.h>

#include <cstring>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/base/sha256.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::wire {
namespace {

Bytes from_hex(std::string_view h) { return *base::from_hex(h); }

// The acknowledge header the official client sent, captured on the wire (data-channel.md §5),
// followed by the 176-byte ack payload (an ack of an output_stream_data message 0..9).
const std::string kAckPayload =
    R"({"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"5f0d4d2a-9bb4-4e8b-9a41-0c1f6c2d7e11","AcknowledgedMessageSequenceNumber":3,"IsSequentialMessage":true})";

Bytes captured_ack_frame() {
  std::string header_hex =
      "00000074"
      "61636b6e6f776c65646765" +
      std::string(21 * 2, '0');
  for (std::size_t i = 0; i < 21; ++i) header_hex.replace(8 + 22 + 2 * i, 2, "20");
  header_hex +=
      "00000001"
      "000001a20c29a7b2"
      "0000000000000000"
      "0000000000000003"
      "be5e337b6fa403ba"
      "aab6886b3925401a";
  Bytes frame = from_hex(header_hex);
  auto digest = base::sha256(kAckPayload);
  frame.insert(frame.end(), digest.begin(), digest.end());
  Bytes tail = from_hex("00000000000000b0");
  frame.insert(frame.end(), tail.begin(), tail.end());
  frame.insert(frame.end(), kAckPayload.begin(), kAckPayload.end());
  return frame;
}

TEST(FrameCodec, DecodesCapturedOfficialClientAck) {
  Bytes frame = captured_ack_frame();
  ASSERT_EQ(frame.size(), 120u + 176u);
  auto d = decode(frame);
  ASSERT_TRUE(d) << d.error().message();
  const Message& m = d->message;
  EXPECT_EQ(m.message_type, "acknowledge");
  EXPECT_EQ(m.schema_version, 1u);
  EXPECT_EQ(m.created_date_ms, 0x000001a20c29a7b2u);
  EXPECT_EQ(m.sequence_number, 0);
  EXPECT_EQ(m.flags, 3u);
  EXPECT_EQ(m.message_id.to_string(), "aab6886b-3925-401a-be5e-337b6fa403ba");
  EXPECT_EQ(m.payload_type, PayloadType::none);
  EXPECT_EQ(m.payload.size(), 176u);
  EXPECT_FALSE(d->leniency.any());
  auto ack = parse_acknowledge(m.payload_text());
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->acknowledged_message_sequence_number, 3);
}

TEST(FrameCodec, ReencodesCapturedAckToTheSameBytes) {
  Bytes frame = captured_ack_frame();
  auto d = decode(frame);
  ASSERT_TRUE(d);
  EXPECT_EQ(encode(d->message), frame);
}

TEST(FrameCodec, RoundTripsEveryMessageAndPayloadType) {
  const std::string_view types[] = {msg::kInputStreamData, msg::kOutputStreamData, msg::kAcknowledge,
                                    msg::kChannelClosed, msg::kStartPublication, msg::kPausePublication,
                                    msg::kAgentSessionState, msg::kInteractiveShell, msg::kAgentTaskComplete,
                                    msg::kAgentTaskAcknowledge, msg::kAgentJob, msg::kAgentJobReplyAck};
  for (auto type : types) {
    for (std::uint32_t pt = 0; pt <= 12; ++pt) {
      Message m = make_message(type, 0x0102030405060708 + pt, pt % 4, static_cast<PayloadType>(pt),
                               std::string(pt * 37, static_cast<char>('a' + pt)));
      Bytes bytes = encode(m);
      ASSERT_EQ(bytes.size(), encoded_size(m));
      auto d = decode(bytes);
      ASSERT_TRUE(d) << type << " " << pt << ": " << d.error().message();
      EXPECT_EQ(d->message.message_type, type);
      EXPECT_EQ(d->message.sequence_number, m.sequence_number);
      EXPECT_EQ(d->message.flags, m.flags);
      EXPECT_EQ(d->message.created_date_ms, m.created_date_ms);
      EXPECT_EQ(d->message.message_id, m.message_id);
      EXPECT_EQ(d->message.payload_type, m.payload_type);
      EXPECT_EQ(d->message.payload, m.payload);
      EXPECT_EQ(encode(d->message), bytes);
    }
  }
}

TEST(FrameCodec, WritesSwappedUuidHalves) {
  Message m = make_message(msg::kOutputStreamData, 0, kFlagSyn, PayloadType::output, "x");
  m.message_id = *base::Uuid::parse("00112233-4455-6677-8899-aabbccddeeff");
  Bytes b = encode(m);
  EXPECT_EQ(base::to_hex(std::span(b).subspan(64, 16)), "8899aabbccddeeff0011223344556677");
}

TEST(FrameCodec, PadsMessageTypeWithSpaces) {
  Bytes b = encode(make_message(msg::kAcknowledge, 0, 3, PayloadType::none, ""));
  std::string type(reinterpret_cast<const char*>(b.data() + 4), 32);
  EXPECT_EQ(type, "acknowledge" + std::string(21, ' '));
}

struct Malformed {
  const char* name;
  std::function<void(Bytes&)> mutate;
  Error expected;
};

TEST(FrameCodec, RejectsEachMalformedInputWithItsError) {
  const Malformed cases[] = {
      {"empty", [](Bytes& b) { b.clear(); }, Error::frame_too_short},
      {"119 bytes", [](Bytes& b) { b.resize(119); }, Error::frame_too_short},
      {"header length 0", [](Bytes& b) { b[3] = 0; }, Error::bad_header_length},
      {"header length 120", [](Bytes& b) { b[3] = 120; }, Error::bad_header_length},
      {"payload length too big", [](Bytes& b) { b[119] = static_cast<std::uint8_t>(b[119] + 1); },
       Error::payload_length_mismatch},
      {"trailing byte", [](Bytes& b) { b.push_back(0); }, Error::payload_length_mismatch},
      {"payload cut short", [](Bytes& b) { b.pop_back(); }, Error::payload_length_mismatch},
      {"digest flipped", [](Bytes& b) { b[80] ^= 1; }, Error::digest_mismatch},
      {"payload flipped", [](Bytes& b) { b.back() ^= 1; }, Error::digest_mismatch},
      {"empty type", [](Bytes& b) { std::memset(b.data() + 4, ' ', 32); }, Error::empty_message_type},
      {"nul type", [](Bytes& b) { std::memset(b.data() + 4, 0, 32); }, Error::empty_message_type},
      {"control byte in type", [](Bytes& b) { b[6] = 0x01; }, Error::bad_message_type},
      {"zero created date", [](Bytes& b) { std::memset(b.data() + 40, 0, 8); }, Error::zero_created_date},
  };
  const Bytes good = encode(make_message(msg::kInputStreamData, 7, 0, PayloadType::output, "hello"));
  ASSERT_TRUE(decode(good));
  for (const auto& c : cases) {
    Bytes b = good;
    c.mutate(b);
    auto d = decode(b, DecodeMode::lenient);
    ASSERT_FALSE(d) << c.name;
    EXPECT_EQ(d.error(), make_error_code(c.expected)) << c.name << ": " << d.error().message();
  }
}

TEST(FrameCodec, PublicationMessagesSkipDigestAndDateChecks) {
  Message m = make_message(msg::kPausePublication, 0, 0, PayloadType::none, "");
  m.created_date_ms = 0;
  Bytes b = encode(m);
  std::memset(b.data() + 80, 0, 32);
  auto d = decode(b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->message.message_type, "pause_publication");
}

// npm ssm-session: type left-padded with NULs, digest = first 32 hex chars of the SHA-256.
Bytes ssm_session_style_frame(std::string_view payload) {
  Message m = make_message(msg::kInputStreamData, 1, 0, PayloadType::output, payload);
  Bytes b = encode(m);
  std::string type(msg::kInputStreamData);
  std::memset(b.data() + 4, 0, 32);
  std::memcpy(b.data() + 4 + 32 - type.size(), type.data(), type.size());
  std::string hex = base::to_hex(base::sha256(payload));
  std::memcpy(b.data() + 80, hex.data(), 32);
  return b;
}

TEST(FrameCodec, StrictModeRejectsThirdPartyFraming) {
  auto d = decode(ssm_session_style_frame("ls\r"), DecodeMode::strict);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), make_error_code(Error::bad_message_type));
}

TEST(FrameCodec, LenientModeAcceptsThirdPartyFramingAndSaysSo) {
  auto d = decode(ssm_session_style_frame("ls\r"), DecodeMode::lenient);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->message.message_type, "input_stream_data");
  EXPECT_EQ(d->message.payload_text(), "ls\r");
  EXPECT_TRUE(d->leniency.nul_padding);
  EXPECT_TRUE(d->leniency.hex_digest);
}

TEST(FrameCodec, LenientModeStillRejectsAWrongHexDigest) {
  Bytes b = ssm_session_style_frame("ls\r");
  b[80] = 'z';
  auto d = decode(b, DecodeMode::lenient);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), make_error_code(Error::digest_mismatch));
}

TEST(FrameCodec, TrustingModeAcceptsAnyDigestAndSaysSo) {
  Bytes b = ssm_session_style_frame("whoami\r");
  b[80] = 'z';  // what ssm-session sends for byte payloads: a digest of nothing in particular
  auto d = decode(b, DecodeMode::trusting);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(d->leniency.digest_ignored);
  EXPECT_FALSE(d->leniency.hex_digest);
  EXPECT_EQ(d->message.payload_text(), "whoami\r");
  // The framing checks still apply.
  b[3] = 0;
  EXPECT_EQ(decode(b, DecodeMode::trusting).error(), make_error_code(Error::bad_header_length));
}

TEST(FrameCodec, NeverReadsPastShortOrTruncatedInput) {
  // Every prefix of a valid frame fails cleanly (run under ASan in the asan preset).
  Bytes good = encode(make_message(msg::kOutputStreamData, 1, 0, PayloadType::output, "payload"));
  for (std::size_t n = 0; n < good.size(); ++n) {
    Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(decode(prefix, DecodeMode::lenient)) << n;
  }
}

}  // namespace
}  // namespace mocksvc::wire
