#include "mocksvc/net/http_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "mocksvc/net/http_convert.hpp"
#include "mocksvc/net/tls.hpp"
#include "mocksvc/net/url.hpp"

namespace mocksvc::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SendResult = boost::system::result<api::HttpResponse, std::string>;

struct HttpClient::Impl {
  asio::any_io_executor executor;
  std::string base_url;
  Url url;
  std::string url_error;
  std::shared_ptr<asio::ssl::context> tls;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;

  bool connected() const { return plain || secure; }
  void drop() {
    plain.reset();
    secure.reset();
    buffer.clear();
  }

  asio::awaitable<std::string> connect(std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "cannot resolve " + url.host + ": " + ec.message();
    auto stream = std::make_unique<beast::tcp_stream>(executor);
    stream->expires_after(timeout);
    co_await stream->async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "cannot connect to " + url.host_header + ": " + ec.message();
    stream->socket().set_option(tcp::no_delay(true), ec);
    if (!url.tls) {
      plain = std::move(stream);
      co_return "";
    }
    if (!tls) {
      auto made = make_client_tls("");
      if (!made) co_return made.error();
      tls = *made;
    }
    secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), *tls);
    boost::system::error_code addr_ec;
    asio::ip::make_address(url.host, addr_ec);
    if (addr_ec) SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str());
    secure->set_verify_callback(asio::ssl::host_name_verification(url.host), ec);
    co_await secure->async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      secure.reset();
      co_return "TLS handshake with " + url.host_header + " failed: " + ec.message();
    }
    co_return "";
  }

  template <class Stream>
  asio::awaitable<SendResult> exchange(Stream& stream, http::request<http::string_body>& req,
                                       std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    beast::get_lowest_layer(stream).expires_after(timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "sending to " + url.host_header + " failed: " + ec.message();
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return "reading from " + url.host_header + " failed: " + ec.message();
    auto res = parser.release();
    if (!res.keep_alive()) drop();
    co_return from_beast_response(res);
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, std::string base_url, std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>()) {
  impl_->executor = executor;
  impl_->base_url = std::move(base_url);
  impl_->tls = std::move(tls);
  auto parsed = parse_url(impl_->base_url);
  if (parsed)
    impl_->url = *parsed;
  else
    impl_->url_error = parsed.error();
}

HttpClient::~HttpClient() = default;

const std::string& HttpClient::host_header() const { return impl_->url.host_header; }

asio::awaitable<SendResult> HttpClient::send(auth::HttpRequest request, std::function<void(auth::HttpRequest&)> sign,
                                             std::chrono::milliseconds timeout) {
  Impl& d = *impl_;
  if (!d.url_error.empty()) co_return d.url_error;
  request.set_header("Host", d.url.host_header);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT")
    request.set_header("Content-Length", std::to_string(request.body.size()));
  if (sign) sign(request);
  auto req = to_beast_request(request);
  req.keep_alive(true);
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = d.connected();
    if (!reused) {
      std::string err = co_await d.connect(timeout);
      if (!err.empty()) co_return err;
    }
    SendResult r{std::string()};
    if (d.plain) {
      r = co_await d.exchange(*d.plain, req, timeout);
    } else {
      r = co_await d.exchange(*d.secure, req, timeout);
    }
    if (r) co_return r;
    d.drop();
    if (!reused) co_return r;
  }
  co_return std::string("unreachable");
}

}  // namespace mocksvc::net
