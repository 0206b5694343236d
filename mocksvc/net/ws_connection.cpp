#include "mocksvc/net/ws_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/net/peer_done.hpp"

namespace mocksvc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using base::LogLevel;

template <class NextLayer>
WsConnection<NextLayer>::WsConnection(Ws ws, std::string description, WsLimits limits)
    : ws_(std::move(ws)),
      description_(std::move(description)),
      limits_(limits),
      wake_(ws_.get_executor(), asio::steady_timer::time_point::max()),
      drained_(ws_.get_executor(), asio::steady_timer::time_point::max()),
      keepalive_(ws_.get_executor()) {
  ws_.read_message_max(limits_.max_message_bytes);
  ws_.auto_fragment(false);
}

template <class NextLayer>
void WsConnection<NextLayer>::run(std::shared_ptr<broker::Inbound> inbound) {
  // The spawning lambdas own the connection while the coroutines run. Coroutines here take no
  // parameters and keep no shared_ptr locals: GCC 12 mishandles shared_ptr copies in frames
  // that Asio destroys while shutting down.
  inbound_ = std::move(inbound);
  auto self = this->shared_from_this();
  asio::co_spawn(ws_.get_executor(), [self]() { return self->read_messages(); }, asio::detached);
  asio::co_spawn(ws_.get_executor(), [self]() { return self->write_messages(); }, asio::detached);
}

template <class NextLayer>
void WsConnection<NextLayer>::start_keepalive(std::chrono::milliseconds every, std::string payload) {
  if (every.count() <= 0) return;
  asio::post(ws_.get_executor(), [self = this->shared_from_this(), every, payload = std::move(payload)] {
    self->keepalive_every_ = every;
    self->keepalive_payload_ = payload;
    self->send_keepalive();
  });
}

template <class NextLayer>
void WsConnection<NextLayer>::send_keepalive() {
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) return;
  }
  enqueue(Item{Ping{keepalive_payload_}}, 0);
  keepalive_.expires_after(keepalive_every_);
  keepalive_.async_wait([weak = this->weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!ec && self) self->send_keepalive();
  });
}

template <class NextLayer>
void WsConnection<NextLayer>::enqueue(Item item, std::size_t bytes) {
  bool wake = false;
  bool overflow = false;
  {
    std::lock_guard lock(mu_);
    if (closing_ || closed_) return;
    if (std::holds_alternative<broker::CloseSpec>(item.what)) closing_ = true;
    queued_bytes_ += bytes;
    overflow = queued_bytes_ > limits_.hard_limit_bytes;
    queue_.push_back(std::move(item));
    if (writer_waiting_) {
      writer_waiting_ = false;
      wake = true;
    }
  }
  if (overflow) {
    base::log(LogLevel::warn, "net", description_, ": peer stopped reading (", limits_.hard_limit_bytes,
              " bytes queued), dropping the connection");
    abort_transport();
    return;
  }
  if (wake) asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->wake_.cancel(); });
}

template <class NextLayer>
void WsConnection<NextLayer>::send_binary(wire::Bytes frame) {
  const auto n = frame.size();
  enqueue(Item{std::move(frame)}, n);
}

template <class NextLayer>
void WsConnection<NextLayer>::send_text(std::string text) {
  const auto n = text.size();
  enqueue(Item{std::move(text)}, n);
}

template <class NextLayer>
void WsConnection<NextLayer>::close(broker::CloseSpec spec) {
  if (spec.kind == broker::CloseSpec::Kind::abrupt) {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    abort_transport();
    return;
  }
  enqueue(Item{std::move(spec)}, 0);
}

template <class NextLayer>
void WsConnection<NextLayer>::abort_transport() {
  asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
    auto& sock = beast::get_lowest_layer(self->ws_).socket();
    boost::system::error_code ec;
    sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
    self->wake_.cancel();
  });
}

template <class NextLayer>
std::size_t WsConnection<NextLayer>::queued_bytes() const {
  std::lock_guard lock(mu_);
  return queued_bytes_;
}

template <class NextLayer>
void WsConnection<NextLayer>::when_drained(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!closed_ && queued_bytes_ > limits_.low_water_bytes) {
      drain_waiters_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

template <class NextLayer>
void WsConnection<NextLayer>::mark_closed() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    closing_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    waiters.swap(drain_waiters_);
  }
  for (auto& w : waiters) w();
  wake_.cancel();
  drained_.cancel();
  keepalive_.cancel();
}

template <class NextLayer>
asio::awaitable<void> WsConnection<NextLayer>::read_messages() {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    co_await ws_.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const auto data = buffer.cdata();
    if (ws_.got_text()) {
      inbound_->on_text(std::string_view(static_cast<const char*>(data.data()), data.size()));
    } else {
      inbound_->on_binary(wire::ByteView(static_cast<const std::uint8_t*>(data.data()), data.size()));
    }
    buffer.consume(buffer.size());
    if (auto target = inbound_->congested()) {
      drained_.expires_at(asio::steady_timer::time_point::max());
      std::weak_ptr<WsConnection> weak = this->shared_from_this();
      target->when_drained([weak] {
        if (auto s = weak.lock()) asio::post(s->ws_.get_executor(), [s] { s->drained_.cancel(); });
      });
      boost::system::error_code wait_ec;
      co_await drained_.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
    }
  }
  // After our own close frame, Beast ends the pending read with operation_aborted.
  const bool clean = ec == websocket::error::closed || (close_sent_ && ec == asio::error::operation_aborted);
  if (!is_peer_done(ec))
    base::log(LogLevel::debug, "net", description_, ": read ended: ", ec.message());
  const auto& reason = ws_.reason();
  std::string why = clean ? "close " + std::to_string(reason.code) +
                                (reason.reason.empty() ? "" : " " + std::string(reason.reason.data(), reason.reason.size()))
                          : ec.message();
  mark_closed();
  auto inbound = std::move(inbound_);
  inbound->on_closed(clean, why);
}

template <class NextLayer>
asio::awaitable<void> WsConnection<NextLayer>::write_one(Item& item, boost::system::error_code& ec) {
  if (auto* frame = std::get_if<wire::Bytes>(&item.what)) {
    ws_.binary(true);
    co_await ws_.async_write(asio::buffer(*frame), asio::redirect_error(asio::use_awaitable, ec));
  } else if (auto* text = std::get_if<std::string>(&item.what)) {
    ws_.text(true);
    co_await ws_.async_write(asio::buffer(*text), asio::redirect_error(asio::use_awaitable, ec));
  } else if (auto* ping = std::get_if<Ping>(&item.what)) {
    websocket::ping_data data(ping->payload.substr(0, websocket::ping_data::static_capacity));
    co_await ws_.async_ping(data, asio::redirect_error(asio::use_awaitable, ec));
  }
}

template <class NextLayer>
asio::awaitable<void> WsConnection<NextLayer>::write_messages() {
  auto size_of = [](const Item& item) -> std::size_t {
    if (auto* frame = std::get_if<wire::Bytes>(&item.what)) return frame->size();
    if (auto* text = std::get_if<std::string>(&item.what)) return text->size();
    return 0;
  };
  auto is_data = [](const Item& item) {
    return std::holds_alternative<wire::Bytes>(item.what) || std::holds_alternative<std::string>(item.what);
  };
  std::vector<Item> batch;
  for (;;) {
    // Everything queued now, up to the batch limits, goes out in one write; a ping or a close
    // goes alone.
    batch.clear();
    std::size_t bytes = 0;
    {
      std::lock_guard lock(mu_);
      if (closed_) co_return;
      while (!queue_.empty() && batch.size() < limits_.batch_messages) {
        const bool data = is_data(queue_.front());
        if (!batch.empty() && (!data || bytes >= limits_.batch_bytes)) break;
        bytes += size_of(queue_.front());
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (!data) break;
      }
      if (batch.empty()) writer_waiting_ = true;
    }
    if (batch.empty()) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    boost::system::error_code ec;
    if (auto* spec = std::get_if<broker::CloseSpec>(&batch.front().what)) {
      websocket::close_reason reason(static_cast<websocket::close_code>(spec->code), spec->reason);
      close_sent_ = true;
      co_await ws_.async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
      co_return;  // the reader sees the peer's close (or a timeout) and finishes the connection
    }
    if (batch.size() == 1) {
      co_await write_one(batch.front(), ec);
    } else {
      ws_.next_layer().cork();
      for (auto& item : batch) {
        co_await write_one(item, ec);
        if (ec) break;
      }
      boost::system::error_code flush_ec;
      co_await ws_.next_layer().async_flush(asio::redirect_error(asio::use_awaitable, flush_ec));
      if (!ec) ec = flush_ec;
    }
    std::vector<std::function<void()>> waiters;
    {
      std::lock_guard lock(mu_);
      queued_bytes_ -= std::min(queued_bytes_, bytes);
      if (queued_bytes_ <= limits_.low_water_bytes) waiters.swap(drain_waiters_);
    }
    for (auto& w : waiters) w();
    if (ec) {
      if (!is_peer_done(ec)) base::log(LogLevel::debug, "net", description_, ": write failed: ", ec.message());
      abort_transport();
      co_return;
    }
  }
}

template class WsConnection<beast::tcp_stream>;
template class WsConnection<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace mocksvc::net
