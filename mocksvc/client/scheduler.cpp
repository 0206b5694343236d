#include "mocksvc/client/scheduler.hpp"

#include <algorithm>
#include <utility>

namespace mocksvc::client {

class ManualScheduler::ManualTimer final : public Timer {
 public:
  ManualTimer(ManualScheduler& owner, std::uint64_t id) : owner_(owner), id_(id) {}
  ~ManualTimer() override { owner_.cancel(id_); }
  void start(Duration after, std::function<void()> fn) override {
    owner_.schedule(id_, after, std::move(fn));
  }
  void cancel() override { owner_.cancel(id_); }

 private:
  ManualScheduler& owner_;
  std::uint64_t id_;
};

ManualScheduler::ManualScheduler(TimePoint start) : now_(start) {}
ManualScheduler::~ManualScheduler() = default;

std::unique_ptr<Timer> ManualScheduler::make_timer() {
  return std::make_unique<ManualTimer>(*this, next_timer_id_++);
}

void ManualScheduler::post(std::function<void()> fn) { posted_.push_back(std::move(fn)); }

void ManualScheduler::schedule(std::uint64_t timer_id, Duration after, std::function<void()> fn) {
  cancel(timer_id);
  if (after < Duration::zero()) after = Duration::zero();
  Key key{now_ + after, order_++};
  timers_.emplace(key, Pending{timer_id, std::move(fn)});
  by_timer_[timer_id] = key;
}

void ManualScheduler::cancel(std::uint64_t timer_id) {
  auto it = by_timer_.find(timer_id);
  if (it == by_timer_.end()) return;
  timers_.erase(it->second);
  by_timer_.erase(it);
}

std::size_t ManualScheduler::run_ready() {
  std::size_t ran = 0;
  for (;;) {
    if (!posted_.empty()) {
      auto fn = std::move(posted_.front());
      posted_.pop_front();
      fn();
      ++ran;
      continue;
    }
    if (!timers_.empty() && std::get<0>(timers_.begin()->first) <= now_) {
      auto node = timers_.extract(timers_.begin());
      by_timer_.erase(node.mapped().timer_id);
      node.mapped().fn();
      ++ran;
      continue;
    }
    return ran;
  }
}

void ManualScheduler::advance_to(TimePoint t) {
  run_ready();
  while (!timers_.empty() && std::get<0>(timers_.begin()->first) <= t) {
    now_ = std::max(now_, std::get<0>(timers_.begin()->first));
    run_ready();
  }
  if (t > now_) now_ = t;
  run_ready();
}

bool ManualScheduler::run_until(const std::function<bool()>& pred, Duration limit, Duration step) {
  const TimePoint end = now_ + limit;
  run_ready();
  while (!pred()) {
    if (now_ >= end) return false;
    advance_to(std::min(end, now_ + step));
  }
  return true;
}

}  // namespace mocksvc::client
