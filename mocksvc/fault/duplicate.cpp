// duplicate: the message arrives more than once. The receiver's stream layer drops the copies
// (the agent re-acks them, the client does not).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Duplicate final : public MessageFault {
 public:
  explicit Duplicate(const Rule& r)
      : copies_(r.attributes.integer("copies")), spacing_(r.attributes.ms("spacing_ms")) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    ctx.count("duplicated", static_cast<std::uint64_t>(copies_));
    ctx.forward(frame);
    for (std::int64_t i = 1; i <= copies_; ++i) {
      if (spacing_.count() == 0) {
        ctx.forward(frame);
      } else {
        ctx.schedule(spacing_ * i, [ctx, copy = frame]() mutable { ctx.forward(std::move(copy)); });
      }
    }
  }

 private:
  std::int64_t copies_;
  std::chrono::milliseconds spacing_;
};

}  // namespace

const FaultType& duplicate_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "duplicate";
    t.kind = FaultKind::message;
    t.summary = "The message is delivered more than once.";
    t.attributes = {int_attr("copies", 1, 1, 100, "extra copies sent"),
                    ms_attr("spacing_ms", 0, "time between copies; 0 sends them back to back")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Duplicate>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
