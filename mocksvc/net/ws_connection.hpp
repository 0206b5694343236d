// One WebSocket connection, server or client side, as a broker::Peer: a per-connection outgoing
// queue with a single writer (Beast allows one write at a time), a reader that delivers every
// message to a broker::Inbound and pauses while the Inbound's target is congested. The writer
// hands every message queued at the time to the transport in one write (WriteCoalescer).
// Runs on the executor of its stream, which must be a strand; the Peer methods may be called
// from any thread. Instantiated in ws_connection.cpp for plain and TLS streams.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <variant>

#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/write_coalescer.hpp"

namespace mocksvc::net {

struct WsLimits {
  // Largest message accepted; Beast answers bigger ones with close code 1009.
  // The agent's control channel writes up to 142,000 bytes (agent.md §2.5); 4 MiB leaves room.
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  // Back-pressure marks for the outgoing queue.
  std::size_t high_water_bytes = 1024 * 1024;
  std::size_t low_water_bytes = 256 * 1024;
  // A peer that stops reading entirely is cut off past this many queued bytes.
  std::size_t hard_limit_bytes = 64 * 1024 * 1024;
  // The writer gathers at most this many queued messages, or this many bytes, into one write.
  std::size_t batch_messages = 64;
  std::size_t batch_bytes = 256 * 1024;
};

// NextLayer is the transport (TCP or TLS); the WebSocket runs on a WriteCoalescer over it, so
// build `Ws` from the transport and do the handshake on it before handing it over.
template <class NextLayer>
class WsConnection final : public broker::Peer,
                           public std::enable_shared_from_this<WsConnection<NextLayer>> {
 public:
  using Ws = boost::beast::websocket::stream<WriteCoalescer<NextLayer>>;

  WsConnection(Ws ws, std::string description, WsLimits limits);

  // Starts the reader and the writer. Call once, after the WebSocket handshake.
  void run(std::shared_ptr<broker::Inbound> inbound);
  // Sends a ping with `payload` now and then every `every` until the connection ends, as the
  // official client (every 5 min, data-channel.md §3.3) and agent (every 54 s, agent.md §2.4)
  // do. Pongs are consumed by the reader.
  void start_keepalive(std::chrono::milliseconds every, std::string payload);

  void send_binary(wire::Bytes frame) override;
  void send_text(std::string text) override;
  void close(broker::CloseSpec spec) override;
  std::size_t queued_bytes() const override;
  void when_drained(std::function<void()> fn) override;
  std::string describe() const override { return description_; }
  bool over_high_water() const { return queued_bytes() > limits_.high_water_bytes; }

 private:
  struct Ping {
    std::string payload;
  };
  struct Item {
    std::variant<wire::Bytes, std::string, broker::CloseSpec, Ping> what;
  };
  boost::asio::awaitable<void> read_messages();
  boost::asio::awaitable<void> write_messages();
  boost::asio::awaitable<void> write_one(Item& item, boost::system::error_code& ec);
  void enqueue(Item item, std::size_t bytes);
  void mark_closed();
  void send_keepalive();
  void abort_transport();

  Ws ws_;
  std::string description_;
  WsLimits limits_;
  boost::asio::steady_timer wake_;
  boost::asio::steady_timer drained_;
  boost::asio::steady_timer keepalive_;
  std::chrono::milliseconds keepalive_every_{0};
  std::string keepalive_payload_;
  std::shared_ptr<broker::Inbound> inbound_;  // set once by run(), released when reading ends
  bool close_sent_ = false;                    // writer side only

  mutable std::mutex mu_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  bool writer_waiting_ = false;
  bool closing_ = false;  // a close is queued or done: later sends are dropped
  bool closed_ = false;   // the transport is gone
  std::vector<std::function<void()>> drain_waiters_;
};

using PlainWs = WsConnection<boost::beast::tcp_stream>;
using TlsWs = WsConnection<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

extern template class WsConnection<boost::beast::tcp_stream>;
extern template class WsConnection<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

}  // namespace mocksvc::net
