#include "mocksvc/app/virtual_agents.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/agent/document.hpp"
#include "mocksvc/agent/session_agent.hpp"
#include "mocksvc/base/log.hpp"

namespace mocksvc::app {

namespace asio = boost::asio;

namespace {

// A virtual instance seen from the relay: frames go to the agent engine on its strand.
class VirtualPeer final : public broker::Peer {
 public:
  VirtualPeer(agent::SessionAgent::Strand strand, std::string instance) : strand_(strand), instance_(std::move(instance)) {}
  void bind(std::shared_ptr<agent::SessionAgent> agent) { agent_ = std::move(agent); }

  void send_binary(wire::Bytes frame) override {
    asio::post(strand_, [agent = agent_, frame = std::move(frame)] { agent->on_frame(frame); });
  }
  void send_text(std::string) override {}
  void close(broker::CloseSpec) override {
    asio::post(strand_, [agent = agent_] { agent->stop(); });
  }
  std::size_t queued_bytes() const override { return 0; }
  void when_drained(std::function<void()> fn) override { fn(); }
  std::string describe() const override { return "virtual " + instance_; }

 private:
  agent::SessionAgent::Strand strand_;
  std::string instance_;
  std::shared_ptr<agent::SessionAgent> agent_;
};

agent::InstanceProfile profile_for(const backend::SessionStart& start, const backend::Backend& backend) {
  agent::InstanceProfile p;
  p.instance_id = start.target;
  const auto& v = start.virtual_options;
  p.shell = v.shell == "pty" ? agent::InstanceProfile::Shell::pty : agent::InstanceProfile::Shell::emulated;
  p.user = v.user.empty() ? "ssm-user" : v.user;
  if (auto info = backend.find_instance(start.target)) {
    if (!info->spec.agent_version.empty() && agent::compare_versions(info->spec.agent_version, "3.1.1511.0") > 0)
      p.agent_version = info->spec.agent_version;
    p.hostname = !v.hostname.empty() ? v.hostname : info->spec.computer_name;
  }
  if (p.hostname.empty()) p.hostname = "ip-10-0-0-1";
  for (const auto& [port, target] : v.port_targets) p.port_targets[std::to_string(port)] = target;
  return p;
}

}  // namespace

VirtualAgents::VirtualAgents(asio::any_io_executor executor, backend::Backend& backend)
    : executor_(executor), backend_(backend) {}

void VirtualAgents::set_agent_launcher(broker::AgentLauncher* real) { real_ = real; }

void VirtualAgents::launch(const backend::SessionStart& start, std::shared_ptr<broker::Relay> relay) {
  if (start.kind != backend::InstanceKind::virtual_instance) {
    if (real_) {
      real_->launch(start, std::move(relay));
    } else {
      relay->agent_finished(false, "No agent is connected for " + start.target + ".");
    }
    return;
  }
  auto strand = asio::make_strand(executor_);
  auto peer = std::make_shared<VirtualPeer>(strand, start.target);
  const broker::Peer* from = peer.get();
  auto agent = agent::SessionAgent::create(
      strand, profile_for(start, backend_), start.task,
      [relay, from](wire::Bytes frame) { relay->from_agent(from, std::move(frame)); },
      [relay](agent::SessionEnd end) { relay->agent_finished(end.final_status == "Success", end.output); });
  peer->bind(agent);
  relay->attach_agent(peer);
  asio::post(strand, [agent] { agent->start(); });
}

void VirtualAgents::ended(const std::string& session_id, const std::string& target) {
  if (real_) real_->ended(session_id, target);
}

}  // namespace mocksvc::app
