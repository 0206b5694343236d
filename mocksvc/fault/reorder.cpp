// reorder: messages arrive out of order. "hold" keeps a selected message back until `messages`
// later messages of its direction have passed; "shuffle" collects `messages` selected messages
// and lets them go in a random (seeded) order. Nothing waits longer than max_hold_ms, so a
// session that goes quiet, or a scenario replaced mid-way, still gets every message.
#include <algorithm>
#include <list>

#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {
namespace {

class Reorder final : public MessageFault {
 public:
  explicit Reorder(const Rule& r)
      : shuffle_(r.attributes.text("mode") == "shuffle"),
        messages_(r.attributes.integer("messages")),
        max_hold_(r.attributes.ms("max_hold_ms")) {}

  void apply(broker::RelayedFrame frame, FaultContext& ctx) override {
    Dir& d = dir(ctx);
    ctx.count("reordered");
    if (shuffle_) {
      d.window.push_back(std::move(frame));
      if (d.window.size() == 1) arm_window(ctx, d.epoch);
      if (static_cast<std::int64_t>(d.window.size()) >= messages_) flush_window(ctx, /*shuffled=*/true);
      return;
    }
    count_down(ctx);  // this message passes the ones already held
    const std::uint64_t id = ++d.next_id;
    d.held.push_back(Held{id, messages_, std::move(frame)});
    ctx.schedule(max_hold_, [this, ctx, id]() mutable { release(ctx, id); });
  }

  void pass(broker::RelayedFrame frame, FaultContext& ctx) override {
    ctx.forward(std::move(frame));
    if (!shuffle_) count_down(ctx);
  }

 private:
  struct Held {
    std::uint64_t id;
    std::int64_t remaining;
    broker::RelayedFrame frame;
  };
  struct Dir {
    std::list<Held> held;
    std::uint64_t next_id = 0;
    std::vector<broker::RelayedFrame> window;
    std::uint64_t epoch = 0;
  };

  Dir& dir(FaultContext& ctx) { return dirs_[index_of(ctx.direction())]; }

  void count_down(FaultContext& ctx) {
    Dir& d = dir(ctx);
    for (auto it = d.held.begin(); it != d.held.end();) {
      if (--it->remaining <= 0) {
        broker::RelayedFrame f = std::move(it->frame);
        it = d.held.erase(it);
        ctx.forward(std::move(f));
      } else {
        ++it;
      }
    }
  }

  void release(FaultContext& ctx, std::uint64_t id) {
    Dir& d = dir(ctx);
    for (auto it = d.held.begin(); it != d.held.end(); ++it) {
      if (it->id == id) {
        broker::RelayedFrame f = std::move(it->frame);
        d.held.erase(it);
        ctx.forward(std::move(f));
        return;
      }
    }
  }

  void arm_window(FaultContext& ctx, std::uint64_t epoch) {
    ctx.schedule(max_hold_, [this, ctx, epoch]() mutable {
      if (dir(ctx).epoch == epoch) flush_window(ctx, /*shuffled=*/ctx.current());
    });
  }

  void flush_window(FaultContext& ctx, bool shuffled) {
    Dir& d = dir(ctx);
    ++d.epoch;
    std::vector<broker::RelayedFrame> out;
    out.swap(d.window);
    if (shuffled) std::shuffle(out.begin(), out.end(), ctx.rng());
    for (auto& f : out) ctx.forward(std::move(f));
  }

  bool shuffle_;
  std::int64_t messages_;
  std::chrono::milliseconds max_hold_;
  Dir dirs_[2];
};

}  // namespace

const FaultType& reorder_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "reorder";
    t.kind = FaultKind::message;
    t.summary = "Messages arrive out of order: one held back, or a window shuffled.";
    t.attributes = {text_attr("mode", std::string("hold"), {"hold", "shuffle"},
                              "hold: keep a selected message back; shuffle: reorder windows of selected messages"),
                    int_attr("messages", 3, 1, 10000,
                             "hold: later messages that pass first; shuffle: messages per window"),
                    int_attr("max_hold_ms", 500, 1, kMaxAttrMs, "longest any message is kept back")};
    t.directional = true;
    t.make_message = [](const Rule& r) -> std::unique_ptr<MessageFault> { return std::make_unique<Reorder>(r); };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
