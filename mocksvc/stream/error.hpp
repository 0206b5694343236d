// The stream layer's error codes: the ways the reliable stream refuses a request. Everything
// the peer sends wrong is a counted, ignored event (as in the official client and agent), never
// an error.
#pragma once

#include <boost/system/error_code.hpp>

namespace mocksvc::stream {

enum class Error {
  ok = 0,
  outgoing_buffer_full = 1,  // the unacked list is at capacity and the role refuses new messages
};

const boost::system::error_category& stream_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), stream_category()};
}

}  // namespace mocksvc::stream

template <>
struct boost::system::is_error_code_enum<mocksvc::stream::Error> : std::true_type {};
