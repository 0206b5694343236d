// The SSM API calls of thousands of sessions (StartSession, TerminateSession) over a fixed set of
// kept-alive connections: each lane is one plugin SsmApi (SigV4, the Go SDK's retry policy)
// making one call at a time, so a lane holds exactly one connection and the service sees a
// bounded number of them however many sessions start at once. Calls wait in their lane's queue;
// the time they wait is the client's, not the service's, and is reported apart.
//
// Thread-safe: call() from any thread; each lane runs on its own strand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "plugin/ssm_call.hpp"

namespace ssmh::loadgen {

struct ApiTiming {
  std::chrono::steady_clock::duration queued{};   // waiting for the lane
  std::chrono::steady_clock::duration service{};  // request sent to response read, retries included
};

class ApiPool {
 public:
  using Done = std::function<void(plugin::SsmResult, ApiTiming)>;

  ApiPool(boost::asio::any_io_executor executor, plugin::SsmEndpoint endpoint, unsigned lanes);
  ~ApiPool();
  ApiPool(const ApiPool&) = delete;
  ApiPool& operator=(const ApiPool&) = delete;

  // AmazonSSM.<operation>; `done` runs on `done_executor`.
  void call(std::string operation, std::string json_body, boost::asio::any_io_executor done_executor, Done done);
  // One lane's SsmApi, for a session's ResumeSession/TerminateSession control plane.
  std::shared_ptr<plugin::SsmApi> api_for(std::uint64_t index) const;
  std::uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  struct Lane;
  void run_next(const std::shared_ptr<Lane>& lane);

  std::vector<std::shared_ptr<Lane>> lanes_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace ssmh::loadgen
