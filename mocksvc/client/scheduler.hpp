// Time and deferred work for the client engine: a Scheduler hands out the current time, one-shot
// timers and a post() for "run this later on the same strand". The engine and its handlers only
// see this interface, so the same code runs on an Asio strand (StrandScheduler) or on hand-moved
// virtual time (ManualScheduler) in tests and simulations.
//
// Not thread-safe: a Scheduler and every Timer it made belong to one strand; all their callbacks
// run on that strand, never inside start()/post() themselves.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <tuple>

namespace mocksvc::client {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

// At most one pending callback: start() replaces it, cancel() drops it, destruction cancels.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void start(Duration after, std::function<void()> fn) = 0;
  virtual void cancel() = 0;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual TimePoint now() const = 0;
  virtual std::unique_ptr<Timer> make_timer() = 0;
  virtual void post(std::function<void()> fn) = 0;
};

// Virtual time that moves only when told. Timers fire in (due time, start order); work posted
// while running is run in the same call. Must outlive every timer it made.
class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(TimePoint start = TimePoint{} + std::chrono::hours(1000));
  ~ManualScheduler() override;

  TimePoint now() const override { return now_; }
  std::unique_ptr<Timer> make_timer() override;
  void post(std::function<void()> fn) override;

  // Runs posted work and timers due at now() until nothing is ready; returns callbacks run.
  std::size_t run_ready();
  // Moves time to `t` (never backwards), firing each timer at its own due time on the way.
  void advance_to(TimePoint t);
  void advance(Duration d) { advance_to(now_ + d); }
  // Advances in steps until pred() holds or `limit` of virtual time passed; returns pred().
  bool run_until(const std::function<bool()>& pred, Duration limit,
                 Duration step = std::chrono::milliseconds(1));
  std::size_t pending_timers() const { return timers_.size(); }

 private:
  class ManualTimer;
  using Key = std::tuple<TimePoint, std::uint64_t>;
  struct Pending {
    std::uint64_t timer_id;
    std::function<void()> fn;
  };

  void schedule(std::uint64_t timer_id, Duration after, std::function<void()> fn);
  void cancel(std::uint64_t timer_id);

  TimePoint now_;
  std::uint64_t order_ = 0;
  std::uint64_t next_timer_id_ = 1;
  std::map<Key, Pending> timers_;
  std::map<std::uint64_t, Key> by_timer_;
  std::deque<std::function<void()>> posted_;
};

}  // namespace mocksvc::client
