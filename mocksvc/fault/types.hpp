// Internal to fault/: the catalog entry of each fault type (defined in the file named after it)
// and the small pieces several types share: attribute spec builders, seeded draws, and an
// ordered release queue for frames held until a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/fault/catalog.hpp"
#include "mocksvc/fault/fault.hpp"

namespace mocksvc::fault {

// ---- catalog entries, one per file ----
const FaultType& drop_fault();
const FaultType& duplicate_fault();
const FaultType& reorder_fault();
const FaultType& delay_fault();
const FaultType& corrupt_fault();
const FaultType& truncate_fault();
const FaultType& bandwidth_fault();
const FaultType& pause_fault();
const FaultType& disconnect_fault();
const FaultType& close_after_ms_fault();
const FaultType& withhold_handshake_fault();
const FaultType& throttle_fault();
const FaultType& error_fault();
const FaultType& latency_fault();
const FaultType& target_not_connected_fault();
const FaultType& agent_disconnect_fault();
const FaultType& agent_reconnect_fault();
const FaultType& agent_slow_ack_fault();
const FaultType& instance_offline_fault();

// Longest duration an attribute may name: one day.
inline constexpr double kMaxAttrMs = 24.0 * 3600 * 1000;

// ---- attribute spec builders ----
AttributeSpec int_attr(std::string_view name, std::optional<std::int64_t> def, double min, double max,
                       std::string_view doc);
AttributeSpec num_attr(std::string_view name, std::optional<double> def, double min, double max,
                       std::string_view doc);
AttributeSpec bool_attr(std::string_view name, bool def, std::string_view doc);
AttributeSpec text_attr(std::string_view name, std::optional<std::string> def,
                        std::vector<std::string_view> choices, std::string_view doc);
AttributeSpec ms_attr(std::string_view name, std::int64_t def, std::string_view doc);

// ---- seeded draws ----
std::int64_t draw(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi);  // inclusive
double draw_unit(std::mt19937_64& rng);                                      // [0, 1)
// latency ± jitter (uniform), never below zero.
std::chrono::milliseconds jittered(std::chrono::milliseconds latency, std::chrono::milliseconds jitter,
                                   std::mt19937_64& rng);

inline std::size_t index_of(broker::Direction d) { return d == broker::Direction::client_to_agent ? 0 : 1; }
broker::Side side_from(std::string_view text);  // "client" / "agent"
broker::CloseSpec close_spec(const Attributes& a);  // close_code, close_reason, abrupt

// Frames released in order at (non-decreasing) times: delay with keep_order, bandwidth,
// agent_slow_ack. One per direction, owned by its fault; its timer callback holds a copy of the
// context that armed it, which keeps the fault (and so the queue) alive until it runs. A
// replaced configuration releases everything at once.
class ReleaseQueue {
 public:
  using TimePoint = Clock::time_point;
  // Holds `frame` until `at` (moved later if needed to keep the order of frames queued).
  void push(TimePoint at, broker::RelayedFrame frame, FaultContext& ctx);
  TimePoint last_release() const { return last_; }
  std::size_t size() const { return queue_.size(); }

 private:
  struct Held {
    TimePoint at;
    broker::RelayedFrame frame;
  };
  void arm(FaultContext ctx);
  void release(FaultContext& ctx);

  std::deque<Held> queue_;
  TimePoint last_{};
  bool armed_ = false;
};

}  // namespace mocksvc::fault
