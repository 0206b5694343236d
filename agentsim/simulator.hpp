// A fleet of simulated agents in one process: builds the shared endpoint and TLS trust once,
// starts one SimAgent per identity, reports when every control channel is open, and stops
// them all. What the agentsim program, the load generator and tests embed.
//
// Thread-safe: every method may be called from any thread except an I/O thread of the
// executor (stop() blocks). Events are called on agents' strands and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "agentsim/sim_agent.hpp"
#include "agentsim/settings.hpp"

namespace ssmh::agentsim {

struct SimEvents {
  // Once, when every agent's control channel has opened at least once; instance ids in agent
  // order.
  std::function<void(const std::vector<std::string>& instance_ids)> ready;
  // An agent gave up for good (its registration was refused); the fleet can never be ready.
  std::function<void(const AgentStatus&)> failed;
  std::function<void(const AgentStatus&)> control_channel_changed;
  std::function<void(const AgentStatus&, const std::string& session_id)> session_started;
  std::function<void(const AgentStatus&, const std::string& session_id, const SessionResult&)> session_ended;
};

class Simulator {
 public:
  Simulator(boost::asio::any_io_executor executor, SimConfig config);
  ~Simulator();  // stop()
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Checks the configuration, loads the CA bundle, starts every agent. The error is one line.
  Outcome<void> start(SimEvents events = {});
  // Stops every agent and waits until each has wound down, for at most `grace`. Returns false
  // if some had not. Idempotent.
  bool stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  std::size_t size() const;
  std::vector<AgentStatus> agents() const;
  // Agents are found by instance id (registered agents have one once registration succeeded).
  std::optional<AgentStatus> agent(std::string_view instance_id) const;
  bool set_offline(std::string_view instance_id, bool offline);
  bool drop_control_channel(std::string_view instance_id);
  bool drop_data_channel(std::string_view instance_id, const std::string& session_id);

 private:
  struct Tracker;
  std::shared_ptr<SimAgent> find(std::string_view instance_id) const;

  boost::asio::any_io_executor executor_;
  SimConfig config_;
  std::shared_ptr<Tracker> tracker_;
  std::vector<std::shared_ptr<SimAgent>> agents_;
  bool started_ = false;
  bool stopped_ = false;
  mutable std::mutex mu_;
};

// Checks a configuration without starting anything: an endpoint URL, credentials unless
// registering, instance ids or an activation.
Outcome<void> validate(const SimConfig& config);

}  // namespace ssmh::agentsim
