#include "agentsim/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ssmh::agentsim {

namespace {
Millis scale(Millis d, double factor) {
  return Millis(static_cast<Millis::rep>(std::llround(static_cast<double>(d.count()) * factor)));
}
}  // namespace

Backoff Backoff::scaled(double factor) const {
  Backoff b = *this;
  b.initial_min = scale(initial_min, factor);
  b.initial_max = scale(initial_max, factor);
  b.cap = scale(cap, factor);
  return b;
}

Backoff control_channel_backoff() {
  Backoff b;
  b.initial_min = Millis(5000);
  b.initial_max = Millis(10000);
  b.ratio = 2.0;
  b.jitter = 0.5;
  b.cap = std::chrono::minutes(40);
  b.max_retries = -1;
  return b;
}

Backoff data_channel_backoff() {
  Backoff b;
  b.initial_min = Millis(100);
  b.initial_max = Millis(200);
  b.ratio = 2.0;
  b.jitter = 0.0;
  b.cap = Millis(5000);
  b.max_retries = 5;
  return b;
}

Millis uniform_millis(Millis lo, Millis hi, std::mt19937_64& rng) {
  if (hi <= lo) return lo;
  std::uniform_int_distribution<Millis::rep> d(lo.count(), hi.count() - 1);
  return Millis(d(rng));
}

Millis backoff_delay(const Backoff& b, Millis initial, int n, std::mt19937_64& rng) {
  double delay = static_cast<double>(initial.count());
  const double cap = static_cast<double>(b.cap.count());
  for (int i = 0; i < n && delay < cap; ++i) delay *= b.ratio;
  delay = std::min(delay, cap);
  double jitter = 0;
  if (b.jitter > 0 && delay >= 1) {
    std::uniform_real_distribution<double> u(0.0, b.jitter * delay);
    jitter = u(rng);
  }
  return Millis(static_cast<Millis::rep>(delay + jitter));
}

Retryer::Retryer(const Backoff& backoff, std::mt19937_64& rng)
    : backoff_(backoff), rng_(&rng), initial_(uniform_millis(backoff.initial_min, backoff.initial_max, rng)) {}

std::optional<Millis> Retryer::next() {
  if (backoff_.max_retries >= 0 && n_ >= backoff_.max_retries) return std::nullopt;
  // The exponent stops mattering once the cap is reached; bounding it keeps each step cheap in
  // an endless loop.
  const Millis d = backoff_delay(backoff_, initial_, std::min(n_, 64), *rng_);
  ++n_;
  return d;
}

}  // namespace ssmh::agentsim
