// NonInteractiveCommands with the emulated interpreter, and the handshake every such session
// (and every Port session) goes through.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "mocksvc/wire/payloads.hpp"
#include "tests/agent/harness.hpp"

namespace mocksvc::agent::test {
namespace {

using wire::PayloadType;

// `s` as the inside of a JSON string.
std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string commands_doc(std::string_view commands, bool separate = true, std::string_view prefixes = "") {
  std::string linux_props = R"({"commands":")" + json_escape(commands) + R"(","separateOutputStream":)" +
                            (separate ? "true" : "false") + std::string(prefixes) + "}";
  return document("NonInteractiveCommands", R"({"linux":)" + linux_props + "}");
}

const wire::Message* first_output(const Harness& h) {
  for (const auto& f : h.frames) {
    if (f.message_type == "output_stream_data") return &f;
  }
  return nullptr;
}

TEST(Commands, HandshakeRequestNamesTheSessionTypeWithNullProperties) {
  Harness h;
  h.start({}, commands_doc("true"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  const auto* req = first_output(h);
  ASSERT_NE(req, nullptr);
  EXPECT_EQ(req->sequence_number, 0);
  EXPECT_EQ(req->flags, 1u);
  EXPECT_EQ(req->payload_type, PayloadType::handshake_request);
  EXPECT_EQ(req->payload_text(),
            R"({"AgentVersion":"3.3.987.0","RequestedClientActions":[{"ActionType":"SessionType",)"
            R"("ActionParameters":{"SessionType":"NonInteractiveCommands","Properties":null}}]})");
  // Then HandshakeComplete as seq 1.
  ASSERT_GE(h.delivered.size(), 2u);
  EXPECT_EQ(h.delivered[1].payload_type, PayloadType::handshake_complete);
  EXPECT_EQ(h.delivered[1].sequence_number, 1);
  auto done = wire::parse_handshake_complete(h.delivered[1].payload_text());
  ASSERT_TRUE(done);
  EXPECT_GT(done->handshake_time_to_complete_ns, 0);
  EXPECT_EQ(done->customer_message, "");
}

TEST(Commands, StdoutStderrAndExitCodeTravelAsTheirOwnPayloadTypes) {
  Harness h;
  h.start({}, commands_doc("sh -c 'echo out; echo err >&2; echo err2 1>&2 && exit 3'"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "out\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "err\nerr2\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 3");
  EXPECT_EQ(h.end->final_status, "Success");
  EXPECT_TRUE(h.has_session_state("Terminating"));
  // Exit code is the last stream message.
  EXPECT_EQ(h.delivered.back().payload_type, PayloadType::exit_code);
}

TEST(Commands, CommandsAreExecdWithoutAShell) {
  Harness h;
  h.start({}, commands_doc("echo out; echo err >&2; exit 3 $HOME $((1+1))"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "out; echo err >&2; exit 3 $HOME $((1+1))\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 0");
  EXPECT_EQ(h.end->final_status, "Success");
}

TEST(Commands, ShellScriptsRunThroughTheEmulatedSh) {
  Harness h;
  h.start({}, commands_doc("/bin/sh -c 'x=6; echo $((x*7)) \"$(hostname)\"; false || exit 4'"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "42 ip-10-0-0-1\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 4");
}

TEST(Commands, BlankCommandsRunShWithEmptyStdin) {
  Harness h;
  h.start({}, commands_doc("  "));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 0");
  EXPECT_EQ(h.end->final_status, "Success");
}

TEST(Commands, AMissingProgramFailsToStartWithExecsError) {
  Harness h;
  h.start({}, commands_doc("exit 3"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  // With separate streams the agent sends EXIT_CODE: 1 first, then the error as StdErr.
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 1");
  EXPECT_EQ(h.text(PayloadType::std_err), "exec: \"exit\": executable file not found in $PATH");
  EXPECT_EQ(h.text(PayloadType::output), "");
  std::vector<PayloadType> order;
  for (const auto& m : h.delivered) {
    if (m.payload_type == PayloadType::exit_code || m.payload_type == PayloadType::std_err) {
      order.push_back(m.payload_type);
    }
  }
  EXPECT_EQ(order, (std::vector<PayloadType>{PayloadType::exit_code, PayloadType::std_err}));
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.end->output,
            "Error occurred starting the command: exec: \"exit\": executable file not found in $PATH\n");
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

TEST(Commands, AMissingPathFailsWithoutAnExitCodeWhenStreamsAreMerged) {
  Harness h;
  h.start({}, commands_doc("/opt/tools/run --now", false));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::std_err), "fork/exec /opt/tools/run: no such file or directory");
  EXPECT_EQ(h.text(PayloadType::exit_code), "");
  EXPECT_EQ(h.end->final_status, "Failed");
}

TEST(Commands, AnUnclosedQuoteFailsBeforeAnythingRuns) {
  Harness h;
  h.start({}, commands_doc("echo 'open"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  const std::string text =
      "Unable to start command: Failed to parse commands input: EOF found when expecting closing quote\n\n";
  EXPECT_EQ(h.text(PayloadType::std_err), text);
  EXPECT_EQ(h.text(PayloadType::exit_code), "");
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.end->output, text);
}

TEST(Commands, AnEmptyProgramNameOrCommentsAloneAreNoCommand) {
  for (const char* commands : {"'' --flag", "# nothing here"}) {
    Harness h;
    h.start({}, commands_doc(commands, false));
    ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); })) << commands;
    EXPECT_EQ(h.text(PayloadType::std_err), "exec: no command") << commands;
    EXPECT_EQ(h.end->final_status, "Failed") << commands;
  }
}

TEST(Commands, WithoutSeparateStreamsEverythingIsOutputAndNoExitCode) {
  Harness h;
  h.start({}, commands_doc("sh -c 'echo err >&2; echo out; echo err2 >&2; exit 3'", false));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "err\nout\nerr2\n");  // in the order written
  EXPECT_EQ(h.text(PayloadType::std_err), "");
  EXPECT_EQ(h.text(PayloadType::exit_code), "");
}

TEST(Commands, SeparatorPrefixesStartEachLine) {
  Harness h;
  h.start({}, commands_doc("sh -c 'echo a; echo b >&2'", true,
                           R"(,"stdOutSeparatorPrefix":"OUT:","stdErrSeparatorPrefix":"ERR:")"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "OUT:a\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "ERR:b\n");
}

TEST(Commands, InvalidPrefixFailsTheSession) {
  Harness h;
  h.start({}, commands_doc("echo a", true, R"(,"stdOutSeparatorPrefix":"STD@OUT")"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.end->output, "invalid stdoutSeparatorPrefix STD@OUT");
}

TEST(Commands, CtrlCInterruptsTheCommand) {
  Harness h;
  h.start({}, commands_doc("sh -c 'sleep 30; echo never'"));
  ASSERT_TRUE(h.run_until([&] {
    return !h.delivered.empty() && h.delivered.back().payload_type == PayloadType::handshake_complete;
  }));
  h.type("\x03");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: -1");  // killed by a signal, as Go reports it
  EXPECT_EQ(h.text(PayloadType::output), "");
}

TEST(Commands, InputIsNeverStdinButAControlByteAnywhereSignals) {
  Harness h;
  h.start({}, commands_doc("sh -c 'cat; echo cat-saw-eof; sleep 30'"));
  // cat reads an empty stdin at once; typed text goes nowhere.
  ASSERT_TRUE(h.run_until([&] { return h.text() == "cat-saw-eof\n"; }));
  h.type("typed\n");
  h.send(PayloadType::size, R"({"cols":80,"rows":24})");
  h.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(h.end.has_value());
  h.type("ab\x1c" "cd\x03");  // the first control byte decides: SIGQUIT
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(), "cat-saw-eof\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: -1");
}

TEST(Commands, OutputWaitsForTheHandshakeCompleteAck) {
  Harness h;
  std::optional<wire::Message> held;
  h.drop_to_agent = [&](const wire::Message& m) {
    if (m.message_type != "acknowledge" || held) return false;
    auto a = wire::parse_acknowledge(m.payload_text());
    if (!a || a->acknowledged_message_sequence_number != 1) return false;  // seq 1: HandshakeComplete
    held = m;
    return true;
  };
  h.start({}, commands_doc("echo quick"));
  ASSERT_TRUE(h.run_until([&] { return held.has_value(); }));
  h.run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(h.text(PayloadType::output), "");  // the command ran long ago; its output waits
  h.send_raw(*held);
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::output), "quick\n");
}

TEST(Commands, InputBeforeTheHandshakeIsAckedAndDiscarded) {
  Harness h;
  h.auto_handshake = false;
  h.start({}, commands_doc("sleep 30"));
  ASSERT_TRUE(h.run_until([&] { return !h.delivered.empty(); }));
  h.type("\x03");  // seq 0: acked, discarded, so it interrupts nothing
  ASSERT_TRUE(h.run_until([&] { return h.frames_of("acknowledge").size() == 1; }));
  wire::HandshakeResponse r;
  r.client_version = "1.2.677.0";
  r.processed_client_actions.push_back({"SessionType", 1, "null", ""});
  h.send(PayloadType::handshake_response, r.to_json());
  ASSERT_TRUE(h.run_until([&] { return h.delivered.size() >= 2; }));
  h.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(h.end.has_value());
  h.type("\x03");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: -1");
  EXPECT_EQ(h.agent().stats().discarded, 1u);
}

TEST(Commands, HandshakeTimeoutFailsTheSession) {
  Harness h;
  h.auto_handshake = false;
  SessionOptions o;
  o.handshake_timeout = std::chrono::milliseconds(200);
  h.start({}, commands_doc("true"), o);
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->reason, SessionEnd::Reason::failed);
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_NE(h.end->output.find("Handshake timed out"), std::string::npos);
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

TEST(Commands, AFailedHandshakeActionFailsTheSession) {
  Harness h;
  h.handshake_action_status = 2;
  h.start({}, commands_doc("echo never"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.text(PayloadType::output), "");
  for (const auto& m : h.delivered) EXPECT_NE(m.payload_type, PayloadType::handshake_complete);
}

}  // namespace
}  // namespace mocksvc::agent::test
