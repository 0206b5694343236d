// Shared pieces of the fault types (types.hpp): spec builders, seeded draws, the release queue
// and the FaultContext methods that reach into the injector's per-session runtime.
#include <algorithm>

#include "mocksvc/fault/runtime.hpp"
#include "mocksvc/fault/types.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::fault {

AttributeSpec int_attr(std::string_view name, std::optional<std::int64_t> def, double min, double max,
                       std::string_view doc) {
  AttributeSpec s;
  s.name = name;
  s.type = AttrType::integer;
  if (def) s.default_value = AttrValue(*def);
  s.min = min;
  s.max = max;
  s.doc = doc;
  return s;
}

AttributeSpec num_attr(std::string_view name, std::optional<double> def, double min, double max,
                       std::string_view doc) {
  AttributeSpec s;
  s.name = name;
  s.type = AttrType::number;
  if (def) s.default_value = AttrValue(*def);
  s.min = min;
  s.max = max;
  s.doc = doc;
  return s;
}

AttributeSpec bool_attr(std::string_view name, bool def, std::string_view doc) {
  AttributeSpec s;
  s.name = name;
  s.type = AttrType::boolean;
  s.default_value = AttrValue(def);
  s.doc = doc;
  return s;
}

AttributeSpec text_attr(std::string_view name, std::optional<std::string> def, std::vector<std::string_view> choices,
                        std::string_view doc) {
  AttributeSpec s;
  s.name = name;
  s.type = AttrType::text;
  if (def) s.default_value = AttrValue(*def);
  s.choices = std::move(choices);
  s.doc = doc;
  return s;
}

AttributeSpec ms_attr(std::string_view name, std::int64_t def, std::string_view doc) {
  return int_attr(name, def, 0, kMaxAttrMs, doc);
}

std::int64_t draw(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  if (hi <= lo) return lo;
  return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
}

double draw_unit(std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

std::chrono::milliseconds jittered(std::chrono::milliseconds latency, std::chrono::milliseconds jitter,
                                   std::mt19937_64& rng) {
  std::int64_t ms = latency.count();
  if (jitter.count() > 0) ms += draw(rng, -jitter.count(), jitter.count());
  return std::chrono::milliseconds(std::max<std::int64_t>(0, ms));
}

broker::Side side_from(std::string_view text) { return text == "agent" ? broker::Side::agent : broker::Side::client; }

broker::CloseSpec close_spec(const Attributes& a) {
  broker::CloseSpec spec;
  if (a.boolean("abrupt")) {
    spec.kind = broker::CloseSpec::Kind::abrupt;
    spec.code = 1006;
    return spec;
  }
  spec.kind = broker::CloseSpec::Kind::normal;
  spec.code = static_cast<std::uint16_t>(a.integer("close_code"));
  spec.reason = a.text("close_reason");
  return spec;
}

// ---- ReleaseQueue ----------------------------------------------------------------------------

void ReleaseQueue::push(TimePoint at, broker::RelayedFrame frame, FaultContext& ctx) {
  at = std::max(at, last_);
  last_ = at;
  queue_.push_back(Held{at, std::move(frame)});
  if (!armed_) arm(ctx);
}

void ReleaseQueue::arm(FaultContext ctx) {
  if (queue_.empty()) return;
  armed_ = true;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(queue_.front().at - ctx.now());
  if (wait.count() < 0) wait = std::chrono::milliseconds(0);
  ctx.schedule(wait, [this, ctx]() mutable {
    armed_ = false;
    release(ctx);
  });
}

void ReleaseQueue::release(FaultContext& ctx) {
  const bool everything = !ctx.current();
  const auto now = ctx.now();
  while (!queue_.empty() && (everything || queue_.front().at <= now)) {
    broker::RelayedFrame f = std::move(queue_.front().frame);
    queue_.pop_front();
    ctx.forward(std::move(f));
  }
  if (!queue_.empty()) arm(ctx);
}

// ---- FaultContext ----------------------------------------------------------------------------

FaultContext::FaultContext(broker::StageContext* stage, broker::Direction direction,
                           std::shared_ptr<detail::RuleRuntime> runtime)
    : stage_(stage), direction_(direction), runtime_(std::move(runtime)) {}

const Rule& FaultContext::rule() const { return runtime_->rule(); }
const broker::SessionFacts& FaultContext::session() const { return runtime_->session->facts; }

void FaultContext::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  stage_->schedule(delay, std::move(fn));
}

void FaultContext::count(std::string_view action, std::uint64_t n) {
  stage_->count(action, n);
  runtime_->session->add(action, n);
}

void FaultContext::applied() { ++runtime_->counters->applied; }

std::mt19937_64& FaultContext::rng() { return runtime_->rng[index_of(direction_)]; }

Clock::time_point FaultContext::session_start() const { return runtime_->session->start_or(stage_->now()); }

bool FaultContext::current() const { return runtime_->current(); }

void FaultContext::send_control(std::string_view message_type) {
  broker::RelayedFrame f;
  f.message = wire::make_message(message_type, 0, 0, wire::PayloadType::none, "");
  f.bytes = wire::encode(f.message);
  stage_->forward(std::move(f));
}

}  // namespace mocksvc::fault
