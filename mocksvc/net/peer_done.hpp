// The short, named list of error codes that mean "the peer is done" rather than "something
// broke": anything else is a real failure, logged once with context by the caller.
#pragma once

#include <boost/system/error_code.hpp>

namespace mocksvc::net {

bool is_peer_done(const boost::system::error_code& ec);

}  // namespace mocksvc::net
