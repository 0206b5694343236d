// close_after_ms: the service's periodic close. The real service closes data-channel WebSockets
// about every 60 minutes with `close 1000 (normal): Bye`, and both ends must reconnect
// (data-channel.md §12, issue #135); scenarios compress the hour to seconds. The default closes
// the client's side only: a virtual instance's agent side has no reconnect of its own.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

// The real service's period and close reason (data-channel.md §12).
constexpr std::int64_t kServiceCloseIntervalMs = 60 * 60 * 1000;

class CloseAfter final : public MessageFault {
 public:
  explicit CloseAfter(const Rule& r)
      : interval_(r.attributes.ms("interval_ms")),
        jitter_(r.attributes.ms("jitter_ms")),
        side_(r.attributes.text("side")),
        repeat_(r.attributes.boolean("repeat")),
        spec_(close_spec(r.attributes)) {}

  void attach(FaultContext& ctx) override {
    if (armed_) return;
    armed_ = true;
    auto first = std::chrono::ceil<std::chrono::milliseconds>(ctx.session_start() + next_interval(ctx) - ctx.now());
    arm(ctx, first.count() < 0 ? std::chrono::milliseconds(0) : first);
  }

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override { ctx.forward(std::move(frame)); }
  bool counts_own_applications() const override { return true; }

 private:
  std::chrono::milliseconds next_interval(FaultContext& ctx) { return jittered(interval_, jitter_, ctx.rng()); }

  void arm(FaultContext& ctx, std::chrono::milliseconds wait) {
    ctx.schedule(wait, [this, ctx]() mutable {
      if (!ctx.current()) return;
      ctx.count("closed");
      ctx.applied();
      if (side_ != "agent") ctx.close_side(broker::Side::client, spec_);
      if (side_ != "client") ctx.close_side(broker::Side::agent, spec_);
      if (repeat_) arm(ctx, next_interval(ctx));
    });
  }

  std::chrono::milliseconds interval_;
  std::chrono::milliseconds jitter_;
  std::string side_;
  bool repeat_;
  broker::CloseSpec spec_;
  bool armed_ = false;
};

}  // namespace

const FaultType& close_after_ms_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "close_after_ms";
    t.kind = FaultKind::message;
    t.summary = "The service closes the session's WebSockets periodically, as the real one does about hourly.";
    t.attributes = {int_attr("interval_ms", kServiceCloseIntervalMs, 100, kMaxAttrMs,
                             "time from the session's first message (and between closes)"),
                    ms_attr("jitter_ms", 0, "uniform variation of each interval, either way"),
                    text_attr("side", std::string("client"), {"client", "agent", "both"}, "whose connection is closed"),
                    bool_attr("repeat", true, "close again every interval_ms"),
                    int_attr("close_code", 1000, 1000, 4999, "WebSocket close code"),
                    text_attr("close_reason", std::string("Bye"), {}, "WebSocket close reason"),
                    bool_attr("abrupt", false, "drop the TCP connection without a close frame")};
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<CloseAfter>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
