// The data-channel dialer of a load session: what plugin::make_dialer does (one WebSocket per
// attempt with net::connect_websocket, reads posted to the session's strand in arrival order,
// the plugin's Transport over the connection), plus the timing the report needs: how long each
// upgrade took, and which attempts failed and why.
//
// Runs on the session's strand: the connection, every ConnectionEvents call and both callbacks.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "mocksvc/client/session.hpp"
#include "plugin/session_runner.hpp"

namespace ssmh::loadgen {

struct DialHooks {
  std::shared_ptr<boost::asio::ssl::context> tls;  // wss only
  std::chrono::milliseconds timeout = plugin::kWebSocketHandshakeTimeout;
  // After each attempt, before the engine hears of it: the upgrade's duration, or why it failed.
  std::function<void(std::chrono::steady_clock::duration)> opened;
  std::function<void(std::string_view why)> failed;
};

mocksvc::client::Dialer make_timed_dialer(plugin::Strand strand, DialHooks hooks);

}  // namespace ssmh::loadgen
