#include "mocksvc/broker/real_agent_launcher.hpp"

#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/backend/text_codec.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::broker {

using base::LogLevel;

wire::Bytes interactive_shell_frame(const backend::SessionStart& start) {
  wire::MgsPayload envelope;
  envelope.content = start.task.to_json();
  envelope.task_id = start.session_id;
  envelope.topic = std::string(kStartSessionTopic);
  envelope.schema_version = 1;
  return wire::encode(wire::make_message(wire::msg::kInteractiveShell, 0, 0,
                                         wire::PayloadType::none, envelope.to_json()));
}

wire::Bytes channel_closed_frame(const std::string& session_id, const std::string& instance_id) {
  wire::ChannelClosed closed;
  closed.message_id = base::random_uuid_string();
  closed.created_date = backend::format_iso8601(backend::Clock::now());
  closed.destination_id = instance_id;
  closed.session_id = session_id;
  closed.schema_version = 1;
  return wire::encode(wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none,
                                         closed.to_json()));
}

RealAgentLauncher::RealAgentLauncher(ControlChannels& channels, backend::Backend& backend)
    : channels_(channels), backend_(backend) {
  channels_.set_task_listener(this);
}

RealAgentLauncher::~RealAgentLauncher() { channels_.set_task_listener(nullptr); }

void RealAgentLauncher::launch(const backend::SessionStart& start, std::shared_ptr<Relay> relay) {
  {
    std::lock_guard lock(mu_);
    sessions_[start.session_id] = Pending{relay, start.target};
  }
  if (channels_.send(start.target, interactive_shell_frame(start))) {
    base::log(LogLevel::debug, "broker", start.session_id, ": interactive_shell sent to ",
              start.target);
    return;
  }
  {
    std::lock_guard lock(mu_);
    sessions_.erase(start.session_id);
  }
  relay->agent_finished(false, start.target + " is not connected.");
}

void RealAgentLauncher::ended(const std::string& session_id, const std::string& target) {
  std::shared_ptr<Relay> relay;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    relay = std::move(it->second.relay);
    sessions_.erase(it);
  }
  // An agent that ended the session itself (Terminating, then its data channel closed) is
  // about to report agent_task_complete; only a session the service ended needs cancelling.
  if (relay && relay->ended_by_service()) {
    channels_.send(target, channel_closed_frame(session_id, target));
  }
}

void RealAgentLauncher::on_task_complete(const std::string& instance_id,
                                         const wire::AgentTaskComplete& task) {
  std::shared_ptr<Relay> relay;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(task.task_id);
    if (it == sessions_.end() || it->second.target != instance_id)
      return;  // done, or not its session
    relay = std::move(it->second.relay);
    sessions_.erase(it);
  }
  base::log(LogLevel::debug, "broker", task.task_id, ": agent_task_complete ",
            task.final_task_status);
  relay->agent_finished(task.final_task_status == "Success", task.output);
}

AgentTokenCheck RealAgentLauncher::token_check() const {
  backend::Backend* backend = &backend_;
  return [backend](const std::string& session_id, const std::string& token,
                   const std::string& instance_id) {
    return backend->agents().check_data_channel_token(session_id, token, instance_id);
  };
}

std::size_t RealAgentLauncher::pending_sessions() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace mocksvc::broker
