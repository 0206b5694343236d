// The engine against a scripted service on virtual time: what it writes, byte for byte where
// the official client's bytes are known (data-channel.md §4-§9).
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include <nlohmann/json.hpp>

#include "mocksvc/wire/payloads.hpp"
#include "tests/client/harness.hpp"

namespace mocksvc::client::testing {
namespace {

using wire::PayloadType;

std::vector<SeenFrame> stream_frames(const FakeService& s) {
  std::vector<SeenFrame> out;
  for (const auto& f : s.client_frames()) {
    if (f.message.message_type == wire::msg::kInputStreamData) out.push_back(f);
  }
  return out;
}

std::string handshake_response(const FakeService& s) {
  for (const auto& f : stream_frames(s)) {
    if (f.message.payload_type == PayloadType::handshake_response) {
      return std::string(f.message.payload_text());
    }
  }
  return {};
}

TEST(ClientSession, PrintsStartingLineThenSendsOpenDataChannel) {
  Harness h;
  h.start();
  EXPECT_EQ(h.out, "\nStarting session with SessionId: sess-1\n");
  ASSERT_EQ(h.service.dialed_urls().size(), 1u);
  EXPECT_EQ(h.service.dialed_urls()[0], kStreamUrl);
  ASSERT_EQ(h.service.open_frames().size(), 1u);
  const std::regex expected(
      R"(\{"MessageSchemaVersion":"1\.0","RequestId":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}","TokenValue":"token-1","ClientId":"3f2c8a34-7a43-4b5e-9d55-1c0f8e2a6b71","ClientVersion":"1\.2\.677\.0"\})");
  EXPECT_TRUE(std::regex_match(h.service.open_frames()[0], expected)) << h.service.open_frames()[0];
  EXPECT_TRUE(h.service.client_frames().empty());
  EXPECT_TRUE(h.session->connected());
}

TEST(ClientSession, UsesTheProcessClientIdAndConfiguredVersion) {
  Harness h;
  auto c = Harness::default_config();
  c.client_id.clear();
  c.client_version = "1.2.700.0";
  h.start(c);
  auto open = wire::parse_open_data_channel(h.service.open_frames().at(0));
  ASSERT_TRUE(open);
  EXPECT_EQ(open->client_id, process_client_id());
  EXPECT_EQ(open->client_version, "1.2.700.0");
  EXPECT_EQ(process_client_id(), process_client_id());
}

TEST(ClientSession, AcksHandshakeRequestThenAnswersPortWithExactBytes) {
  Harness h;
  h.start();
  h.service.send_handshake_request("Port",
                                   R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"8080"})");
  h.scheduler.advance(10ms);
  const auto& frames = h.service.client_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].message.message_type, "acknowledge");
  EXPECT_EQ(frames[0].message.flags, 3u);
  EXPECT_EQ(frames[0].message.sequence_number, 0);
  const auto& resp = frames[1].message;
  EXPECT_EQ(resp.message_type, "input_stream_data");
  EXPECT_EQ(resp.sequence_number, 0);
  EXPECT_EQ(resp.flags, 0u);
  EXPECT_EQ(resp.payload_type, PayloadType::handshake_response);
  EXPECT_EQ(resp.payload_text(),
            R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null})");
  EXPECT_EQ(h.session->session_type(), "Port");
  EXPECT_EQ(h.session->agent_version(), "3.3.987.0");

  h.service.send_handshake_complete();
  h.scheduler.advance(10ms);
  ASSERT_EQ(h.infos.size(), 1u);
  EXPECT_EQ(h.infos[0].session_type, "Port");
  EXPECT_EQ(nlohmann::json::parse(h.infos[0].properties_json),
            nlohmann::json::parse(R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"8080"})"));
  EXPECT_TRUE(h.recorder()->started);
}

TEST(ClientSession, AnswersNonInteractiveCommandsAndRunsTheShellHandler) {
  Harness h;
  h.start();
  h.service.send_handshake_request("NonInteractiveCommands", "");
  h.scheduler.advance(10ms);
  EXPECT_EQ(handshake_response(h.service),
            R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null})");
  h.service.send_handshake_complete();
  h.scheduler.advance(10ms);
  ASSERT_EQ(h.infos.size(), 1u);
  EXPECT_EQ(h.infos[0].session_type, "Standard_Stream");
  EXPECT_EQ(h.infos[0].requested_type, "NonInteractiveCommands");
  EXPECT_EQ(h.infos[0].properties_json, "null");
}

TEST(ClientSession, ReportsUnknownActionsWithThePluginsQuirk) {
  Harness h;
  h.start();
  h.service.send_handshake_request("Standard_Stream", "", "3.3.987.0", {{"Bogus", "{}"}});
  h.scheduler.advance(10ms);
  EXPECT_EQ(handshake_response(h.service),
            R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""},{"ActionType":"Bogus","ActionStatus":0,"ActionResult":3,"Error":"Unsupported action Bogus"}],"Errors":["Unsupported action Bogus"]})");
}

TEST(ClientSession, RefusesKmsEncryptionAsFailed) {
  Harness h;
  auto c = Harness::default_config();
  c.kms_error = "Error calling KMS GenerateDataKey API: no KMS here";
  h.start(c);
  h.service.send_handshake_request("Standard_Stream", "", "3.3.987.0",
                                   {{"KMSEncryption", R"({"KMSKeyId":"alias/ssm"})"}});
  h.scheduler.advance(10ms);
  EXPECT_EQ(handshake_response(h.service),
            R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""},{"ActionType":"KMSEncryption","ActionStatus":2,"ActionResult":null,"Error":"Failed to process action KMSEncryption: Error calling KMS GenerateDataKey API: no KMS here"}],"Errors":["Error calling KMS GenerateDataKey API: no KMS here"]})");
}

TEST(ClientSession, LegacyCliRefusesKmsWithTheUpgradeMessage) {
  Harness h;
  auto c = Harness::default_config();
  c.cli_upgrade_needed = true;
  h.start(c);
  h.service.send_handshake_request("Standard_Stream", "", "3.3.987.0",
                                   {{"KMSEncryption", R"({"KMSKeyId":"k"})"}});
  h.scheduler.advance(10ms);
  auto r = wire::parse_handshake_response(handshake_response(h.service));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->processed_client_actions.size(), 2u);
  EXPECT_EQ(r->processed_client_actions[1].error,
            "Failed to process action KMSEncryption: Installed version of CLI does not support "
            "Session Manager encryption feature. Please upgrade to the latest version of your "
            "CLI (e.g., AWS CLI).");
}

TEST(ClientSession, UnknownSessionTypeFailsAndEndsAtHandshakeComplete) {
  Harness h;
  h.start();
  h.service.send_handshake_request("Teleport", "");
  h.scheduler.advance(10ms);
  EXPECT_EQ(handshake_response(h.service),
            R"({"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":2,"ActionResult":null,"Error":"Failed to process action SessionType: Unknown session type Teleport"}],"Errors":["Unknown session type Teleport"]})");
  h.service.send_handshake_complete();
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Cannot perform start session: unable to determine SessionType\n"),
            std::string::npos);
}

TEST(ClientSession, PrintsCustomerMessageThenShellSendsSizeFirst) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.handshake("Standard_Stream", "", "This session is encrypted using AWS KMS.");
  EXPECT_EQ(h.out,
            "\nStarting session with SessionId: sess-1\nThis session is encrypted using AWS KMS.\n");
  auto frames = stream_frames(h.service);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].message.payload_type, PayloadType::handshake_response);
  EXPECT_EQ(frames[1].message.sequence_number, 1);
  EXPECT_EQ(frames[1].message.payload_type, PayloadType::size);
  EXPECT_EQ(frames[1].message.payload_text(), R"({"cols":300,"rows":100})");
  // The client acked HandshakeRequest (seq 0) and HandshakeComplete (seq 1).
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1}));
}

TEST(ClientSession, FirstOutputWithoutHandshakeMakesAShell) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.service.send_output("sh-5.2$ ");
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.session->session_type(), "Standard_Stream");
  EXPECT_TRUE(h.out.ends_with("sh-5.2$ "));
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0}));
  auto frames = stream_frames(h.service);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].message.payload_type, PayloadType::size);
  EXPECT_EQ(frames[0].message.sequence_number, 0);
}

TEST(ClientSession, NonOutputFirstMessageLeavesTheTypeUnset) {
  Harness h;
  h.start();
  h.service.send(PayloadType::std_err, "oops");
  h.scheduler.advance(10ms);
  EXPECT_TRUE(h.session->session_type().empty());
  EXPECT_TRUE(h.infos.empty());
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0}));
}

TEST(ClientSession, WritesShellOutputInOrderOverALossyReorderingLink) {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    Harness h(seed);
    h.use_shell = true;
    h.service.to_client = {.loss = 0.2, .duplicate = 0.2, .min_delay = 1ms, .max_delay = 60ms};
    // The client's acks travel without loss: the official client never re-acks a duplicate and
    // the agent resends only its oldest unacked message, so one lost client ack would stall
    // both ends for good (data-channel.md §7.1), whatever the client does.
    h.service.to_agent = {.loss = 0, .duplicate = 0.2, .min_delay = 1ms, .max_delay = 60ms};
    h.start();
    h.handshake();
    std::string expected;
    for (int i = 0; i < 200; ++i) {
      std::string line = "line " + std::to_string(i) + "\r\n";
      expected += line;
      h.service.send_output(line);
      h.scheduler.advance(2ms);
    }
    const std::string prefix = "\nStarting session with SessionId: sess-1\n";
    ASSERT_TRUE(h.wait_for([&] { return h.out == prefix + expected; }, 60s))
        << "seed " << seed << ": got " << h.out.size() << " bytes";
    EXPECT_EQ(h.session->stream().expected_incoming_seq(), 202);
    EXPECT_GT(h.session->stream().counters().duplicates_received, 0u);
    EXPECT_GT(h.service.agent_stream().counters().resent, 0u);
  }
}

TEST(ClientSession, AcksFutureMessagesButNeverDuplicates) {
  Harness h;
  h.use_shell = true;
  h.service.agent_resends = false;
  h.start();
  h.handshake();  // agent seq 0 and 1
  const auto acks_before = h.service.client_acks().size();

  auto m2 = wire::make_message("output_stream_data", 2, 0, PayloadType::output, "a");
  auto m3 = wire::make_message("output_stream_data", 3, 0, PayloadType::output, "b");
  auto m4 = wire::make_message("output_stream_data", 4, 0, PayloadType::output, "c");
  h.service.send_raw(m3);  // future: buffered and acked
  h.service.send_raw(m2);  // expected: acked, delivered with 3
  h.service.send_raw(m2);  // duplicate: no ack
  h.service.send_raw(m3);  // duplicate: no ack
  h.service.send_raw(m4);
  h.scheduler.advance(10ms);
  const auto acks = h.service.client_acks();
  EXPECT_EQ(std::vector<std::int64_t>(acks.begin() + static_cast<std::ptrdiff_t>(acks_before), acks.end()),
            (std::vector<std::int64_t>{3, 2, 4}));
  EXPECT_TRUE(h.out.ends_with("abc"));
  EXPECT_EQ(h.session->stream().counters().duplicates_received, 2u);
}

TEST(ClientSession, ResendsTheLateHeadOnEveryTick) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.handshake();
  h.service.agent_acks = false;
  h.session->handler();  // the shell
  auto* shell = dynamic_cast<ShellHandler*>(h.session->handler());
  ASSERT_NE(shell, nullptr);
  shell->on_input("ls\n");
  const std::int64_t seq = h.session->stream().next_outgoing_seq() - 1;
  h.scheduler.advance(1s);
  const auto copies = h.service.client_stream_frames(seq);
  ASSERT_GE(copies.size(), 8u);
  // First send, then one copy per 100 ms tick once older than the 200 ms RTO (§7.4).
  EXPECT_GT(copies[1].at - copies[0].at, 200ms);
  EXPECT_LE(copies[1].at - copies[0].at, 300ms);
  for (std::size_t i = 2; i < copies.size(); ++i) EXPECT_EQ(copies[i].at - copies[i - 1].at, 100ms);
  EXPECT_EQ(copies.back().message.message_id, copies.front().message.message_id);
}

TEST(ClientSession, WakesForResendsOnlyWhileSomethingIsUnacknowledged) {
  Harness h;
  h.use_shell = true;
  const TimePoint started = h.scheduler.now();
  h.start();
  h.handshake();
  h.scheduler.advance(1s);
  const std::size_t idle = h.scheduler.pending_timers();
  h.scheduler.advance(1s);
  EXPECT_EQ(h.scheduler.pending_timers(), idle);

  h.service.agent_acks = false;
  h.scheduler.advance(35ms);  // off the tick grid
  dynamic_cast<ShellHandler*>(h.session->handler())->on_input("x");
  h.scheduler.advance(5ms);  // the frame has reached the service, unacknowledged
  EXPECT_EQ(h.scheduler.pending_timers(), idle + 1);  // the resend tick
  const std::int64_t seq = h.session->stream().next_outgoing_seq() - 1;
  h.scheduler.advance(600ms);
  const auto copies = h.service.client_stream_frames(seq);
  ASSERT_GE(copies.size(), 3u);
  // Resends fall on the ticks the plugin's scheduler would have had since the start (§7.4).
  for (std::size_t i = 1; i < copies.size(); ++i) EXPECT_EQ((copies[i].at - started) % 100ms, 0ms) << i;

  h.service.agent_acks = true;  // the next resend is acknowledged
  h.scheduler.advance(1s);
  EXPECT_EQ(h.session->stream().unacked_count(), 0u);
  EXPECT_EQ(h.scheduler.pending_timers(), idle);
}

TEST(ClientSession, CallsTerminateSessionOnceAfter3000Resends) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.handshake();
  h.service.agent_acks = false;
  dynamic_cast<ShellHandler*>(h.session->handler())->on_input("x");
  h.scheduler.advance(299s);
  EXPECT_EQ(h.service.terminate_calls(), 0);
  h.scheduler.advance(10s);
  EXPECT_EQ(h.service.terminate_calls(), 1);
  h.scheduler.advance(30s);
  EXPECT_EQ(h.service.terminate_calls(), 1);
  EXPECT_FALSE(h.session->finished());
}

TEST(ClientSession, ReconnectsThroughResumeSessionKeepingSequenceNumbers) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.handshake();
  auto* shell = dynamic_cast<ShellHandler*>(h.session->handler());
  shell->on_input("a");
  h.service.send_output("A");
  h.scheduler.advance(50ms);
  const std::int64_t next_client_seq = h.session->stream().next_outgoing_seq();  // 3
  ASSERT_EQ(next_client_seq, 3);

  h.service.drop_connection();
  ASSERT_TRUE(h.wait_for([&] { return h.service.connections() == 2 && h.session->connected(); }));
  ASSERT_EQ(h.service.resume_calls().size(), 1u);
  EXPECT_EQ(h.session->counters().reconnects, 1u);
  ASSERT_EQ(h.service.dialed_urls().size(), 2u);
  EXPECT_EQ(h.service.dialed_urls()[1], kStreamUrl);
  ASSERT_EQ(h.service.open_frames().size(), 2u);
  auto first = wire::parse_open_data_channel(h.service.open_frames()[0]);
  auto second = wire::parse_open_data_channel(h.service.open_frames()[1]);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->token_value, "token-2");
  EXPECT_EQ(second->client_id, first->client_id);
  EXPECT_NE(second->request_id, first->request_id);

  shell->on_input("b");
  h.service.send_output("B");  // the agent continues its numbering (seq 3)
  h.scheduler.advance(50ms);
  auto frames = h.service.client_stream_frames(3);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].connection, 2);
  EXPECT_EQ(frames[0].message.payload_text(), "b");
  EXPECT_TRUE(h.out.ends_with("AB"));
  EXPECT_EQ(h.service.agent_received_output(), "ab");
}

TEST(ClientSession, NeedsFiveConsecutiveReadFailures) {
  Harness h;
  h.start();
  for (int i = 0; i < 4; ++i) h.service.fail_read();
  h.scheduler.advance(10ms);
  h.service.send_output("x");  // a good read resets the count
  h.scheduler.advance(10ms);
  for (int i = 0; i < 4; ++i) h.service.fail_read();
  h.scheduler.advance(10ms);
  EXPECT_TRUE(h.service.resume_calls().empty());
  h.service.fail_read();
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.service.resume_calls().size(), 1u);
}

TEST(ClientSession, DialsTheReturnedStreamUrlWhenConfiguredLikeThe2026Client) {
  Harness h;
  auto c = Harness::default_config();
  c.reconnect_target = ReconnectTarget::returned_url;
  h.service.resume_replies.push_back({false, "token-9", "wss://other.example/v1/data-channel/sess-1"});
  h.start(c);
  h.service.drop_connection();
  ASSERT_TRUE(h.wait_for([&] { return h.service.connections() == 2; }));
  EXPECT_EQ(h.service.dialed_urls().back(), "wss://other.example/v1/data-channel/sess-1");
  EXPECT_EQ(h.session->current_token(), "token-9");
}

TEST(ClientSession, RetriesWithDoublingDelaysFromASeededBase) {
  Harness h;
  for (int i = 0; i < 3; ++i) h.service.resume_replies.push_back(failed_call());
  h.start();
  const Duration d = h.session->retry_base_delay();
  EXPECT_GE(d, 100ms);
  EXPECT_LT(d, 200ms);
  h.service.drop_connection();
  ASSERT_TRUE(h.wait_for([&] { return h.service.connections() == 2; }));
  const auto& calls = h.service.resume_calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[1] - calls[0], d);
  EXPECT_EQ(calls[2] - calls[1], 2 * d);
  EXPECT_EQ(calls[3] - calls[2], 4 * d);

  Harness again;
  again.start();
  EXPECT_EQ(again.session->retry_base_delay(), d);  // same seed, same base
}

TEST(ClientSession, KeepsRunningDeadAfterSixFailedAttempts) {
  Harness h;
  for (int i = 0; i < 6; ++i) h.service.resume_replies.push_back(failed_call());
  h.start();
  h.service.drop_connection();
  h.scheduler.advance(30s);
  EXPECT_EQ(h.service.resume_calls().size(), 6u);
  EXPECT_EQ(h.session->counters().recoveries_given_up, 1u);
  EXPECT_FALSE(h.session->connected());
  EXPECT_FALSE(h.session->finished());

  Harness strict;
  for (int i = 0; i < 6; ++i) strict.service.resume_replies.push_back(failed_call());
  auto c = Harness::default_config();
  c.finish_when_reconnect_fails = true;
  strict.start(c);
  strict.service.drop_connection();
  strict.scheduler.advance(30s);
  EXPECT_EQ(strict.exit_code, 1);
}

TEST(ClientSession, RetriesTheInitialDialWithoutResume) {
  Harness h;
  h.service.fail_next_dials = 2;
  h.start();
  ASSERT_TRUE(h.wait_for([&] { return h.session->connected(); }));
  EXPECT_EQ(h.service.dialed_urls().size(), 3u);
  EXPECT_TRUE(h.service.resume_calls().empty());
  EXPECT_EQ(h.service.open_frames().size(), 1u);
}

TEST(ClientSession, EndsWhenResumeReturnsNoToken) {
  Harness h;
  h.service.resume_replies.push_back({});
  h.start();
  h.service.drop_connection();
  h.scheduler.advance(1s);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(h.out.ends_with("Session: sess-1 timed out.\n"));
}

TEST(ClientSession, PrintsExitingOnEmptyChannelClosed) {
  Harness h;
  h.start();
  h.handshake();
  h.service.send_channel_closed("");
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(h.out.ends_with("\n\nExiting session with sessionId: sess-1.\n\n"));
  EXPECT_TRUE(h.recorder()->stopped);
  EXPECT_EQ(h.service.transport_closes(), 1);
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1}));  // not acked
}

TEST(ClientSession, PrintsChannelClosedOutput) {
  Harness h;
  h.start();
  h.service.send_channel_closed("Session terminated by the administrator");
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(h.out.ends_with("\n\nSessionId: sess-1 : Session terminated by the administrator\n\n"));
}

TEST(ClientSession, ChannelClosedEndsASessionThatIsReconnecting) {
  Harness h;
  for (int i = 0; i < 3; ++i) h.service.resume_replies.push_back(failed_call());
  h.start();
  h.service.drop_connection();
  ASSERT_TRUE(h.wait_for([&] { return h.service.connections() == 2; }));
  h.service.send_channel_closed("");
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.exit_code, 0);
}

TEST(ClientSession, IgnoresPublicationMessagesAndInvalidFrames) {
  Harness h;
  h.use_shell = true;
  h.start();
  h.handshake();
  h.service.send_raw(wire::make_message("pause_publication", 0, 0, PayloadType::none, ""));
  h.service.send_raw(wire::make_message("start_publication", 0, 0, PayloadType::none, ""));
  auto bad = wire::encode(wire::make_message("output_stream_data", 2, 0, PayloadType::output, "evil"));
  bad[90] ^= 0xFF;  // digest mismatch: dropped without an ack
  h.service.send_bytes(bad);
  h.service.send_bytes(wire::Bytes(60, 0));  // shorter than a header
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(h.session->counters().frames_rejected, 2u);
  EXPECT_FALSE(h.session->finished());
  EXPECT_FALSE(h.out.ends_with("evil"));
  h.service.send_output("fine");
  h.scheduler.advance(10ms);
  EXPECT_TRUE(h.out.ends_with("fine"));
}

TEST(ClientSession, HandlerNotReadyWindowDropsUnackedUntilRetransmitted) {
  Harness h;
  h.use_shell = true;
  auto c = Harness::default_config();
  c.handler_start_delay = 50ms;
  h.start(c);
  h.service.send_handshake_request("Standard_Stream", "");
  h.scheduler.advance(10ms);
  h.service.send_handshake_complete();
  h.service.send_output("first ");  // seq 2: lands in the window
  h.service.send_output("second");  // seq 3: buffered and acked
  h.scheduler.advance(5ms);
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1, 3}));
  ASSERT_TRUE(h.wait_for([&] { return h.out.ends_with("first second"); }, 5s));
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1, 3, 2}));
  EXPECT_EQ(h.session->stream().counters().dropped_not_ready, 1u);
}

TEST(ClientSession, HandlerCanRefuseStreamDataBeforeSequencing) {
  Harness h;
  h.start();
  h.handshake("Port", R"({"type":"LocalPortForwarding"})");
  h.recorder()->accepts = false;
  h.service.agent_resends = false;
  h.service.send_output("dropped");
  h.service.send(PayloadType::output, "future");
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(h.session->counters().dropped_stream_not_set, 2u);
  EXPECT_EQ(h.session->stream().buffered_count(), 0u);
}

TEST(ClientSession, ChunksOutputAndRewritesALoneLineFeed) {
  Harness h;
  h.start();
  h.handshake();
  HandlerContext* ctx = h.recorder()->ctx;
  ASSERT_NE(ctx, nullptr);
  ctx->send_output(std::string(2500, 'z'));
  ctx->send_output("\n");
  ctx->send_output("a\n");
  h.scheduler.advance(10ms);
  std::vector<std::string> payloads;
  for (const auto& f : stream_frames(h.service)) {
    if (f.message.payload_type == PayloadType::output) payloads.emplace_back(f.message.payload_text());
  }
  ASSERT_EQ(payloads.size(), 5u);
  EXPECT_EQ(payloads[0].size(), 1024u);
  EXPECT_EQ(payloads[1].size(), 1024u);
  EXPECT_EQ(payloads[2].size(), 452u);
  EXPECT_EQ(payloads[3], "\r");
  EXPECT_EQ(payloads[4], "a\n");
}

TEST(ClientSession, DropsHandlerSendsWhileDisconnectedUnlessConfigured) {
  Harness h;
  for (int i = 0; i < 6; ++i) h.service.resume_replies.push_back(failed_call());
  h.start();
  h.handshake();
  h.service.drop_connection();
  h.scheduler.advance(10ms);
  const auto seq = h.session->stream().next_outgoing_seq();
  EXPECT_FALSE(h.recorder()->ctx->send_output("lost"));
  EXPECT_EQ(h.session->stream().next_outgoing_seq(), seq);
  EXPECT_EQ(h.session->counters().dropped_while_disconnected, 1u);

  Harness k;
  auto c = Harness::default_config();
  c.keep_input_while_disconnected = true;
  k.start(c);
  k.handshake();
  k.service.drop_connection();
  k.scheduler.advance(1ms);
  EXPECT_TRUE(k.recorder()->ctx->send_output("kept"));
  ASSERT_TRUE(k.wait_for([&] { return k.service.agent_received_output() == "kept"; }));
}

TEST(ClientSession, RoutesControlSignalsToTheHandler) {
  Harness h;
  h.use_shell = true;
  h.start();
  EXPECT_FALSE(h.session->on_control_signal(ControlSignal::interrupt));  // no handler yet
  h.handshake();
  EXPECT_TRUE(h.session->on_control_signal(ControlSignal::interrupt));
  EXPECT_TRUE(h.session->on_control_signal(ControlSignal::suspend));
  EXPECT_TRUE(h.session->on_control_signal(ControlSignal::quit));
  h.scheduler.advance(10ms);
  EXPECT_EQ(h.service.agent_received_output(), "\x03\x1a\x1c");
}

TEST(ClientSession, IgnoresEventsAfterDestruction) {
  Harness h;
  h.start();
  h.service.send_output("late");
  h.session.reset();
  h.scheduler.advance(1s);  // the delivery and the fake's timers find no session
  SUCCEED();
}

}  // namespace
}  // namespace mocksvc::client::testing
