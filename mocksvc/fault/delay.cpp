// delay: the message arrives later (latency_ms ± jitter_ms). With keep_order, delayed messages
// leave in the order they came, as on one TCP connection; without it, jitter reorders them.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Delay final : public MessageFault {
 public:
  explicit Delay(const Rule& r)
      : latency_(r.attributes.ms("latency_ms")),
        jitter_(r.attributes.ms("jitter_ms")),
        keep_order_(r.attributes.boolean("keep_order")) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    const auto wait = jittered(latency_, jitter_, ctx.rng());
    ctx.count("delayed");
    if (keep_order_) {
      queues_[index_of(ctx.direction())].push(ctx.now() + wait, std::move(frame), ctx);
    } else {
      ctx.schedule(wait, [ctx, f = std::move(frame)]() mutable { ctx.forward(std::move(f)); });
    }
  }

 private:
  std::chrono::milliseconds latency_;
  std::chrono::milliseconds jitter_;
  bool keep_order_;
  ReleaseQueue queues_[2];
};

}  // namespace

const FaultType& delay_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "delay";
    t.kind = FaultKind::message;
    t.summary = "The message arrives later.";
    t.attributes = {ms_attr("latency_ms", 100, "added delay"),
                    ms_attr("jitter_ms", 0, "uniform variation around latency_ms, either way"),
                    bool_attr("keep_order", true, "delayed messages keep their order")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Delay>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
