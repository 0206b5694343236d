// A small HTTP/1.1 client for one origin (http:// or https://) with a kept-alive connection,
// for calling the SSM JSON API and the ssmmessages REST calls from our own clients, simulated
// agents and the load generator. Runs on the executor given (a strand); one request at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"

namespace mocksvc::net {

class HttpClient {
 public:
  // `base_url` is scheme://host[:port]; a path in it is ignored.
  HttpClient(boost::asio::any_io_executor executor, std::string base_url,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sets Host (and Content-Length for bodies), then calls `sign` so a signature covers them,
  // then sends. A kept-alive connection the server closed is retried once on a new one.
  boost::asio::awaitable<boost::system::result<api::HttpResponse, std::string>> send(
      auth::HttpRequest request, std::function<void(auth::HttpRequest&)> sign = {},
      std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // host[:port] as it goes in the Host header (and into SigV4's canonical request).
  const std::string& host_header() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mocksvc::net
