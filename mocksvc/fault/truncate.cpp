// truncate: the frame is cut short. Anything shorter than the 120-byte header makes the official
// plugin's reader goroutine panic and the session hang (data-channel.md §5): that is what
// keep_bytes below 120 reproduces. At 120 or more the PayloadLength no longer matches and the
// frame is dropped without an ack.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Truncate final : public MessageFault {
 public:
  explicit Truncate(const Rule& r) : keep_(static_cast<std::size_t>(r.attributes.integer("keep_bytes"))) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    if (frame.bytes.size() > keep_) {
      frame.bytes.resize(keep_);
      ctx.count("truncated");
    }
    ctx.forward(std::move(frame));
  }

 private:
  std::size_t keep_;
};

}  // namespace

const FaultType& truncate_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "truncate";
    t.kind = FaultKind::message;
    t.summary = "The frame is cut short.";
    t.attributes = {int_attr("keep_bytes", 120, 0, 16 * 1024 * 1024, "bytes kept from the start of the frame")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Truncate>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
