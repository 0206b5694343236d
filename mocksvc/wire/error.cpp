#include "mocksvc/wire/error.hpp"

#include <string>

namespace mocksvc::wire {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssm.wire"; }
  std::string message(int ev) const override {
    switch (static_cast<Error>(ev)) {
      case Error::ok: return "ok";
      case Error::frame_too_short: return "frame shorter than 120 bytes";
      case Error::bad_header_length: return "header length is not 116";
      case Error::payload_length_mismatch: return "payload length disagrees with the frame size";
      case Error::digest_mismatch: return "payload digest does not match SHA-256 of the payload";
      case Error::empty_message_type: return "message type is empty";
      case Error::zero_created_date: return "created date is zero";
      case Error::bad_message_type: return "message type holds a non-printable byte";
      case Error::payload_not_json: return "payload is not valid JSON";
      case Error::payload_missing_field: return "payload lacks a required field";
      case Error::payload_wrong_type: return "payload field has the wrong JSON type";
      case Error::payload_bad_value: return "payload field has an invalid value";
      case Error::xml_missing_element: return "XML body lacks a required element";
      case Error::smux_bad_version: return "smux frame version is not 1";
      case Error::smux_bad_command: return "smux frame has an unknown command";
      case Error::smux_incomplete: return "smux frame is incomplete";
    }
    return "unknown wire error";
  }
};
}  // namespace

const boost::system::error_category& wire_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace mocksvc::wire
