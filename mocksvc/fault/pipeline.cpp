#include "mocksvc/fault/pipeline.hpp"

#include <algorithm>

#include "mocksvc/fault/types.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::fault::detail {
namespace {

using broker::Direction;
using broker::RelayedFrame;
using broker::StageContext;

bool is_stream_data(Direction d, const wire::Message& m) {
  return m.message_type == (d == Direction::client_to_agent ? wire::msg::kInputStreamData : wire::msg::kOutputStreamData);
}

class TapStage final : public broker::Stage {
 public:
  TapStage(Direction d, std::shared_ptr<SessionRecord> record, std::shared_ptr<const Shared> shared)
      : direction_(d), record_(std::move(record)), shared_(std::move(shared)) {}

  void process(RelayedFrame frame, StageContext& next) override {
    const auto now = next.now();
    record_->start_or(now);
    const std::size_t i = index_of(direction_);
    if (is_stream_data(direction_, frame.message)) {
      const std::int64_t seq = frame.message.sequence_number;
      if (seq <= record_->highest_seq[i]) {
        ++record_->retransmitted[i];
        next.count("retransmitted");
      } else {
        record_->highest_seq[i] = seq;
      }
    }
    if (shared_->is_offline(record_->facts.target)) {
      next.count("dropped_offline");
      record_->add("dropped_offline", 1);
      if (direction_ == Direction::agent_to_client &&
          (!record_->gated || now - record_->last_pause_sent >= kOfflinePauseInterval)) {
        record_->last_pause_sent = now;
        next.forward(control(wire::msg::kPausePublication));
      }
      record_->gated = true;
      return;
    }
    if (record_->gated && direction_ == Direction::agent_to_client) {
      record_->gated = false;
      next.forward(control(wire::msg::kStartPublication));
    }
    next.forward(std::move(frame));
  }

 private:
  static RelayedFrame control(std::string_view type) {
    RelayedFrame f;
    f.message = wire::make_message(type, 0, 0, wire::PayloadType::none, "");
    f.bytes = wire::encode(f.message);
    return f;
  }

  Direction direction_;
  std::shared_ptr<SessionRecord> record_;
  std::shared_ptr<const Shared> shared_;
};

class RuleStage final : public broker::Stage {
 public:
  RuleStage(Direction d, std::shared_ptr<RuleRuntime> runtime) : direction_(d), runtime_(std::move(runtime)) {}

  void process(RelayedFrame frame, StageContext& next) override {
    RuleRuntime& rt = *runtime_;
    const std::size_t i = index_of(direction_);
    FaultContext ctx(&next, direction_, runtime_);
    if (!rt.attached[i]) {
      rt.attached[i] = true;
      rt.fault->attach(ctx);
    }
    const Rule& rule = rt.rule();
    if (!message_filters_pass(rule.match, frame)) {
      rt.fault->pass(std::move(frame), ctx);
      return;
    }
    ++rt.counters->matched;
    const std::uint64_t n = ++rt.matched_in[i];
    bool selected = true;
    if (rule.match.nth && n != rule.match.nth) selected = false;
    if (rule.match.every_nth && n % rule.match.every_nth != 0) selected = false;
    if (rule.match.limit && rt.applied >= rule.match.limit) selected = false;
    // The draw happens only for frames that got this far, so a given seed and message order
    // always select the same frames.
    if (selected && rule.probability < 1.0) selected = draw_unit(rt.rng[i]) < rule.probability;
    if (!selected) {
      rt.fault->pass(std::move(frame), ctx);
      return;
    }
    ++rt.applied;
    if (!rt.fault->counts_own_applications()) ++rt.counters->applied;
    rt.fault->apply(std::move(frame), ctx);
  }

 private:
  Direction direction_;
  std::shared_ptr<RuleRuntime> runtime_;
};

}  // namespace

bool message_filters_pass(const Match& match, const RelayedFrame& frame) {
  const wire::Message& m = frame.message;
  if (!match.message_types.empty() &&
      std::find(match.message_types.begin(), match.message_types.end(), m.message_type) == match.message_types.end())
    return false;
  if (!match.payload_types.empty() &&
      std::find(match.payload_types.begin(), match.payload_types.end(), static_cast<std::uint32_t>(m.payload_type)) ==
          match.payload_types.end())
    return false;
  if (match.sequence_min || match.sequence_max) {
    std::int64_t seq = m.sequence_number;
    if (m.message_type == wire::msg::kAcknowledge) {
      auto ack = wire::parse_acknowledge(m.payload_text());
      if (!ack) return false;
      seq = ack->acknowledged_message_sequence_number;
    }
    if (match.sequence_min && seq < *match.sequence_min) return false;
    if (match.sequence_max && seq > *match.sequence_max) return false;
  }
  return true;
}

std::shared_ptr<broker::Stage> make_tap_stage(Direction direction, std::shared_ptr<SessionRecord> record,
                                              std::shared_ptr<const Shared> shared) {
  return std::make_shared<TapStage>(direction, std::move(record), std::move(shared));
}

std::shared_ptr<broker::Stage> make_rule_stage(Direction direction, std::shared_ptr<RuleRuntime> runtime) {
  return std::make_shared<RuleStage>(direction, std::move(runtime));
}

}  // namespace mocksvc::fault::detail
