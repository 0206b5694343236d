// Agent-side load: K simulated agents (agentsim's Simulator) holding control channels to the
// service, so sessions reach the far side of the broker over real WebSockets too: the service
// sends each one a start_session, the agent opens its data channel, and the port workload's
// echo target is a TCP echo the fleet runs on loopback. Sessions are spread over the agents
// round-robin by the caller.
//
// Not thread-safe: one owner; start() and stop() block the calling thread (not an I/O thread).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "loadgen/options.hpp"
#include "loadgen/service_target.hpp"

namespace ssmh::loadgen {

// False when the program was built without agentsim/.
bool agents_available();

class AgentFleet {
 public:
  AgentFleet();
  ~AgentFleet();  // stop()
  AgentFleet(const AgentFleet&) = delete;
  AgentFleet& operator=(const AgentFleet&) = delete;

  // Starts `o.agents` agents against the target and waits until every control channel is open;
  // returns their instance ids. The error is one line.
  boost::system::result<std::vector<std::string>, std::string> start(const ServiceTarget& target, const Options& o,
                                                                      std::chrono::milliseconds timeout);
  void stop();
  double ready_seconds() const;
  std::size_t ready_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ssmh::loadgen
