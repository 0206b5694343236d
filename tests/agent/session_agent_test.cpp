// The engine with the emulated shell: first frames, echo and commands, acks, duplicates,
// retransmission, pause/start publication, draining and the end of a session.
#include <gtest/gtest.h>

#include "mocksvc/wire/payloads.hpp"
#include "tests/agent/harness.hpp"

namespace mocksvc::agent::test {
namespace {

using wire::PayloadType;

const std::string kShellDoc = document("Standard_Stream");

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(SessionAgent, FirstFramesAreConnectedThenThePrompt) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.delivered.size() >= 1; }));
  ASSERT_GE(h.frames.size(), 2u);
  const auto& state = h.frames[0];
  EXPECT_EQ(state.message_type, "agent_session_state");
  EXPECT_EQ(state.sequence_number, 0);
  EXPECT_EQ(state.flags, 3u);
  EXPECT_EQ(state.payload_type, PayloadType::none);
  EXPECT_EQ(state.payload_text(), R"({"SchemaVersion":1,"SessionState":"Connected","SessionId":"sess-1"})");
  const auto& first = h.frames[1];
  EXPECT_EQ(first.message_type, "output_stream_data");
  EXPECT_EQ(first.sequence_number, 0);
  EXPECT_EQ(first.flags, 1u);  // SYN on seq 0 only
  EXPECT_EQ(first.payload_type, PayloadType::output);
  EXPECT_EQ(first.payload_text(), "$ ");
}

TEST(SessionAgent, ShellProfileRunsBeforeTheFirstPrompt) {
  Harness h;
  h.start({}, document("Standard_Stream", "{}", R"({"shellProfile":{"linux":"echo PROFILE-RAN","windows":""}})"));
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "PROFILE-RAN\r\n$ "); }));
  EXPECT_EQ(h.text(), "echo PROFILE-RAN\r\n$ PROFILE-RAN\r\n$ ");
}

TEST(SessionAgent, TypedCommandsAreEchoedAndRun) {
  Harness h;
  InstanceProfile p;
  p.hostname = "ip-172-31-5-9";
  h.start(p, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.send(PayloadType::size, R"({"cols":100,"rows":30})");
  h.type("echo hello world\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "hello world\r\n$ "); }));
  h.type("hostname; stty size; nosuch\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "not found\r\n$ "); }));
  EXPECT_EQ(h.text(),
            "$ echo hello world\r\nhello world\r\n$ hostname; stty size; nosuch\r\n"
            "ip-172-31-5-9\r\n30 100\r\nsh: 2: nosuch: not found\r\n$ ");
  // Every input message was acked by sequence number, with the agent's ack shape.
  ASSERT_TRUE(h.run_until([&] { return h.client().unacked_count() == 0; }));
  auto acks = h.frames_of("acknowledge");
  ASSERT_EQ(acks.size(), 3u);
  auto a = wire::parse_acknowledge(acks[0]->payload_text());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->acknowledged_message_type, "input_stream_data");
  EXPECT_EQ(a->acknowledged_message_sequence_number, 0);
  EXPECT_EQ(a->acknowledged_message_id, h.sent[0].message_id.to_string());
  EXPECT_EQ(acks[0]->flags, 3u);
}

TEST(SessionAgent, ExitSendsTerminatingAfterTheOutputDrainsThenReportsTheEnd) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.type("echo bye; exit 3\r");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->reason, SessionEnd::Reason::completed);
  EXPECT_EQ(h.end->final_status, "Success");  // the shell's exit code does not fail the task
  EXPECT_TRUE(ends_with(h.text(), "bye\r\n"));
  // Terminating is the last frame, and it went out before OnEnd ran.
  ASSERT_EQ(h.frames_at_end, h.frames.size());
  const auto& last = h.frames.back();
  EXPECT_EQ(last.message_type, "agent_session_state");
  EXPECT_EQ(last.payload_text(), R"({"SchemaVersion":1,"SessionState":"Terminating","SessionId":"sess-1"})");
  EXPECT_EQ(h.agent().stats().unacked, 0u);
}

TEST(SessionAgent, DrainGivesUpAfterTheTimeoutWhenNothingIsAcked) {
  Harness h;
  SessionOptions o;
  o.drain_timeout = std::chrono::milliseconds(300);
  h.start({}, kShellDoc, o);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.client_acks = false;
  h.type("exit\r");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 3s));
  EXPECT_TRUE(h.has_session_state("Terminating"));
  EXPECT_GT(h.agent().stats().unacked, 0u);
}

TEST(SessionAgent, DuplicateInputIsReackedButProcessedOnce) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.type("x");
  h.send_raw(h.sent.back());
  h.send_raw(h.sent.back());
  ASSERT_TRUE(h.run_until([&] { return h.frames_of("acknowledge").size() == 3; }));
  h.run_for(std::chrono::milliseconds(50));
  for (const auto* ack : h.frames_of("acknowledge")) {
    auto a = wire::parse_acknowledge(ack->payload_text());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->acknowledged_message_sequence_number, 0);
  }
  EXPECT_EQ(h.text(), "$ x");
  EXPECT_EQ(h.agent().stats().duplicates, 2u);
}

TEST(SessionAgent, OutOfOrderInputIsBufferedAndProcessedInOrder) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  bool held = true;
  h.drop_to_agent = [&](const wire::Message& m) {
    return held && m.message_type == "input_stream_data" && m.sequence_number == 0;
  };
  h.type("a");
  h.type("b");
  h.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(h.text(), "$ ");  // b waits for a
  held = false;                // the client's resend of seq 0 now gets through
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ ab"; }));
}

TEST(SessionAgent, LostOutputIsRetransmitted) {
  Harness h;
  int dropped = 0;
  h.drop_to_client = [&](const wire::Message& m) {
    if (m.message_type == "output_stream_data" && m.sequence_number == 0 && dropped < 2) {
      ++dropped;
      return true;
    }
    return false;
  };
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  EXPECT_EQ(dropped, 2);
  EXPECT_GE(h.agent().stats().resent, 2u);
  const auto outs = h.frames_of("output_stream_data");
  ASSERT_FALSE(outs.empty());
  EXPECT_EQ(outs[0]->flags, 1u);  // a resend keeps the SYN flag and the message id
}

TEST(SessionAgent, AClientNotReadyYetGetsTheOutputAgain) {
  Harness h;
  h.client_ready = false;  // the plugin's handler-not-ready window: no ack, no delivery
  h.start({}, kShellDoc);
  h.run_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(h.delivered.empty());
  h.client_ready = true;
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
}

TEST(SessionAgent, PausePublicationHoldsOutputUntilStartPublication) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.type("sleep 0.2; echo later\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "echo later\r\n"); }));
  // Acks clear a pause too, so let every ack land first.
  ASSERT_TRUE(h.run_until([&] { return h.agent().stats().unacked == 0; }));
  const auto before = h.frames_of("output_stream_data").size();
  h.send_raw(wire::make_message(wire::msg::kPausePublication, 0, 0, PayloadType::none, ""));
  h.run_for(std::chrono::milliseconds(500));
  EXPECT_EQ(h.frames_of("output_stream_data").size(), before);
  EXPECT_GT(h.agent().stats().queued, 0u);
  h.send_raw(wire::make_message(wire::msg::kStartPublication, 0, 0, PayloadType::none, ""));
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "later\r\n$ "); }));
}

TEST(SessionAgent, PauseAlsoStopsRetransmission) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.client_acks = false;
  h.type("echo x\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "x\r\n$ "); }));
  h.send_raw(wire::make_message(wire::msg::kPausePublication, 0, 0, PayloadType::none, ""));
  h.run_for(std::chrono::milliseconds(50));
  const auto resent = h.agent().stats().resent;
  h.run_for(std::chrono::milliseconds(600));
  EXPECT_EQ(h.agent().stats().resent, resent);
  h.send_raw(wire::make_message(wire::msg::kStartPublication, 0, 0, PayloadType::none, ""));
  ASSERT_TRUE(h.run_until([&] { return h.agent().stats().resent > resent; }));
}

TEST(SessionAgent, ChannelClosedStopsWithoutTerminating) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  wire::ChannelClosed cc;
  cc.message_id = "m";
  cc.session_id = "sess-1";
  cc.created_date = "2026-01-01T00:00:00.000Z";
  h.send_raw(wire::make_message(wire::msg::kChannelClosed, 0, 0, PayloadType::none, cc.to_json()));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->reason, SessionEnd::Reason::channel_closed);
  EXPECT_EQ(h.end->final_status, "Success");
  EXPECT_FALSE(h.has_session_state("Terminating"));
  const auto n = h.frames.size();
  h.type("echo after\r");
  h.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(h.frames.size(), n);  // nothing more, not even acks
}

TEST(SessionAgent, StopSendsNothingAndDoesNotReport) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.agent().stop();
  const auto n = h.frames.size();
  h.type("echo after\r");
  h.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(h.frames.size(), n);
  EXPECT_FALSE(h.end.has_value());
}

TEST(SessionAgent, LargeOutputArrivesWhole) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  h.type("seq 20000\r");
  std::string expected = "$ seq 20000\r\n";
  for (int i = 1; i <= 20000; ++i) expected += std::to_string(i) + "\r\n";
  expected += "$ ";
  ASSERT_TRUE(h.run_until([&] { return h.text().size() >= expected.size(); }, 10s));
  EXPECT_EQ(h.text(), expected);
  for (const auto& m : h.delivered) EXPECT_LE(m.payload.size(), 1024u);
}

TEST(SessionAgent, OutputNeverSplitsAUtf8Character) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  std::string word;
  for (int i = 0; i < 700; ++i) word += "\xC3\xA9";  // é: 1400 bytes, odd offsets are mid-char
  h.type("echo x" + word + "\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), word + "\r\n$ "); }));
  for (const auto& m : h.delivered) {
    ASSERT_FALSE(m.payload.empty());
    EXPECT_NE(m.payload.front() & 0xC0, 0x80) << "message starts inside a character";
  }
}

TEST(SessionAgent, BackPressureIsOnlyOnWhatTheClientHasNotAcked) {
  Harness h;
  SessionOptions o;
  o.backpressure_messages = 20;
  h.start({}, kShellDoc, o);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  // Acks are held back (not lost: the official client never acks a duplicate, so a lost ack
  // would stall the head forever), then released together.
  bool holding = true;
  std::vector<wire::Message> held;
  h.drop_to_agent = [&](const wire::Message& m) {
    if (!holding || m.message_type != "acknowledge") return false;
    held.push_back(m);
    return true;
  };
  h.type("seq 50000\r");
  h.run_for(std::chrono::milliseconds(300));
  auto s = h.agent().stats();
  // The emulated seq yields every 64 KB of output (about 70 messages after \r\n translation).
  EXPECT_GE(s.unacked, 20u);
  EXPECT_LE(s.unacked + s.queued, 20u + 80u);
  holding = false;
  for (const auto& m : held) h.send_raw(m);
  held.clear();
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "50000\r\n$ "); }, 20s));
}

TEST(SessionAgent, RefusedDocumentSendsNothing) {
  Harness h;
  h.start({}, R"({"schemaVersion":"2.0","sessionType":"Standard_Stream"})");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->reason, SessionEnd::Reason::bad_document);
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_TRUE(h.frames.empty());
}

TEST(SessionAgent, GarbageFramesAreCountedAndIgnored) {
  Harness h;
  h.start({}, kShellDoc);
  ASSERT_TRUE(h.run_until([&] { return h.text() == "$ "; }));
  boost::asio::post(h.strand(), [&] {
    h.agent().on_frame(wire::Bytes{1, 2, 3});
    h.agent().on_frame(wire::Bytes(120, 0));
    h.agent().on_frame(wire::encode(wire::make_message("agent_job", 0, 0, PayloadType::none, "{}")));
  });
  h.type("echo ok\r");
  ASSERT_TRUE(h.run_until([&] { return ends_with(h.text(), "ok\r\n$ "); }));
  EXPECT_EQ(h.agent().stats().bad_frames, 3u);
}

TEST(SessionAgent, InteractiveCommandsRunTheCommandAndEnd) {
  Harness h;
  h.start({}, document("InteractiveCommands", R"({"linux":{"commands":"echo run-once; whoami"}})"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(), "run-once\r\nssm-user\r\n");
  EXPECT_TRUE(h.delivered.front().payload_type == PayloadType::output);  // no handshake
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

}  // namespace
}  // namespace mocksvc::agent::test
