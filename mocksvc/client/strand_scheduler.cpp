#include "mocksvc/client/strand_scheduler.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace mocksvc::client {
namespace {

// The wait handler keeps the timer state alive and compares generations, so a cancelled or
// restarted timer's already-queued completion is a no-op.
struct TimerState {
  explicit TimerState(const StrandScheduler::Strand& strand) : timer(strand) {}
  boost::asio::steady_timer timer;
  std::uint64_t generation = 0;
  std::function<void()> fn;
};

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(const StrandScheduler::Strand& strand)
      : state_(std::make_shared<TimerState>(strand)) {}
  ~AsioTimer() override { cancel(); }

  void start(Duration after, std::function<void()> fn) override {
    cancel();
    state_->fn = std::move(fn);
    const std::uint64_t generation = state_->generation;
    state_->timer.expires_after(after);
    state_->timer.async_wait([state = state_, generation](const boost::system::error_code& ec) {
      if (ec || state->generation != generation || !state->fn) return;
      auto callback = std::move(state->fn);
      state->fn = nullptr;
      callback();
    });
  }

  void cancel() override {
    ++state_->generation;
    state_->fn = nullptr;
    state_->timer.cancel();
  }

 private:
  std::shared_ptr<TimerState> state_;
};

}  // namespace

StrandScheduler::StrandScheduler(boost::asio::any_io_executor executor)
    : strand_(boost::asio::make_strand(std::move(executor))) {}

StrandScheduler::StrandScheduler(Strand strand) : strand_(std::move(strand)) {}

std::unique_ptr<Timer> StrandScheduler::make_timer() { return std::make_unique<AsioTimer>(strand_); }

void StrandScheduler::post(std::function<void()> fn) { boost::asio::post(strand_, std::move(fn)); }

}  // namespace mocksvc::client
