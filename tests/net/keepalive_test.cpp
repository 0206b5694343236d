// Client keepalive pings, observed by a bare Beast server that counts them.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <future>
#include <thread>

#include "mocksvc/net/ws_client.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace mocksvc::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

struct NullInbound final : broker::Inbound {
  void on_text(std::string_view) override {}
  void on_binary(wire::ByteView) override {}
  void on_closed(bool, std::string_view) override {}
};

TEST(WsKeepalive, ClientPingsAtOnceAndThenEveryInterval) {
  asio::io_context server_io;
  asio::ip::tcp::acceptor acceptor(server_io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::promise<std::vector<std::string>> pings_seen;
  std::thread server([&] {
    std::vector<std::string> pings;
    asio::ip::tcp::socket sock(server_io);
    acceptor.accept(sock);
    websocket::stream<beast::tcp_stream> ws(std::move(sock));
    ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::ping) pings.emplace_back(payload);
      if (pings.size() == 3) beast::get_lowest_layer(ws).close();
    });
    ws.accept();
    beast::get_lowest_layer(ws).expires_after(10s);
    beast::flat_buffer buf;
    boost::system::error_code ec;
    while (!ec) ws.read(buf, ec);
    pings_seen.set_value(pings);
  });

  runtime::IoThreads io(1);
  io.start();
  WsConnectOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/";
  o.timeout = 5s;
  o.keepalive_interval = 20ms;
  auto strand = asio::make_strand(io.context());
  auto fut = asio::co_spawn(
      strand,
      [strand, o]() mutable {
        return connect_websocket(strand, std::move(o),
                                 [](std::shared_ptr<broker::Peer>) { return std::make_shared<NullInbound>(); });
      },
      asio::use_future);
  ASSERT_EQ(fut.wait_for(10s), std::future_status::ready);
  auto peer = fut.get();
  ASSERT_TRUE(peer) << peer.error();
  auto seen = pings_seen.get_future();
  ASSERT_EQ(seen.wait_for(10s), std::future_status::ready);
  auto pings = seen.get();
  ASSERT_EQ(pings.size(), 3u);
  for (const auto& p : pings) EXPECT_EQ(p, "keepalive");
  server.join();
  io.stop();
}

}  // namespace
}  // namespace mocksvc::net
