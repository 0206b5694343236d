// The scripted handler: matching output across payloads, timeouts, queued input, and a
// thousand sessions sharing one scheduler.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "mocksvc/client/scripted.hpp"
#include "tests/client/fake_context.hpp"
#include "tests/client/harness.hpp"

namespace mocksvc::client::testing {
namespace {

using namespace std::chrono_literals;
using wire::PayloadType;

TEST(ScriptedHandler, MatchesOutputSplitAcrossPayloads) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler h(sched);
  h.start(ctx);
  std::optional<bool> result;
  h.expect("hello world", 5s, [&](bool found) { result = found; });
  h.on_payload(PayloadType::output, "xx hel");
  h.on_payload(PayloadType::output, "lo wo");
  EXPECT_FALSE(result);
  h.on_payload(PayloadType::output, "rld!$ ");
  EXPECT_EQ(result, true);
  EXPECT_EQ(h.unconsumed(), "!$ ");
  EXPECT_EQ(h.bytes_received(), 17u);
}

TEST(ScriptedHandler, MatchesOutputThatArrivedBeforeTheExpectation) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler h(sched);
  h.start(ctx);
  h.on_payload(PayloadType::output, "sh-5.2$ ");
  bool found = false;
  h.expect("$ ", 1s, [&](bool f) { found = f; });
  EXPECT_TRUE(found);
  EXPECT_TRUE(h.unconsumed().empty());
}

TEST(ScriptedHandler, TimesOut) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler h(sched);
  h.start(ctx);
  std::optional<bool> result;
  h.expect("never", 2s, [&](bool f) { result = f; });
  sched.advance(1999ms);
  EXPECT_FALSE(result);
  sched.advance(1ms);
  EXPECT_EQ(result, false);
  h.on_payload(PayloadType::output, "never");  // too late: kept for the next expectation
  EXPECT_EQ(h.unconsumed(), "never");
}

TEST(ScriptedHandler, FailsThePendingExpectationWhenTheSessionEnds) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler h(sched);
  h.start(ctx);
  std::optional<bool> result;
  h.expect("x", 10s, [&](bool f) { result = f; });
  h.stop();
  EXPECT_EQ(result, false);
  std::optional<bool> after;
  h.expect("x", 10s, [&](bool f) { after = f; });
  EXPECT_EQ(after, false);
}

TEST(ScriptedHandler, QueuesInputUntilStartedAndSendsSizeFirst) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler h(sched);
  h.send("whoami\r");
  h.send_flag(wire::FlagValue::terminate_session);
  EXPECT_TRUE(ctx.sent.empty());
  h.start(ctx);
  ASSERT_EQ(ctx.sent.size(), 3u);
  EXPECT_EQ(ctx.sent[0].type, PayloadType::size);
  EXPECT_EQ(ctx.sent[1].payload, "whoami\r");
  EXPECT_EQ(ctx.sent[2].type, PayloadType::flag);
}

TEST(ScriptedHandler, BoundsOutputKeptWithoutAnExpectation) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ScriptedHandler::Options o;
  o.max_buffered = 10;
  ScriptedHandler h(sched, o);
  h.start(ctx);
  h.on_payload(PayloadType::output, "0123456789abcdef");
  EXPECT_EQ(h.unconsumed(), "6789abcdef");
}

TEST(ScriptedHandler, RunsAThousandSessionsOnOneScheduler) {
  constexpr int kSessions = 1000;
  ManualScheduler sched;
  struct One {
    std::unique_ptr<FakeService> service;
    std::unique_ptr<ClientSession> session;
    ScriptedHandler* handler = nullptr;
    bool done = false;
  };
  std::vector<One> all(kSessions);
  int completed = 0;
  for (int i = 0; i < kSessions; ++i) {
    One& one = all[static_cast<std::size_t>(i)];
    one.service = std::make_unique<FakeService>(sched, static_cast<std::uint32_t>(i));
    FakeService* svc = one.service.get();
    // The agent: a prompt after Size, then echo.
    svc->on_agent_input = [svc](PayloadType t, std::string_view p) {
      if (t == PayloadType::size) svc->send_output("$ ");
      if (t == PayloadType::output) svc->send_output(p);
    };
    SessionHooks hooks;
    hooks.dial = svc->dialer();
    hooks.control = svc->control_plane();
    hooks.make_handler = [&sched, &one, &completed](const SessionTypeInfo&) {
      ScriptedHandler::Options o;
      o.on_started = [&one, &completed](ScriptedHandler& h) {
        h.expect("$ ", 5s, [&h, &one, &completed](bool ok) {
          if (!ok) return;
          h.send("echo hi\r");
          h.expect("echo hi", 5s, [&one, &completed](bool ok2) {
            one.done = ok2;
            completed += ok2 ? 1 : 0;
          });
        });
      };
      auto h = std::make_unique<ScriptedHandler>(sched, std::move(o));
      one.handler = h.get();
      return h;
    };
    SessionConfig c = Harness::default_config();
    c.session_id = "sess-" + std::to_string(i);
    c.print_starting_line = false;
    one.session = std::make_unique<ClientSession>(sched, std::move(c), std::move(hooks));
    one.session->start();
  }
  sched.run_ready();
  for (auto& one : all) one.service->send_handshake_request("Standard_Stream", "");
  sched.advance(10ms);
  for (auto& one : all) one.service->send_handshake_complete();
  ASSERT_TRUE(sched.run_until([&] { return completed == kSessions; }, 5s));
  for (auto& one : all) {
    EXPECT_TRUE(one.done);
    EXPECT_EQ(one.session->stream().unacked_count(), 0u);
  }
}

}  // namespace
}  // namespace mocksvc::client::testing
