#include "mocksvc/net/server.hpp"

#include <atomic>
#include <map>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/net/http_convert.hpp"
#include "mocksvc/net/peer_done.hpp"

namespace mocksvc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using base::LogLevel;

struct Server::Shared : std::enable_shared_from_this<Server::Shared> {
  asio::any_io_executor executor;
  ServerOptions options;
  ServerHandlers handlers;
  std::optional<asio::ssl::context> ssl;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::function<void()>> closers;

  Shared(asio::any_io_executor ex, ServerOptions o, ServerHandlers h)
      : executor(ex), options(std::move(o)), handlers(std::move(h)), acceptor(ex) {}

  std::uint64_t track(std::function<void()> closer) {
    std::lock_guard lock(mu);
    closers.emplace(++next_id, std::move(closer));
    return next_id;
  }
  void untrack(std::uint64_t id) {
    std::lock_guard lock(mu);
    closers.erase(id);
  }

  asio::awaitable<void> accept_connections();
  asio::awaitable<void> run_connection(tcp::socket socket);
  template <class Stream>
  asio::awaitable<void> serve_http(Stream& stream, beast::flat_buffer& buffer, api::RequestContext ctx,
                                   std::uint64_t id);
  template <class Stream>
  asio::awaitable<void> serve_websocket(Stream stream, http::request<http::string_body> req,
                                        const auth::HttpRequest& request, const api::RequestContext& ctx,
                                        UpgradeDecision decision, std::uint64_t id);
};

Server::Server(asio::any_io_executor executor, ServerOptions options, ServerHandlers handlers)
    : shared_(std::make_shared<Shared>(executor, std::move(options), std::move(handlers))) {}

Server::~Server() { stop(); }

boost::system::result<void, std::string> Server::start() {
  auto& s = *shared_;
  if (s.options.tls) {
    s.ssl.emplace(asio::ssl::context::tls_server);
    if (auto r = configure_server_context(*s.ssl, *s.options.tls); !r) return r.error();
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(s.options.host, ec);
  if (ec) return "invalid listen address '" + s.options.host + "'";
  tcp::endpoint ep(address, s.options.port);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + ": " + ec.message();
  asio::co_spawn(s.acceptor.get_executor(),
                 [shared = shared_]() { return shared->accept_connections(); }, asio::detached);
  return {};
}

tcp::endpoint Server::local_endpoint() const {
  boost::system::error_code ec;
  return shared_->acceptor.local_endpoint(ec);
}

void Server::stop() {
  auto& s = *shared_;
  if (s.stopping.exchange(true)) return;
  asio::post(s.acceptor.get_executor(), [shared = shared_] {
    boost::system::error_code ec;
    shared->acceptor.close(ec);
  });
  std::map<std::uint64_t, std::function<void()>> closers;
  {
    std::lock_guard lock(s.mu);
    closers.swap(s.closers);
  }
  for (auto& [id, close] : closers) close();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(shared_->mu);
  return shared_->closers.size();
}

asio::awaitable<void> Server::Shared::accept_connections() {
  auto self = shared_from_this();
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(executor),
                                                        asio::redirect_error(asio::use_awaitable, ec));
    if (stopping) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      // Out of descriptors and similar: log and keep accepting after a short pause.
      base::log(LogLevel::warn, "net", "accept failed: ", ec.message());
      asio::steady_timer t(executor, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // Replies are small and often come in pairs (an acknowledge, then the output it answers):
    // with Nagle the second waits for the peer's delayed ACK, about 40 ms on Linux.
    socket.set_option(tcp::no_delay(true), ec);
    auto ex = socket.get_executor();
    asio::co_spawn(ex, [self, s = std::move(socket)]() mutable { return self->run_connection(std::move(s)); },
                   asio::detached);
  }
}

asio::awaitable<void> Server::Shared::run_connection(tcp::socket socket) {
  auto self = shared_from_this();
  boost::system::error_code ec;
  api::RequestContext ctx;
  auto remote = socket.remote_endpoint(ec);
  ctx.source_ip = ec ? "" : remote.address().to_string();
  const std::string who = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  // stop() closes the socket through this entry. The posted close runs on the connection's
  // strand and checks `alive`, which the guard clears (also on the strand) when the frame ends.
  auto alive = std::make_shared<bool>(true);
  auto& sock = stream.socket();
  const std::uint64_t id = track([ex = stream.get_executor(), alive, &sock] {
    asio::post(ex, [alive, &sock] {
      boost::system::error_code ignored;
      if (*alive) sock.close(ignored);
    });
  });
  struct Guard {
    Shared* s;
    std::uint64_t id;
    std::shared_ptr<bool> alive;
    ~Guard() {
      *alive = false;
      s->untrack(id);
    }
  } guard{this, id, alive};

  stream.expires_after(options.idle_timeout);
  bool is_tls = co_await beast::async_detect_ssl(stream, buffer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    stream.expires_never();
    co_return;
  }
  if (is_tls) {
    if (!ssl) {
      base::log(LogLevel::debug, "net", who, ": TLS connection refused (no certificate configured)");
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *ssl);
    // The socket moved into the TLS stream: re-point the closer at it.
    untrack(id);
    auto& tls_sock = beast::get_lowest_layer(tls).socket();
    guard.id = track([ex = tls.get_executor(), alive, &tls_sock] {
      asio::post(ex, [alive, &tls_sock] {
        boost::system::error_code ignored;
        if (*alive) tls_sock.close(ignored);
      });
    });
    std::size_t used = co_await tls.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      base::log(LogLevel::debug, "net", who, ": TLS handshake failed: ", ec.message());
      co_return;
    }
    buffer.consume(used);
    ctx.tls = true;
    co_await serve_http(tls, buffer, ctx, guard.id);
  } else {
    co_await serve_http(stream, buffer, ctx, id);
  }
}

template <class Stream>
asio::awaitable<void> Server::Shared::serve_http(Stream& stream, beast::flat_buffer& buffer,
                                                 api::RequestContext ctx, std::uint64_t id) {
  auto self = shared_from_this();
  boost::system::error_code ec;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.body_limit_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit_bytes));
    beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (is_peer_done(ec) || stopping) break;
      int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
      api::HttpResponse reply = handlers.transport_error(status, ec.message());
      auto res = to_beast_response(reply, 11, false);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    auto req = parser.release();
    auth::HttpRequest request = from_beast_request(req);
    ctx.host = std::string(req[http::field::host]);

    if (websocket::is_upgrade(req)) {
      UpgradeDecision decision = handlers.upgrade(request, ctx);
      if (decision.reject || !decision.bind) {
        api::HttpResponse reply = decision.reject ? *decision.reject : handlers.transport_error(404, "no route");
        auto res = to_beast_response(reply, req.version(), false);
        co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      beast::get_lowest_layer(stream).expires_never();
      co_await serve_websocket(std::move(stream), std::move(req), request, ctx, std::move(decision), id);
      co_return;
    }

    api::HttpResponse reply = handlers.handle(request, ctx);
    if (reply.delay.count() > 0) {
      asio::steady_timer t(stream.get_executor(), reply.delay);
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    const bool keep_alive = req.keep_alive() && !stopping;
    auto res = to_beast_response(reply, req.version(), keep_alive);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  // Orderly end of a plain or TLS connection. The stream's deadline timer is disarmed so no
  // timer outlives the connection.
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  } else {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
  beast::get_lowest_layer(stream).expires_never();
}

template <class Stream>
asio::awaitable<void> Server::Shared::serve_websocket(Stream stream, http::request<http::string_body> req,
                                                      const auth::HttpRequest& request,
                                                      const api::RequestContext& ctx, UpgradeDecision decision,
                                                      std::uint64_t id) {
  auto self = shared_from_this();
  typename WsConnection<Stream>::Ws ws(std::move(stream));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = options.ws_idle_timeout;
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(http::field::server, "Server");
  }));
  boost::system::error_code ec;
  co_await ws.async_accept(req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    base::log(LogLevel::debug, "net", ctx.source_ip, ": WebSocket accept failed: ", ec.message());
    co_return;
  }
  auto conn = std::make_shared<WsConnection<Stream>>(
      std::move(ws), ctx.source_ip + " " + std::string(request.path()), options.ws_limits);
  untrack(id);
  std::weak_ptr<WsConnection<Stream>> weak = conn;
  std::uint64_t ws_id = track([weak] {
    if (auto c = weak.lock()) c->close({broker::CloseSpec::Kind::normal, 1001, "service stopping"});
  });
  // stop() sets `stopping` before it takes the registry: a connection registered too late for
  // it sees the flag here, one registered in time is in the registry it closes.
  if (stopping) conn->close({broker::CloseSpec::Kind::normal, 1001, "service stopping"});
  auto inbound = decision.bind(conn);
  if (!inbound) {
    conn->close({broker::CloseSpec::Kind::normal, 1008, "refused"});
    untrack(ws_id);
    co_return;
  }
  // The registry entry goes when the connection object does.
  struct Untracker final : broker::Inbound {
    std::shared_ptr<broker::Inbound> inner;
    std::shared_ptr<Shared> shared;
    std::uint64_t id;
    void on_text(std::string_view t) override { inner->on_text(t); }
    void on_binary(wire::ByteView b) override { inner->on_binary(b); }
    void on_closed(bool clean, std::string_view why) override {
      shared->untrack(id);
      inner->on_closed(clean, why);
    }
    std::shared_ptr<broker::Peer> congested() override { return inner->congested(); }
  };
  auto wrapped = std::make_shared<Untracker>();
  wrapped->inner = std::move(inbound);
  wrapped->shared = self;
  wrapped->id = ws_id;
  conn->run(std::move(wrapped));
}

}  // namespace mocksvc::net
