#include "mocksvc/runtime/io_threads.hpp"

#include <algorithm>

#include "mocksvc/base/log.hpp"

namespace mocksvc::runtime {

IoThreads::IoThreads(unsigned threads)
    : count_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())),
      ctx_(static_cast<int>(count_)) {}

IoThreads::~IoThreads() { stop(); }

void IoThreads::start() {
  if (!threads_.empty()) return;
  guard_.emplace(ctx_.get_executor());
  finished_ = 0;
  for (unsigned i = 0; i < count_; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ctx_.run();
          break;
        } catch (const std::exception& e) {
          base::log(base::LogLevel::error, "runtime", "handler threw, continuing: ", e.what());
        }
      }
      std::lock_guard lock(mu_);
      ++finished_;
      cv_.notify_all();
    });
  }
}

void IoThreads::stop(std::chrono::milliseconds grace) {
  if (threads_.empty()) return;
  guard_.reset();
  {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, grace, [&] { return finished_ == threads_.size(); });
  }
  ctx_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace mocksvc::runtime
