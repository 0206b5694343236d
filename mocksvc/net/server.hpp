// The one listener: HTTP/1.1 and WebSocket, plain and TLS on the same port (TLS detected per
// connection from its first bytes), one coroutine per connection on its own strand. What a
// request means is decided by the handlers given at construction; this file only reads,
// calls and writes.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mocksvc/api/http.hpp"
#include "mocksvc/auth/request.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/tls.hpp"
#include "mocksvc/net/ws_connection.hpp"

namespace mocksvc::net {

// What to do with a WebSocket upgrade: refuse it with an HTTP response, or accept it and bind
// the new connection to the Inbound that `bind` returns.
struct UpgradeDecision {
  std::optional<api::HttpResponse> reject;
  std::function<std::shared_ptr<broker::Inbound>(std::shared_ptr<broker::Peer>)> bind;
};

struct ServerHandlers {
  // A complete HTTP request (not an upgrade).
  std::function<api::HttpResponse(const auth::HttpRequest&, const api::RequestContext&)> handle;
  // A request that could not be read: status 400 (malformed), 413 (too large), 431 (headers).
  std::function<api::HttpResponse(int status, std::string_view why)> transport_error;
  std::function<UpgradeDecision(const auth::HttpRequest&, const api::RequestContext&)> upgrade;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::optional<TlsFiles> tls;  // without it, TLS connections are refused
  std::size_t body_limit_bytes = 1024 * 1024;
  std::size_t header_limit_bytes = 64 * 1024;
  // A connection that sends nothing for this long is closed (HTTP keep-alive idle time).
  std::chrono::seconds idle_timeout{120};
  // WebSocket idle time before Beast pings the peer; the real agent pings every 54 s
  // (agent.md §2.4) and answers ours, so live peers are never cut.
  std::chrono::seconds ws_idle_timeout{300};
  WsLimits ws_limits;
};

class Server {
 public:
  Server(boost::asio::any_io_executor executor, ServerOptions options, ServerHandlers handlers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts accepting. The error is one line fit for a startup message.
  boost::system::result<void, std::string> start();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Stops accepting and closes every open connection.
  void stop();
  std::size_t open_connections() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace mocksvc::net
