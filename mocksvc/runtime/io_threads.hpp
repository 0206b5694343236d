// The process's I/O engine: one io_context run by a fixed set of threads. Objects that need
// serialized access (connections, relays, virtual sessions) each run on their own strand of it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace mocksvc::runtime {

class IoThreads {
 public:
  // threads == 0 means std::thread::hardware_concurrency() (at least 1).
  explicit IoThreads(unsigned threads = 0);
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  boost::asio::io_context& context() { return ctx_; }
  boost::asio::any_io_executor executor() { return ctx_.get_executor(); }
  unsigned thread_count() const { return count_; }

  void start();
  // Lets the threads run until no work is left, for at most `grace`, then stops the context
  // (handlers not yet run are abandoned) and joins. Idempotent. Callers close their
  // connections first: a drained context destroys nothing mid-flight.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  unsigned count_;
  boost::asio::io_context ctx_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  unsigned finished_ = 0;
};

}  // namespace mocksvc::runtime
