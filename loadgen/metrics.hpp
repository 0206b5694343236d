// The figures every session adds to while a run goes on: counters (lock-free, read by the
// progress line every second) and latency histograms (behind one mutex, a few hundred
// nanoseconds per record even at 100,000 round trips a second), plus errors counted by kind.
//
// Thread-safe: any thread may record; snapshot() and take_interval_rtt() from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "loadgen/histogram.hpp"

namespace ssmh::loadgen {

using Clock = std::chrono::steady_clock;

enum class Latency { api_call, websocket_open, handshake, first_output, setup_total, rtt };
inline constexpr std::size_t kLatencyKinds = 6;

class Metrics {
 public:
  Metrics();

  void record(Latency which, Clock::duration d);
  void error(std::string_view kind);
  // One more session open (StartSession answered), or one fewer; tracks the peak.
  void opened();
  void closed();

  std::atomic<std::uint64_t> sessions_started{0};
  std::atomic<std::uint64_t> sessions_setup{0};
  std::atomic<std::uint64_t> sessions_completed{0};
  std::atomic<std::uint64_t> sessions_failed{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> peak_open{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> messages_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> client_resent{0};
  std::atomic<std::uint64_t> duplicates_received{0};
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> api_retries{0};
  std::atomic<std::uint64_t> errors_total{0};
  // Steady-clock nanoseconds of the first start and the last completed setup (0: none yet).
  std::atomic<std::int64_t> first_start_ns{0};
  std::atomic<std::int64_t> last_setup_ns{0};
  // The same for the first round trip's intended send and the last echo: the span throughput
  // is counted over.
  std::atomic<std::int64_t> first_message_ns{0};
  std::atomic<std::int64_t> last_echo_ns{0};

  static std::int64_t to_ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  // Sets `a` to `t` if it is unset (0) or, with later = true, if `t` is later.
  static void mark(std::atomic<std::int64_t>& a, Clock::time_point t, bool later);

  struct Snapshot {
    std::array<Histogram, kLatencyKinds> latency;
    std::map<std::string, std::uint64_t> errors;
  };
  Snapshot snapshot() const;
  // The round trips recorded since the last call (for the per-second progress line).
  Histogram take_interval_rtt();

 private:
  mutable std::mutex mu_;
  std::array<Histogram, kLatencyKinds> latency_;
  Histogram interval_rtt_;
  std::map<std::string, std::uint64_t, std::less<>> errors_;
};

}  // namespace ssmh::loadgen
