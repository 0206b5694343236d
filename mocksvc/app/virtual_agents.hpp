// The AgentLauncher for virtual instances: each session gets a built-in agent (agent::
// SessionAgent) on its own strand, joined to the session's relay through an in-process Peer.
// Sessions on instances of kind "agent" are handed to the real-agent launcher when one is set.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/broker.hpp"

namespace mocksvc::app {

class VirtualAgents final : public broker::AgentLauncher {
 public:
  VirtualAgents(boost::asio::any_io_executor executor, backend::Backend& backend);
  // Sessions whose target is a real agent go here (nullptr: they fail at once).
  void set_agent_launcher(broker::AgentLauncher* real);

  void launch(const backend::SessionStart& start, std::shared_ptr<broker::Relay> relay) override;
  void ended(const std::string& session_id, const std::string& target) override;

 private:
  boost::asio::any_io_executor executor_;
  backend::Backend& backend_;
  broker::AgentLauncher* real_ = nullptr;
};

}  // namespace mocksvc::app
