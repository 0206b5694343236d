// Internal to fault/: the per-session state behind the stages the injector builds. A
// SessionRecord outlives configurations (counters, retransmission tracking); a RuleRuntime holds
// one rule's fault object for one session and one configuration generation, shared by the
// session's two pipelines. Everything marked "strand" is touched only on the session's relay
// strand; the rest is safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mocksvc/broker/stage.hpp"
#include "mocksvc/fault/fault.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault::detail {

// What every session's stages consult: the configuration generation and the instances that are
// offline (instance_offline).
struct Shared {
  std::atomic<std::uint64_t> generation{0};
  mutable std::mutex mu;
  std::set<std::string> offline_targets;

  bool is_offline(const std::string& target) const {
    std::lock_guard lock(mu);
    return offline_targets.count(target) > 0;
  }
};

// A rule's counters across sessions (or calls, for API rules).
struct RuleCounters {
  std::string name;
  std::string type;
  std::atomic<std::uint64_t> matched{0};
  std::atomic<std::uint64_t> applied{0};
};

class SessionRecord {
 public:
  explicit SessionRecord(broker::SessionFacts f) : facts(std::move(f)) {}

  const broker::SessionFacts facts;

  void add(std::string_view action, std::uint64_t n) {
    std::lock_guard lock(mu_);
    for (auto& [k, v] : counts_) {
      if (k == action) {
        v += n;
        return;
      }
    }
    counts_.emplace_back(std::string(action), n);
  }
  std::vector<std::pair<std::string, std::uint64_t>> counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }
  void clear_counts() {
    std::lock_guard lock(mu_);
    counts_.clear();
    retransmitted[0] = 0;
    retransmitted[1] = 0;
  }
  // The time of the session's first relayed frame, set by the first caller.
  Clock::time_point start_or(Clock::time_point now) {
    std::lock_guard lock(mu_);
    if (!start_) start_ = now;
    return *start_;
  }

  std::atomic<std::uint64_t> retransmitted[2] = {0, 0};  // client_to_agent, agent_to_client
  // strand: the highest stream sequence number relayed so far, per direction.
  std::int64_t highest_seq[2] = {-1, -1};
  // strand: the offline gate's pause_publication pacing.
  bool gated = false;
  Clock::time_point last_pause_sent{};

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::uint64_t>> counts_;
  std::optional<Clock::time_point> start_;
};

struct RuleRuntime {
  std::shared_ptr<const Scenario> scenario;
  std::size_t rule_index = 0;
  std::shared_ptr<SessionRecord> session;
  std::shared_ptr<RuleCounters> counters;
  std::shared_ptr<const Shared> shared;
  std::uint64_t generation = 0;
  std::unique_ptr<MessageFault> fault;
  // strand: per direction (client_to_agent, agent_to_client).
  std::mt19937_64 rng[2];
  std::uint64_t matched_in[2] = {0, 0};
  bool attached[2] = {false, false};
  std::uint64_t applied = 0;  // strand: towards match.limit

  const Rule& rule() const { return scenario->rules[rule_index]; }
  bool current() const { return shared->generation.load() == generation; }
};

}  // namespace mocksvc::fault::detail
