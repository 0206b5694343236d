// Opening a WebSocket to a URL as a client (ws:// or wss://), with extra or signed upgrade
// headers, and running it as a broker::Peer. Used by our own session client, the simulated
// agents and the load generator.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/ws_connection.hpp"

namespace mocksvc::net {

struct WsConnectOptions {
  std::string url;
  // For wss: the context to verify the server with (see make_client_tls); null = system store.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // Called with the upgrade GET (method, target, Host) to add headers, e.g. a SigV4 signature.
  std::function<void(auth::HttpRequest&)> sign;
  std::vector<std::pair<std::string, std::string>> headers;
  // Connect, TLS and upgrade together; the official client waits 45 s (data-channel.md §3.2).
  std::chrono::milliseconds timeout{45000};
  WsLimits limits;
  // Ping the server with `keepalive_payload` at once and then this often (0: never). The
  // official client pings "keepalive" every 5 min; the agent every 54 s.
  std::chrono::milliseconds keepalive_interval{0};
  std::string keepalive_payload = "keepalive";
};

using BindInbound = std::function<std::shared_ptr<broker::Inbound>(std::shared_ptr<broker::Peer>)>;

// Connects on `executor` (give each connection its own strand), then binds and runs the
// connection. The error is one line naming the step that failed.
boost::asio::awaitable<boost::system::result<std::shared_ptr<broker::Peer>, std::string>> connect_websocket(
    boost::asio::any_io_executor executor, WsConnectOptions options, BindInbound bind);

}  // namespace mocksvc::net
