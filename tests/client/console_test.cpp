// The program's terminal plumbing: stdin in ≤1024-byte chunks from pipes and regular files,
// control signals, and the console handler factory.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "mocksvc/client/console.hpp"
#include "mocksvc/client/port.hpp"

namespace mocksvc::client {
namespace {

namespace asio = boost::asio;

struct Sink final : InputSink {
  std::vector<std::string> chunks;
  bool eof = false;
  void on_input(std::string_view b) override { chunks.emplace_back(b); }
  void on_input_eof() override { eof = true; }
  std::string all() const {
    std::string s;
    for (const auto& c : chunks) s += c;
    return s;
  }
};

bool run_until(asio::io_context& io, const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(2));
  }
  return true;
}

TEST(StdinSource, ReadsAPipeInChunksUntilEndOfInput) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int flags_before = ::fcntl(fds[0], F_GETFL);
  asio::io_context io;
  Sink sink;
  StdinSource source(io.get_executor(), fds[0]);
  source.start(sink);
  const std::string data(3000, 'q');
  ASSERT_EQ(::write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  ::close(fds[1]);
  ASSERT_TRUE(run_until(io, [&] { return sink.eof; }));
  EXPECT_EQ(sink.all(), data);
  for (const auto& c : sink.chunks) EXPECT_LE(c.size(), kMaxChunk);
  EXPECT_EQ(::fcntl(fds[0], F_GETFL), flags_before);  // non-blocking mode undone
  ::close(fds[0]);
}

TEST(StdinSource, ReadsARegularFileByPostedReads) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  const std::string data(2500, 'r');
  std::fwrite(data.data(), 1, data.size(), f);
  std::fflush(f);
  std::rewind(f);
  asio::io_context io;
  Sink sink;
  StdinSource source(io.get_executor(), ::fileno(f));
  source.start(sink);
  ASSERT_TRUE(run_until(io, [&] { return sink.eof; }));
  EXPECT_EQ(sink.chunks, (std::vector<std::string>{std::string(1024, 'r'), std::string(1024, 'r'),
                                                   std::string(452, 'r')}));
  std::fclose(f);
}

TEST(StdinSource, StopsWhenTheSinkStopsItMidDelivery) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  asio::io_context io;
  struct StoppingSink final : InputSink {
    StdinSource* source = nullptr;
    int inputs = 0;
    void on_input(std::string_view) override {
      ++inputs;
      source->stop();
    }
    void on_input_eof() override {}
  } sink;
  StdinSource source(io.get_executor(), fds[0]);
  sink.source = &source;
  source.start(sink);
  ASSERT_EQ(::write(fds[1], "a", 1), 1);
  ASSERT_TRUE(run_until(io, [&] { return sink.inputs == 1; }));
  ASSERT_EQ(::write(fds[1], "b", 1), 1);
  io.restart();
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sink.inputs, 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(SignalWatcher, MapsControlSignalsAndTermination) {
  asio::io_context io;
  std::vector<ControlSignal> controls;
  std::vector<int> terminations;
  SignalWatcher watcher(
      io.get_executor(), [&](ControlSignal s) { controls.push_back(s); },
      [&](int signo) { terminations.push_back(signo); });
  std::raise(SIGINT);
  ASSERT_TRUE(run_until(io, [&] { return controls.size() == 1; }));
  std::raise(SIGQUIT);
  ASSERT_TRUE(run_until(io, [&] { return controls.size() == 2; }));
  std::raise(SIGTSTP);
  ASSERT_TRUE(run_until(io, [&] { return controls.size() == 3; }));
  std::raise(SIGTERM);
  ASSERT_TRUE(run_until(io, [&] { return terminations.size() == 1; }));
  EXPECT_EQ(controls, (std::vector<ControlSignal>{ControlSignal::interrupt, ControlSignal::quit,
                                                  ControlSignal::suspend}));
  EXPECT_EQ(terminations, (std::vector<int>{SIGTERM}));
  EXPECT_EQ(control_signal_byte(ControlSignal::interrupt), 0x03);
  EXPECT_EQ(control_signal_byte(ControlSignal::suspend), 0x1A);
  EXPECT_EQ(control_signal_byte(ControlSignal::quit), 0x1C);
}

TEST(ConsoleHandlers, BuildsTheHandlerForEachSessionType) {
  asio::io_context io;
  ConsoleOptions o;
  o.strand = io.get_executor();
  auto factory = make_console_handler_factory(o);
  EXPECT_NE(dynamic_cast<ShellHandler*>(factory({"Standard_Stream", "InteractiveCommands", "null", ""}).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<StdioPortHandler*>(factory({"Port", "Port", R"({"portNumber":"22"})", "3.3.987.0"}).get()),
            nullptr);
  auto mux = factory({"Port", "Port", R"({"type":"LocalPortForwarding"})", "3.3.987.0"});
  auto* local = dynamic_cast<LocalPortHandler*>(mux.get());
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->mode(), PortMode::multiplexed);
  EXPECT_EQ(factory({"Other", "Other", "null", ""}), nullptr);
}

TEST(TerminalMode, ChangesNothingWithoutATerminal) {
  if (::isatty(STDIN_FILENO)) GTEST_SKIP() << "stdin is a terminal";
  EXPECT_FALSE(TerminalMode::enter());
  TerminalMode::restore();
}

}  // namespace
}  // namespace mocksvc::client
