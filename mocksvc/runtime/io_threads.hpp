// The process's I/O engine: one io_context run by a fixed set of threads. Objects that need
// serialized access (connections, relays, virtual sessions) each run on their own strand of it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
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
  // Stops the context (handlers not yet run are abandoned) and joins the threads. Idempotent;
  // callers cancel their connections first when they want a graceful end.
  void stop();

 private:
  unsigned count_;
  boost::asio::io_context ctx_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace mocksvc::runtime
