// Shell and stdio handlers in memory: Size first and on change, raw output, input, control keys
// and end of input (data-channel.md §9, §10.1, §10.3).
#include <gtest/gtest.h>

#include "mocksvc/client/shell.hpp"
#include "tests/client/fake_context.hpp"

namespace mocksvc::client::testing {
namespace {

using namespace std::chrono_literals;
using wire::PayloadType;

class FakeInput final : public InputSource {
 public:
  InputSink* sink = nullptr;
  int starts = 0;
  int stops = 0;
  void start(InputSink& s) override {
    sink = &s;
    ++starts;
  }
  void stop() override { ++stops; }
};

TEST(ShellHandler, SendsSizeFirstAndWhenTheTerminalChanges) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  TerminalSize size{80, 24};
  ShellHandler::Options o;
  o.terminal_size = [&] { return std::optional<TerminalSize>(size); };
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  ASSERT_EQ(ctx.sent.size(), 1u);
  EXPECT_EQ(ctx.sent[0].type, PayloadType::size);
  EXPECT_EQ(ctx.sent[0].payload, R"({"cols":80,"rows":24})");
  sched.advance(2s);
  EXPECT_EQ(ctx.sent.size(), 1u);  // unchanged: nothing more
  size = {132, 43};
  sched.advance(499ms);
  EXPECT_EQ(ctx.sent.size(), 1u);
  sched.advance(1ms);  // the next 500 ms poll
  ASSERT_EQ(ctx.sent.size(), 2u);
  EXPECT_EQ(ctx.sent[1].payload, R"({"cols":132,"rows":43})");
  shell.stop();
  size = {10, 10};
  sched.advance(2s);
  EXPECT_EQ(ctx.sent.size(), 2u);
}

TEST(ShellHandler, Reports300By100WhenStdoutIsNotATerminal) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ShellHandler::Options o;
  o.terminal_size = [] { return std::optional<TerminalSize>(); };
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  sched.advance(3s);
  EXPECT_EQ(ctx.of_type(PayloadType::size), (std::vector<std::string>{R"({"cols":300,"rows":100})"}));
}

TEST(ShellHandler, WritesEveryPayloadRaw) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  std::string out;
  ShellHandler::Options o;
  o.write = [&](std::string_view s) { out.append(s); };
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  shell.on_payload(PayloadType::output, "out\r\n");
  shell.on_payload(PayloadType::std_err, "err\n");
  shell.on_payload(PayloadType::exit_code, "EXIT_CODE: 3");
  EXPECT_EQ(out, "out\r\nerr\nEXIT_CODE: 3");
}

TEST(ShellHandler, ForwardsInputAndControlKeysAsBytes) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  auto input = std::make_unique<FakeInput>();
  FakeInput* in = input.get();
  ShellHandler::Options o;
  o.input = std::move(input);
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  ASSERT_EQ(in->starts, 1);
  in->sink->on_input("ls -l\r");
  EXPECT_TRUE(shell.on_control_signal(ControlSignal::interrupt));
  EXPECT_TRUE(shell.on_control_signal(ControlSignal::suspend));
  EXPECT_TRUE(shell.on_control_signal(ControlSignal::quit));
  EXPECT_EQ(ctx.output(), "ls -l\r\x03\x1a\x1c");
  EXPECT_EQ(ctx.sent.front().type, PayloadType::size);  // Size went out before any input
}

TEST(ShellHandler, EndsTheSessionAtEndOfInput) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  auto input = std::make_unique<FakeInput>();
  FakeInput* in = input.get();
  ShellHandler::Options o;
  o.input = std::move(input);
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  in->sink->on_input_eof();
  EXPECT_EQ(ctx.exit_code, 0);
  shell.stop();
  EXPECT_EQ(in->stops, 1);
}

TEST(ShellHandler, KeepsTheSessionAfterEndOfInputWhenAsked) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  ShellHandler::Options o;
  o.keep_session_after_eof = true;
  ShellHandler shell(std::move(o));
  shell.start(ctx);
  shell.on_input_eof();
  EXPECT_FALSE(ctx.exit_code);
}

TEST(StdioPortHandler, ForwardsBothWaysWithoutSize) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  std::string out;
  StreamHandlerOptions o;
  o.write = [&](std::string_view s) { out.append(s); };
  StdioPortHandler port(std::move(o));
  EXPECT_FALSE(port.accepts_stream_data());  // the plugin's streams are not set before start
  port.start(ctx);
  EXPECT_TRUE(port.accepts_stream_data());
  port.on_input("SSH-2.0-OpenSSH_9.2\r\n");
  port.on_payload(PayloadType::output, "SSH-2.0-OpenSSH_8.7\r\n");
  EXPECT_EQ(ctx.output(), "SSH-2.0-OpenSSH_9.2\r\n");
  EXPECT_TRUE(ctx.of_type(PayloadType::size).empty());
  EXPECT_EQ(out, "SSH-2.0-OpenSSH_8.7\r\n");
  port.on_input_eof();
  EXPECT_EQ(ctx.exit_code, 0);
}

TEST(StdioPortHandler, EndsWithTheTerminateFlagOnControlKeys) {
  ManualScheduler sched;
  FakeContext ctx(sched);
  StdioPortHandler port(StreamHandlerOptions{});
  port.start(ctx);
  EXPECT_TRUE(port.on_control_signal(ControlSignal::interrupt));
  EXPECT_EQ(ctx.printed, "Terminate signal received, exiting.\n");
  EXPECT_EQ(ctx.of_type(PayloadType::flag), (std::vector<std::string>{std::string("\0\0\0\2", 4)}));
  EXPECT_EQ(ctx.exit_code, 0);
}

}  // namespace
}  // namespace mocksvc::client::testing
