// A stream layer under Beast's WebSocket stream that lets a connection's writer hand several
// WebSocket messages to the transport in one write. Between cork() and async_flush(), writes are
// copied into a buffer and complete at once; the flush writes the buffer in one call. An ack and
// the output that follows it then cost the sender one system call and the peer one read, where
// they cost two of each before.
//
// Outside a cork, writes pass straight through (no copy). Writes that Beast makes on its own
// (pongs, close frames) while a flush is in flight queue behind it and are never interleaved
// with it; teardown waits until everything queued is written, so a close frame is never cut off.
// Single-threaded: every call comes from the stream's executor (a strand).
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace mocksvc::net {

template <class Next>
class WriteCoalescer {
  struct State : std::enable_shared_from_this<State> {
    explicit State(Next&& n) : next(std::move(n)) {}
    Next next;
    std::vector<unsigned char> pending;   // written by callers, not yet handed to `next`
    std::vector<unsigned char> flushing;  // in the write to `next` now
    bool corked = false;
    bool busy = false;  // a write to `next` is in flight
    boost::system::error_code error;
    std::vector<std::function<void()>> on_idle;

    bool idle() const { return !busy && pending.empty(); }

    void after_write() {
      if (!pending.empty() && !error && !corked) {
        start_flush();
        return;
      }
      if (error) pending.clear();
      if (!busy && pending.empty()) {
        auto waiters = std::move(on_idle);
        on_idle.clear();
        for (auto& w : waiters) w();
      }
    }

    void start_flush() {
      busy = true;
      flushing.swap(pending);
      pending.clear();
      boost::asio::async_write(next, boost::asio::buffer(flushing),
                               [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                                 self->busy = false;
                                 self->flushing.clear();
                                 if (ec && !self->error) self->error = ec;
                                 self->after_write();
                               });
    }

    // Runs `fn` once nothing is queued or in flight (now, if that is already so).
    void when_idle(std::function<void()> fn) {
      if (idle()) {
        fn();
        return;
      }
      on_idle.push_back(std::move(fn));
      if (!busy && !pending.empty()) {
        corked = false;
        if (error) {
          after_write();
        } else {
          start_flush();
        }
      }
    }
  };

 public:
  using executor_type = typename Next::executor_type;
  using next_layer_type = Next;

  explicit WriteCoalescer(Next&& next) : s_(std::make_shared<State>(std::move(next))) {}

  executor_type get_executor() noexcept { return s_->next.get_executor(); }
  Next& next_layer() noexcept { return s_->next; }
  const Next& next_layer() const noexcept { return s_->next; }

  // Writes from now on are gathered until async_flush().
  void cork() { s_->corked = true; }

  // Ends the cork and completes, with the first write error if there was one, once everything
  // written so far has been handed to the transport.
  template <class Token>
  auto async_flush(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [](auto handler, std::shared_ptr<State> s) {
          s->corked = false;
          auto held = std::make_shared<decltype(handler)>(std::move(handler));
          s->when_idle([held, s] {
            auto ex = boost::asio::get_associated_executor(*held, s->next.get_executor());
            boost::asio::post(ex, [h = std::move(*held), ec = s->error]() mutable { std::move(h)(ec); });
          });
        },
        token, s_);
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return s_->next.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [](auto handler, std::shared_ptr<State> s, const ConstBuffers& b) { write(std::move(s), std::move(handler), b); },
        token, s_, buffers);
  }

  // Beast's teardown (websocket/teardown.hpp), after everything queued is written.
  template <class Handler>
  void teardown_when_idle(boost::beast::role_type role, Handler&& handler) {
    auto held = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    s_->when_idle([held, role, s = s_] {
      using boost::beast::websocket::async_teardown;
      async_teardown(role, s->next, std::move(*held));
    });
  }

 private:
  template <class Handler, class ConstBuffers>
  static void write(std::shared_ptr<State> s, Handler handler, const ConstBuffers& buffers) {
    if (!s->corked && s->idle() && !s->error) {
      s->busy = true;
      auto& next = s->next;
      next.async_write_some(buffers, [s = std::move(s), h = std::move(handler)](boost::system::error_code ec,
                                                                               std::size_t n) mutable {
        s->busy = false;
        if (ec && !s->error) s->error = ec;
        s->after_write();
        std::move(h)(ec, n);
      });
      return;
    }
    const boost::system::error_code ec = s->error;
    std::size_t n = 0;
    if (!ec) {
      n = boost::asio::buffer_size(buffers);
      const std::size_t at = s->pending.size();
      s->pending.resize(at + n);
      boost::asio::buffer_copy(boost::asio::buffer(s->pending.data() + at, n), buffers);
    }
    // Gathered data goes out when the cork ends, or when the write in flight finishes.
    if (!s->corked && !s->busy && !s->pending.empty()) s->start_flush();
    auto ex = boost::asio::get_associated_executor(handler, s->next.get_executor());
    boost::asio::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
  }

  std::shared_ptr<State> s_;
};

template <class Next>
void teardown(boost::beast::role_type role, WriteCoalescer<Next>& stream, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Next, class TeardownHandler>
void async_teardown(boost::beast::role_type role, WriteCoalescer<Next>& stream, TeardownHandler&& handler) {
  stream.teardown_when_idle(role, std::forward<TeardownHandler>(handler));
}

}  // namespace mocksvc::net
