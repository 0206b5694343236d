#include "loadgen/metrics.hpp"

#include <algorithm>

namespace ssmh::loadgen {

Metrics::Metrics() = default;

void Metrics::record(Latency which, Clock::duration d) {
  const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
  std::lock_guard lock(mu_);
  latency_[static_cast<std::size_t>(which)].record(ns);
  if (which == Latency::rtt) interval_rtt_.record(ns);
}

void Metrics::error(std::string_view kind) {
  errors_total.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto it = errors_.find(kind);
  if (it == errors_.end()) it = errors_.emplace(std::string(kind), 0).first;
  ++it->second;
}

void Metrics::opened() {
  const auto now_open = open.fetch_add(1, std::memory_order_relaxed) + 1;
  auto peak = peak_open.load(std::memory_order_relaxed);
  while (now_open > peak && !peak_open.compare_exchange_weak(peak, now_open, std::memory_order_relaxed)) {
  }
}

void Metrics::mark(std::atomic<std::int64_t>& a, Clock::time_point t, bool later) {
  const std::int64_t v = to_ns(t);
  std::int64_t cur = a.load(std::memory_order_relaxed);
  while ((cur == 0 || (later ? v > cur : v < cur)) && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

void Metrics::closed() { open.fetch_sub(1, std::memory_order_relaxed); }

Metrics::Snapshot Metrics::snapshot() const {
  std::lock_guard lock(mu_);
  Snapshot s;
  s.latency = latency_;
  s.errors.insert(errors_.begin(), errors_.end());
  return s;
}

Histogram Metrics::take_interval_rtt() {
  std::lock_guard lock(mu_);
  Histogram h = interval_rtt_;
  interval_rtt_.reset();
  return h;
}

}  // namespace ssmh::loadgen
