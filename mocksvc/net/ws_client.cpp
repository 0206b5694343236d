#include "mocksvc/net/ws_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "mocksvc/net/tls.hpp"
#include "mocksvc/net/url.hpp"

namespace mocksvc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using ConnectResult = boost::system::result<std::shared_ptr<broker::Peer>, std::string>;

namespace {

template <class NextLayer>
asio::awaitable<ConnectResult> finish_upgrade(NextLayer transport, const Url& url, const WsConnectOptions& options,
                                              BindInbound& bind) {
  typename WsConnection<NextLayer>::Ws ws(std::move(transport));
  auth::HttpRequest upgrade;
  upgrade.method = "GET";
  upgrade.target = url.target;
  upgrade.headers.emplace_back("Host", url.host_header);
  if (options.sign) options.sign(upgrade);
  for (const auto& h : options.headers) upgrade.headers.push_back(h);
  ws.set_option(websocket::stream_base::decorator([headers = upgrade.headers](websocket::request_type& req) {
    req.set(beast::http::field::user_agent, "ssm-harness");
    for (const auto& [name, value] : headers)
      if (!auth::iequals(name, "host")) req.set(name, value);
  }));
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.timeout;
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws.set_option(timeouts);
  boost::system::error_code ec;
  websocket::response_type response;
  co_await ws.async_handshake(response, url.host_header, url.target, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    std::string why = "WebSocket upgrade to " + options.url + " failed: " + ec.message();
    if (response.result_int() != 0 && response.result_int() != 101)
      why += " (HTTP " + std::to_string(response.result_int()) + ")";
    co_return why;
  }
  beast::get_lowest_layer(ws).expires_never();
  auto conn = std::make_shared<WsConnection<NextLayer>>(std::move(ws), options.url, options.limits);
  auto inbound = bind(conn);
  conn->run(std::move(inbound));
  conn->start_keepalive(options.keepalive_interval, options.keepalive_payload);
  co_return std::shared_ptr<broker::Peer>(conn);
}

}  // namespace

asio::awaitable<ConnectResult> connect_websocket(asio::any_io_executor executor, WsConnectOptions options,
                                                 BindInbound bind) {
  auto url = parse_url(options.url);
  if (!url) co_return url.error();
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(url->host, url->port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "cannot resolve " + url->host + ": " + ec.message();
  beast::tcp_stream stream(executor);
  stream.expires_after(options.timeout);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "cannot connect to " + url->host_header + ": " + ec.message();
  stream.socket().set_option(tcp::no_delay(true), ec);

  // GCC 12 miscompiles `co_return co_await f()` for non-trivial results: name the value first.
  if (!url->tls) {
    auto done = co_await finish_upgrade(std::move(stream), *url, options, bind);
    co_return done;
  }

  auto tls = options.tls;
  if (!tls) {
    auto made = make_client_tls("");
    if (!made) co_return made.error();
    tls = *made;
  }
  beast::ssl_stream<beast::tcp_stream> ssl(std::move(stream), *tls);
  boost::system::error_code addr_ec;
  asio::ip::make_address(url->host, addr_ec);
  if (addr_ec) SSL_set_tlsext_host_name(ssl.native_handle(), url->host.c_str());
  ssl.set_verify_callback(asio::ssl::host_name_verification(url->host), ec);
  co_await ssl.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return "TLS handshake with " + url->host_header + " failed: " + ec.message();
  // The TLS stream must outlive the coroutine's locals: hand it to the WebSocket by move.
  auto done = co_await finish_upgrade(std::move(ssl), *url, options, bind);
  co_return done;
}

}  // namespace mocksvc::net
