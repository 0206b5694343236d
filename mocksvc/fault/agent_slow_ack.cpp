// agent_slow_ack: the agent's acknowledges reach the client late (latency_ms ± jitter_ms, in
// order). The client's RTO grows towards its 1 s cap and, once an ack is later than the RTO, the
// client resends its head on every 100 ms tick until it arrives (data-channel.md §7.4).
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class SlowAck final : public MessageFault {
 public:
  explicit SlowAck(const Rule& r) : latency_(r.attributes.ms("latency_ms")), jitter_(r.attributes.ms("jitter_ms")) {}

  bool counts_own_applications() const override { return true; }

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    if (frame.message.message_type != wire::msg::kAcknowledge) {
      ctx.forward(std::move(frame));
      return;
    }
    ctx.count("delayed");
    ctx.applied();
    queue_.push(ctx.now() + jittered(latency_, jitter_, ctx.rng()), std::move(frame), ctx);
  }

 private:
  std::chrono::milliseconds latency_;
  std::chrono::milliseconds jitter_;
  ReleaseQueue queue_;
};

}  // namespace

const FaultType& agent_slow_ack_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "agent_slow_ack";
    t.kind = FaultKind::agent;
    t.summary = "The agent's acknowledges reach the client late.";
    t.attributes = {ms_attr("latency_ms", 500, "added delay"),
                    ms_attr("jitter_ms", 0, "uniform variation around latency_ms, either way")};
    t.fixed_direction = broker::Direction::agent_to_client;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<SlowAck>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
