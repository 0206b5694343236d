// The real agent's retry schedules (agent.md §2.6, §11): the control channel's endless
// reconnect loop and the data channel's short one, as plain data plus the delay arithmetic.
// Deterministic given the random generator; no clocks, no I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace ssmh::agentsim {

using Millis = std::chrono::milliseconds;

// delay(n) = initial × ratio^n, capped at `cap` (n stops growing there), plus a random jitter in
// [0, jitter × delay). `initial` is drawn once per loop from [initial_min, initial_max).
struct Backoff {
  Millis initial_min{0};
  Millis initial_max{0};  // exclusive; equal to initial_min for a fixed initial delay
  double ratio = 2.0;
  double jitter = 0.0;
  Millis cap{0};
  int max_retries = -1;  // retries after the first attempt; -1: forever

  // Every duration multiplied by `factor` (ratios and counts unchanged): tests shrink the
  // real constants, load tests may stretch them.
  Backoff scaled(double factor) const;
};

// Control channel, first setup and every reconnect: 5-10 s, ×2, 50 % jitter, 40 min, forever.
Backoff control_channel_backoff();
// Data channel open and reconnect: 100-200 ms, ×2, no jitter, 5 s, 5 retries.
Backoff data_channel_backoff();

// delay(n) for a loop whose initial delay is `initial` (n = 0 for the first retry).
Millis backoff_delay(const Backoff& b, Millis initial, int n, std::mt19937_64& rng);

// One retry loop: draws its initial delay at construction, then hands out the delay before
// each retry until max_retries are used up.
class Retryer {
 public:
  Retryer(const Backoff& backoff, std::mt19937_64& rng);
  // The wait before the next retry, or nullopt when the loop has no retries left.
  std::optional<Millis> next();
  int retries() const { return n_; }
  Millis initial() const { return initial_; }

 private:
  Backoff backoff_;
  std::mt19937_64* rng_;
  Millis initial_;
  int n_ = 0;
};

// A uniformly random duration in [lo, hi) (lo when hi <= lo).
Millis uniform_millis(Millis lo, Millis hi, std::mt19937_64& rng);

}  // namespace ssmh::agentsim
