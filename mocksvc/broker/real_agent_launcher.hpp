// The AgentLauncher for instances served by real agents: a new session becomes an
// interactive_shell message on the instance's control channel (agent.md §5.1); the agent then
// calls CreateDataChannel and joins the relay through Broker::bind_data_channel, whose token
// check token_check() supplies. The session ends when the agent reports agent_task_complete
// (its status and output go to the client), when its data channel ends after Terminating (the
// relay's business), or when the service ends it: then the agent gets channel_closed on the
// control channel too (agent.md §5.2), so a session whose data channel never opened is
// cancelled as well.
//
// Thread-safe: any method may be called from any thread; one mutex guards the pending
// sessions and is never held while calling a relay or the control channels.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/broker/broker.hpp"
#include "mocksvc/broker/control_channel.hpp"

namespace mocksvc::broker {

// What the interactive_shell envelope carries besides the task (agent.md §5.1).
inline constexpr std::string_view kStartSessionTopic = "aws.ssm.startSession";

class RealAgentLauncher final : public AgentLauncher, public TaskListener {
 public:
  // Registers itself as the channels' task listener until destroyed.
  RealAgentLauncher(ControlChannels& channels, backend::Backend& backend);
  ~RealAgentLauncher() override;
  RealAgentLauncher(const RealAgentLauncher&) = delete;
  RealAgentLauncher& operator=(const RealAgentLauncher&) = delete;

  void launch(const backend::SessionStart& start, std::shared_ptr<Relay> relay) override;
  void ended(const std::string& session_id, const std::string& target) override;
  void on_task_complete(const std::string& instance_id,
                        const wire::AgentTaskComplete& task) override;

  // For Broker::set_agent_token_check: the token CreateDataChannel issued for this session and
  // this instance. Valid while the backend lives.
  AgentTokenCheck token_check() const;
  // Sessions told to an agent and not finished by it yet.
  std::size_t pending_sessions() const;

 private:
  struct Pending {
    std::shared_ptr<Relay> relay;
    std::string target;
  };

  ControlChannels& channels_;
  backend::Backend& backend_;
  mutable std::mutex mu_;
  std::map<std::string, Pending> sessions_;
};

// The interactive_shell frame for a session: Seq 0, Flags 0, PayloadType 0, payload the
// MGSPayload envelope whose Content is the task JSON as a string (agent.md §5.1).
wire::Bytes interactive_shell_frame(const backend::SessionStart& start);
// The channel_closed frame that cancels `session_id` on `instance_id` (agent.md §5.2).
wire::Bytes channel_closed_frame(const std::string& session_id, const std::string& instance_id);

}  // namespace mocksvc::broker
