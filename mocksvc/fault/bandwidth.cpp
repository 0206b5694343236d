// bandwidth: selected messages of a session leave no faster than bytes_per_second per direction,
// in order (a paced queue). Messages not selected (acks, say) pass at once.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Bandwidth final : public MessageFault {
 public:
  explicit Bandwidth(const Rule& r) : rate_(static_cast<double>(r.attributes.integer("bytes_per_second"))) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    ReleaseQueue& q = queues_[index_of(ctx.direction())];
    const auto now = ctx.now();
    const auto start = std::max(now, q.last_release());
    const auto cost = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(frame.bytes.size()) / rate_));
    if (start > now || q.size() > 0) ctx.count("delayed");
    q.push(start + cost, std::move(frame), ctx);
  }

 private:
  double rate_;
  ReleaseQueue queues_[2];
};

}  // namespace

const FaultType& bandwidth_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "bandwidth";
    t.kind = FaultKind::message;
    t.summary = "Messages leave no faster than a byte rate, per session and direction.";
    t.attributes = {int_attr("bytes_per_second", std::nullopt, 1, 1e12, "the rate (frame bytes, headers included)")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Bandwidth>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
