#include "mocksvc/app/builtin_targets.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "mocksvc/net/server.hpp"

namespace mocksvc::app {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct BuiltinTargets::Impl {
  asio::any_io_executor executor;
  std::unique_ptr<net::Server> http;
  std::shared_ptr<tcp::acceptor> echo;
  std::string http_addr;
  std::string echo_addr;
};

namespace {

asio::awaitable<void> echo_bytes(tcp::socket socket) {
  char buf[16384];
  boost::system::error_code ec;
  for (;;) {
    std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(socket, asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
}

asio::awaitable<void> accept_echo(tcp::acceptor& acceptor, asio::any_io_executor executor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::make_strand(executor), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) continue;
    auto ex = s.get_executor();
    asio::co_spawn(ex, echo_bytes(std::move(s)), asio::detached);
  }
}

}  // namespace

BuiltinTargets::BuiltinTargets(asio::any_io_executor executor) : impl_(std::make_unique<Impl>()) {
  impl_->executor = executor;
}

BuiltinTargets::~BuiltinTargets() { stop(); }

boost::system::result<void, std::string> BuiltinTargets::start() {
  net::ServerHandlers h;
  h.handle = [](const auth::HttpRequest& req, const api::RequestContext&) {
    api::HttpResponse r;
    r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
    r.body = "<!doctype html><title>ssm-harness</title><h1>Hello from ssm-harness</h1><p>" + req.method + " " +
             req.target + " reached the built-in web target through a port-forwarding session.</p>\n";
    return r;
  };
  h.transport_error = [](int status, std::string_view why) {
    api::HttpResponse r;
    r.status = status;
    r.body = std::string(why);
    return r;
  };
  h.upgrade = [](const auth::HttpRequest&, const api::RequestContext&) {
    net::UpgradeDecision d;
    api::HttpResponse r;
    r.status = 404;
    d.reject = r;
    return d;
  };
  impl_->http = std::make_unique<net::Server>(impl_->executor, net::ServerOptions{}, h);
  if (auto r = impl_->http->start(); !r) return "built-in web target: " + r.error();
  impl_->http_addr = "127.0.0.1:" + std::to_string(impl_->http->local_endpoint().port());

  auto acc = std::make_shared<tcp::acceptor>(impl_->executor);
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acc->open(ep.protocol(), ec);
  if (!ec) acc->bind(ep, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "built-in echo target: " + ec.message();
  impl_->echo_addr = "127.0.0.1:" + std::to_string(acc->local_endpoint().port());
  impl_->echo = acc;
  asio::co_spawn(acc->get_executor(), [acc, ex = impl_->executor]() { return accept_echo(*acc, ex); },
                 asio::detached);
  return {};
}

void BuiltinTargets::stop() {
  if (impl_->http) impl_->http->stop();
  if (impl_->echo) {
    asio::post(impl_->echo->get_executor(), [acc = impl_->echo] {
      boost::system::error_code ec;
      acc->close(ec);
    });
    impl_->echo.reset();
  }
}

std::string BuiltinTargets::http_address() const { return impl_->http_addr; }
std::string BuiltinTargets::echo_address() const { return impl_->echo_addr; }

}  // namespace mocksvc::app
