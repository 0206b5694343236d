// disconnect: one side's WebSocket is closed, once per session: with a close frame (close_code,
// close_reason) or abruptly (no close frame, as the real agent closes), after after_messages
// selected messages were relayed or at at_ms from the session's first message. A client then
// reconnects through ResumeSession (data-channel.md §8). A virtual instance's agent side does not
// come back: closing it is a dead far end.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Disconnect final : public MessageFault {
 public:
  explicit Disconnect(const Rule& r)
      : side_(side_from(r.attributes.text("side"))),
        after_(r.attributes.integer("after_messages")),
        at_(r.attributes.ms("at_ms")),
        spec_(close_spec(r.attributes)) {}

  void attach(FaultContext& ctx) override {
    if (at_.count() == 0 || armed_) return;
    armed_ = true;
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(ctx.session_start() + at_ - ctx.now());
    if (wait.count() < 0) wait = std::chrono::milliseconds(0);
    ctx.schedule(wait, [this, ctx]() mutable {
      if (!done_ && ctx.current()) fire(ctx);
    });
  }

  bool counts_own_applications() const override { return true; }

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    ctx.forward(std::move(frame));
    if (at_.count() > 0 || done_) return;
    if (++seen_ >= after_) fire(ctx);
  }

 private:
  void fire(FaultContext& ctx) {
    done_ = true;
    ctx.count("disconnected");
    ctx.applied();
    ctx.close_side(side_, spec_);
  }

  broker::Side side_;
  std::int64_t after_;
  std::chrono::milliseconds at_;
  broker::CloseSpec spec_;
  bool armed_ = false;
  bool done_ = false;
  std::int64_t seen_ = 0;
};

}  // namespace

const FaultType& disconnect_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "disconnect";
    t.kind = FaultKind::message;
    t.summary = "One side's WebSocket is closed, once per session.";
    t.attributes = {text_attr("side", std::string("client"), {"client", "agent"}, "whose connection is closed"),
                    int_attr("after_messages", 1, 1, 1e12, "close after this many selected messages were relayed"),
                    ms_attr("at_ms", 0, "close at this time from the session's first message instead (0: unused)"),
                    int_attr("close_code", 1000, 1000, 4999, "WebSocket close code"),
                    text_attr("close_reason", std::string(""), {}, "WebSocket close reason"),
                    bool_attr("abrupt", false, "drop the TCP connection without a close frame (code 1006)")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Disconnect>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
