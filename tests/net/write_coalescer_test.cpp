// WriteCoalescer over a recording transport: what reaches the transport, in how many writes, in
// what order, and when teardown runs.
#include "mocksvc/net/write_coalescer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <algorithm>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// A transport that records every write and completes it on the next turn of the loop; `limit`
// caps how much one write_some takes, to exercise partial writes.
struct Recorder {
  asio::io_context* io = nullptr;
  std::vector<std::string>* writes = nullptr;
  std::vector<std::string>* events = nullptr;
  std::size_t limit = 1 << 20;
  error_code fail;

  using executor_type = asio::io_context::executor_type;
  executor_type get_executor() { return io->get_executor(); }

  template <class Buffers, class Handler>
  void async_write_some(const Buffers& b, Handler&& h) {
    std::string data(asio::buffer_size(b), '\0');
    asio::buffer_copy(asio::buffer(data), b);
    if (data.size() > limit) data.resize(limit);
    if (!fail) writes->push_back(data);
    asio::post(*io, [h = std::forward<Handler>(h), n = fail ? 0 : data.size(), ec = fail]() mutable {
      std::move(h)(ec, n);
    });
  }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers&, Handler&& h) {
    asio::post(*io, [h = std::forward<Handler>(h)]() mutable { std::move(h)(asio::error::eof, 0); });
  }
};

template <class Handler>
void async_teardown(boost::beast::role_type, Recorder& r, Handler&& h) {
  r.events->push_back("teardown");
  asio::post(*r.io, [h = std::forward<Handler>(h)]() mutable { std::move(h)(error_code{}); });
}

struct WriteCoalescerTest : ::testing::Test {
  asio::io_context io;
  std::vector<std::string> writes;
  std::vector<std::string> events;
  mocksvc::net::WriteCoalescer<Recorder> stream{Recorder{&io, &writes, &events, 1 << 20, {}}};

  void write(const std::string& s) {
    stream.async_write_some(asio::buffer(s), [this, s](error_code ec, std::size_t n) {
      events.push_back("wrote " + s + (ec ? " failed" : "") + " " + std::to_string(n));
    });
  }
  void flush() {
    stream.async_flush([this](error_code ec) { events.push_back(std::string("flushed") + (ec ? " failed" : "")); });
  }
  std::string all() const {
    std::string out;
    for (const auto& w : writes) out += w;
    return out;
  }
};

TEST_F(WriteCoalescerTest, UncorkedWritesPassStraightThrough) {
  write("one");
  io.run();
  EXPECT_EQ(writes, (std::vector<std::string>{"one"}));
  EXPECT_EQ(events, (std::vector<std::string>{"wrote one 3"}));
}

TEST_F(WriteCoalescerTest, CorkedWritesCompleteAtOnceAndLeaveInOneWrite) {
  stream.cork();
  write("ack|");
  write("output|");
  write("more");
  io.run();
  EXPECT_TRUE(writes.empty());  // nothing reaches the transport before the flush
  EXPECT_EQ(events.size(), 3u);
  io.restart();
  flush();
  io.run();
  EXPECT_EQ(writes, (std::vector<std::string>{"ack|output|more"}));
  EXPECT_EQ(events.back(), "flushed");
}

TEST_F(WriteCoalescerTest, WritesDuringAFlushQueueBehindItInOrder) {
  stream.cork();
  write("a");
  write("b");
  flush();
  write("c");  // a pong Beast writes while the flush is in flight
  write("d");
  io.run();
  EXPECT_EQ(all(), "abcd");
  EXPECT_EQ(writes, (std::vector<std::string>{"ab", "cd"}));
}

TEST_F(WriteCoalescerTest, PartialTransportWritesLoseNothing) {
  stream.next_layer().limit = 3;
  stream.cork();
  for (const char* s : {"0123", "4567", "89"}) write(s);
  flush();
  write("tail");
  io.run();
  EXPECT_EQ(all(), "0123456789tail");
}

TEST_F(WriteCoalescerTest, ATransportErrorFailsTheFlushAndLaterWrites) {
  stream.next_layer().fail = asio::error::connection_reset;
  stream.cork();
  write("x");
  flush();
  io.run();
  EXPECT_EQ(events.back(), "flushed failed");
  events.clear();
  io.restart();
  write("y");
  io.run();
  EXPECT_EQ(events, (std::vector<std::string>{"wrote y failed 0"}));
}

TEST_F(WriteCoalescerTest, TeardownWaitsForWhatIsQueued) {
  stream.cork();
  write("close-frame");
  stream.teardown_when_idle(boost::beast::role_type::server, [this](error_code) { events.push_back("torn down"); });
  io.run();
  ASSERT_EQ(writes, (std::vector<std::string>{"close-frame"}));
  // The transport's teardown comes only after the write that carried the close frame.
  auto at = [&](const std::string& e) { return std::find(events.begin(), events.end(), e) - events.begin(); };
  EXPECT_LT(at("wrote close-frame 11"), at("teardown"));
  EXPECT_EQ(events.back(), "torn down");
}

}  // namespace
