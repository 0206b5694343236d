#include "mocksvc/stream/error.hpp"

#include <string>

namespace mocksvc::stream {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssm.stream"; }
  std::string message(int ev) const override {
    switch (static_cast<Error>(ev)) {
      case Error::ok: return "ok";
      case Error::outgoing_buffer_full: return "outgoing unacked buffer is full";
    }
    return "unknown stream error";
  }
};
}  // namespace

const boost::system::error_category& stream_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace mocksvc::stream
