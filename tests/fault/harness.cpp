#include "tests/fault/harness.hpp"

#include <gtest/gtest.h>

#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::fault::testing {

Scenario scenario_from(std::string_view json) {
  auto s = parse_scenario(json, "test");
  EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().to_string());
  return s ? *s : Scenario{};
}

Scenario with_rules(std::string_view rules_json, std::uint64_t seed) {
  std::string doc = R"({"name":"t","description":"A test.","seed":)" + std::to_string(seed) +
                    R"(,"rules":)" + std::string(rules_json) + "}";
  return scenario_from(doc);
}

wire::Message data(Direction d, std::int64_t seq, std::string_view payload, wire::PayloadType type) {
  return wire::make_message(d == Direction::client_to_agent ? wire::msg::kInputStreamData : wire::msg::kOutputStreamData,
                            seq, 0, type, payload);
}

wire::Message ack_of(Direction d, std::int64_t acked_seq) {
  wire::Acknowledge a;
  a.acknowledged_message_type =
      std::string(d == Direction::client_to_agent ? wire::msg::kOutputStreamData : wire::msg::kInputStreamData);
  a.acknowledged_message_id = base::random_uuid_string();
  a.acknowledged_message_sequence_number = acked_seq;
  return wire::make_message(wire::msg::kAcknowledge, 0, wire::kFlagSyn | wire::kFlagFin, wire::PayloadType::none,
                            a.to_json());
}

struct PipelineHarness::Pipeline {
  Direction direction;
  std::vector<std::shared_ptr<broker::Stage>> stages;
  std::vector<std::unique_ptr<Ctx>> contexts;
};

class PipelineHarness::Ctx final : public broker::StageContext {
 public:
  Ctx(PipelineHarness* h, std::weak_ptr<Pipeline> p, std::size_t next) : h_(h), p_(std::move(p)), next_(next) {}

  void forward(broker::RelayedFrame frame) override {
    auto p = p_.lock();
    if (!p || h_->ended_) return;
    if (next_ < p->stages.size()) {
      p->stages[next_]->process(std::move(frame), *p->contexts[next_]);
    } else {
      h_->deliver(p->direction, std::move(frame));
    }
  }
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto t = h_->scheduler.make_timer();
    t->start(delay, [h = h_, keep = p_.lock(), fn = std::move(fn)] {
      if (!h->ended_) fn();
    });
    h_->timers_.push_back(std::move(t));
  }
  void close_side(broker::Side side, broker::CloseSpec spec) override { h_->closes.emplace_back(side, std::move(spec)); }
  void count(std::string_view what, std::uint64_t n) override { h_->counts[std::string(what)] += n; }
  std::mt19937_64& rng() override { return rng_; }
  const std::string& session_id() const override { return h_->facts_.session_id; }
  const std::string& target() const override { return h_->facts_.target; }
  std::chrono::steady_clock::time_point now() const override { return h_->scheduler.now(); }

 private:
  PipelineHarness* h_;
  std::weak_ptr<Pipeline> p_;
  std::size_t next_;
  std::mt19937_64 rng_{1};
};

PipelineHarness::PipelineHarness(broker::StageFactory factory, broker::SessionFacts facts) : facts_(std::move(facts)) {
  rebuild(std::move(factory));
}

PipelineHarness::~PipelineHarness() {
  ended_ = true;
  timers_.clear();
}

void PipelineHarness::rebuild(broker::StageFactory factory) {
  factory_ = std::move(factory);
  for (Direction d : {Direction::client_to_agent, Direction::agent_to_client}) {
    auto p = std::make_shared<Pipeline>();
    p->direction = d;
    p->stages = factory_(facts_, d);
    for (std::size_t i = 0; i < p->stages.size(); ++i) p->contexts.push_back(std::make_unique<Ctx>(this, p, i + 1));
    pipes_[d == Direction::client_to_agent ? 0 : 1] = std::move(p);
  }
}

void PipelineHarness::send(Direction d, const wire::Message& m) { send_bytes(d, wire::encode(m)); }

void PipelineHarness::send_bytes(Direction d, wire::Bytes bytes) {
  auto decoded = wire::decode(bytes, wire::DecodeMode::lenient);
  ASSERT_TRUE(decoded.has_value());
  const std::size_t i = d == Direction::client_to_agent ? 0 : 1;
  broker::RelayedFrame f{std::move(bytes), std::move(decoded->message), index_[i]++};
  auto p = pipes_[i];
  if (p->stages.empty()) {
    deliver(d, std::move(f));
  } else {
    p->stages[0]->process(std::move(f), *p->contexts[0]);
  }
}

void PipelineHarness::deliver(Direction d, broker::RelayedFrame f) {
  const std::size_t i = d == Direction::client_to_agent ? 0 : 1;
  out[i].push_back(f);
  if (on_out) on_out(d, out[i].back());
}

std::vector<std::int64_t> PipelineHarness::seqs(Direction d) const {
  std::vector<std::int64_t> v;
  for (const auto& f : out[d == Direction::client_to_agent ? 0 : 1]) {
    const auto& t = f.message.message_type;
    if (t == wire::msg::kInputStreamData || t == wire::msg::kOutputStreamData) v.push_back(f.message.sequence_number);
  }
  return v;
}

std::uint64_t PipelineHarness::count(const std::string& what) const {
  auto it = counts.find(what);
  return it == counts.end() ? 0 : it->second;
}

}  // namespace mocksvc::fault::testing
