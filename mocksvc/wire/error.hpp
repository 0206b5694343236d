// The wire layer's error codes: every way a frame, payload or XML body can be malformed.
// Decoders return these through boost::system::result and never throw on bad input.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace mocksvc::wire {

enum class Error {
  ok = 0,
  frame_too_short = 1,        // fewer than 120 bytes (116-byte header + 4-byte payload length)
  bad_header_length,          // HeaderLength other than 116
  payload_length_mismatch,    // PayloadLength disagrees with the bytes after the header
  digest_mismatch,            // SHA-256 of the payload differs from PayloadDigest
  empty_message_type,         // MessageType is blank after stripping NULs and spaces
  zero_created_date,          // CreatedDate is 0
  bad_message_type,           // MessageType holds a byte outside printable ASCII
  payload_not_json,           // a JSON payload did not parse
  payload_missing_field,      // a required JSON field is absent
  payload_wrong_type,         // a JSON field has the wrong type
  payload_bad_value,          // a field parsed but its value is out of range or malformed
  xml_missing_element,        // an XML reply lacks a required element
  smux_bad_version,           // smux frame with a version other than 1
  smux_bad_command,           // smux frame with an unknown command
  smux_incomplete,            // not enough bytes for a whole smux frame yet
};

const boost::system::error_category& wire_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), wire_category()};
}

template <typename T>
using Result = boost::system::result<T>;

}  // namespace mocksvc::wire

template <>
struct boost::system::is_error_code_enum<mocksvc::wire::Error> : std::true_type {};
