// pause: the session stops relaying for a while, then resumes. The pause starts at at_ms (from the
// session's first message) or, without at_ms, at the first selected message; while it lasts every
// message of the rule's directions is held (and released in order when it ends) or, with hold
// false, discarded. duration_ms 0 pauses for good: a dead far end. pause_publication_every_ms
// sends pause_publication to the client while paused, as the real service repeats it while an
// agent is gone (data-channel.md §12, issue #22), and start_publication when the pause ends; it
// acts through the agent_to_client direction, so the rule must include it.
#include <deque>

#include "mocksvc/fault/types.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::fault {
namespace {

using broker::Direction;

class Pause final : public MessageFault {
 public:
  explicit Pause(const Rule& r)
      : at_(r.attributes.ms("at_ms")),
        duration_(r.attributes.ms("duration_ms")),
        hold_(r.attributes.boolean("hold")),
        max_held_(static_cast<std::size_t>(r.attributes.integer("max_held_messages"))),
        every_(r.attributes.ms("pause_publication_every_ms")) {}

  void attach(FaultContext& ctx) override {
    if (at_.count() == 0) return;
    const auto due = ctx.session_start() + at_;
    ctx.schedule(wait_until(ctx, due), [this, ctx]() mutable {
      if (!ctx.current()) return;
      if (phase_ == Phase::idle) start(ctx);
      if (phase_ == Phase::paused) arm(ctx);
    });
  }

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    if (phase_ == Phase::idle && at_.count() == 0) start(ctx);
    handle(std::move(frame), ctx);
  }

  void pass(broker::RelayedFrame frame, FaultContext& ctx) override { handle(std::move(frame), ctx); }
  bool counts_own_applications() const override { return true; }

 private:
  enum class Phase { idle, paused, done };
  struct Dir {
    std::deque<broker::RelayedFrame> held;
    bool armed = false;
    bool publishing = false;
  };

  static std::chrono::milliseconds wait_until(FaultContext& ctx, Clock::time_point due) {
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(due - ctx.now());
    return wait.count() < 0 ? std::chrono::milliseconds(0) : wait;
  }

  Dir& dir(FaultContext& ctx) { return dirs_[index_of(ctx.direction())]; }

  void start(FaultContext& ctx) {
    phase_ = Phase::paused;
    paused_at_ = ctx.now();
    ctx.count("paused_sessions");
    ctx.applied();
  }

  void handle(broker::RelayedFrame frame, FaultContext& ctx) {
    if (phase_ == Phase::paused && duration_.count() > 0 && ctx.now() >= paused_at_ + duration_) phase_ = Phase::done;
    Dir& d = dir(ctx);
    if (phase_ != Phase::paused) {
      if (!d.held.empty()) resume(ctx);
      ctx.forward(std::move(frame));
      return;
    }
    arm(ctx);
    if (hold_ && d.held.size() < max_held_) {
      d.held.push_back(std::move(frame));
      ctx.count("held");
    } else {
      ctx.count("dropped");
    }
  }

  // Per direction, once the pause is on: the timer that ends it here, and the client notices.
  void arm(FaultContext& ctx) {
    Dir& d = dir(ctx);
    if (d.armed) return;
    d.armed = true;
    if (duration_.count() > 0) {
      ctx.schedule(wait_until(ctx, paused_at_ + duration_), [this, ctx]() mutable {
        phase_ = Phase::done;
        resume(ctx);
      });
    }
    if (every_.count() > 0 && ctx.direction() == Direction::agent_to_client) {
      d.publishing = true;
      publish(ctx);
    }
  }

  void publish(FaultContext& ctx) {
    if (phase_ != Phase::paused || !ctx.current()) return;
    ctx.send_control(wire::msg::kPausePublication);
    ctx.count("pause_publications");
    ctx.schedule(every_, [this, ctx]() mutable { publish(ctx); });
  }

  void resume(FaultContext& ctx) {
    Dir& d = dir(ctx);
    if (d.publishing) {
      d.publishing = false;
      ctx.send_control(wire::msg::kStartPublication);
    }
    while (!d.held.empty()) {
      broker::RelayedFrame f = std::move(d.held.front());
      d.held.pop_front();
      ctx.forward(std::move(f));
    }
  }

  std::chrono::milliseconds at_;
  std::chrono::milliseconds duration_;
  bool hold_;
  std::size_t max_held_;
  std::chrono::milliseconds every_;
  Phase phase_ = Phase::idle;
  Clock::time_point paused_at_{};
  Dir dirs_[2];
};

}  // namespace

const FaultType& pause_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "pause";
    t.kind = FaultKind::message;
    t.summary = "The session stops relaying for a while (or for good), then resumes.";
    t.attributes = {
        ms_attr("at_ms", 0, "when the pause starts, from the session's first message; 0: at the first selected message"),
        ms_attr("duration_ms", 5000, "how long it lasts; 0: for good (a dead far end)"),
        bool_attr("hold", true, "keep messages and release them in order at the end; false discards them"),
        int_attr("max_held_messages", 10000, 1, 1000000, "messages kept per direction; later ones are discarded"),
        ms_attr("pause_publication_every_ms", 0,
                "send pause_publication to the client this often while paused (0: never)")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Pause>(r); };
    t.check = [](const Attributes& a) -> std::optional<std::pair<std::string, std::string>> {
      if (a.integer("duration_ms") == 0 && a.boolean("hold"))
        return std::pair<std::string, std::string>(
            "hold", "must be false when duration_ms is 0: a pause for good has nothing to release");
      return std::nullopt;
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
