#include "mocksvc/net/peer_done.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

namespace mocksvc::net {

bool is_peer_done(const boost::system::error_code& ec) {
  return ec == boost::beast::http::error::end_of_stream ||
         ec == boost::beast::websocket::error::closed || ec == boost::asio::ssl::error::stream_truncated ||
         ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
         ec == boost::asio::error::operation_aborted || ec == boost::asio::error::broken_pipe ||
         ec == boost::beast::error::timeout;
}

}  // namespace mocksvc::net
