// The Scheduler of real programs: wall-clock steady time, Asio steady timers and post(), all on
// one strand, so a ClientSession and its handlers never run concurrently with themselves.
//
// Runs on the strand it was given (or made); timers and posted work complete there. Timer
// callbacks never run after the Timer was cancelled or destroyed, even if the wait had already
// completed and was queued.
#pragma once

#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/client/scheduler.hpp"

namespace mocksvc::client {

class StrandScheduler final : public Scheduler {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  // Wraps `executor` in a new strand.
  explicit StrandScheduler(boost::asio::any_io_executor executor);
  explicit StrandScheduler(Strand strand);

  TimePoint now() const override { return Clock::now(); }
  std::unique_ptr<Timer> make_timer() override;
  void post(std::function<void()> fn) override;

  const Strand& strand() const { return strand_; }
  // The strand as a polymorphic executor, for sockets and acceptors of handlers.
  boost::asio::any_io_executor executor() const { return strand_; }

 private:
  Strand strand_;
};

}  // namespace mocksvc::client
