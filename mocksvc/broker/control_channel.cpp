#include "mocksvc/broker/control_channel.hpp"

#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::broker {

using base::LogLevel;

namespace {

// A WebSocket close reason must fit in a control frame (123 bytes).
constexpr std::size_t kMaxCloseReason = 120;

// OpenControlChannel spells platforms in lower case; UpdateInstanceInformation capitalises
// them (agent.md §2.3, §7).
std::string platform_name(std::string_view platform) {
  if (platform == "linux") return "Linux";
  if (platform == "windows") return "Windows";
  if (platform == "darwin") return "MacOS";
  return {};
}

}  // namespace

// One control-channel connection before and after its OpenControlChannel.
class ControlChannelInbound final : public Inbound {
 public:
  ControlChannelInbound(ControlChannels& registry, std::string instance_id,
                        std::shared_ptr<Peer> conn)
      : registry_(registry), instance_id_(std::move(instance_id)), conn_(std::move(conn)) {}

  void on_text(std::string_view text) override {
    if (!conn_) return;
    if (generation_ == 0) {
      open(text);
      return;
    }
    registry_.count(&ControlChannelStats::ignored_frames);
    base::log(LogLevel::debug, "broker", instance_id_,
              ": ignored a text frame on the control channel");
  }

  void on_binary(wire::ByteView frame) override {
    if (!conn_) return;
    if (generation_ == 0) {
      refuse("The first message on a control channel must be OpenControlChannel (a text frame).");
      return;
    }
    registry_.count(&ControlChannelStats::frames);
    auto decoded = wire::decode(frame, wire::DecodeMode::trusting);
    if (!decoded) {
      registry_.count(&ControlChannelStats::bad_frames);
      base::log(LogLevel::debug, "broker", instance_id_,
                ": dropped a malformed control-channel frame (", decoded.error().message(), ", ",
                frame.size(), " bytes)");
      return;
    }
    const wire::Message& m = decoded->message;
    if (m.message_type == wire::msg::kAgentTaskComplete) {
      task_complete(m);
      return;
    }
    // agent_telemetry, agent_update_result, agent_job_ack, agent_job_reply, anything else.
    registry_.count(&ControlChannelStats::ignored_frames);
    base::log(LogLevel::debug, "broker", instance_id_, ": ignored control-channel message ",
              m.message_type);
  }

  void on_closed(bool clean, std::string_view why) override {
    if (generation_ != 0) {
      base::log(LogLevel::info, "broker", "control channel of ", instance_id_,
                clean ? " closed: " : " lost: ", why);
      registry_.detach(instance_id_, generation_);
    }
    generation_ = 0;
    conn_.reset();
  }

 private:
  void open(std::string_view text) {
    auto open = wire::parse_open_control_channel(text);
    if (!open) {
      refuse("OpenControlChannel is not valid JSON with a TokenValue.");
      return;
    }
    if (!registry_.backend_.agents().check_control_channel_token(instance_id_, open->token_value)) {
      refuse("The token is not valid for this instance; call CreateControlChannel for a new one.");
      return;
    }
    generation_ = registry_.attach(instance_id_, conn_, *open);
    if (generation_ == 0) refuse(instance_id_ + " is not an agent instance.");
  }

  void refuse(std::string_view why) {
    registry_.count(&ControlChannelStats::refused);
    base::log(LogLevel::info, "broker", "control channel of ", instance_id_, " refused: ", why);
    conn_->close(
        {CloseSpec::Kind::normal, kPolicyViolation, std::string(why.substr(0, kMaxCloseReason))});
    conn_.reset();
  }

  // agent.md §5.3: acknowledge with the MessageId of the agent's message, duplicates too (the
  // agent resends with the same MessageId until it sees the acknowledgement).
  void task_complete(const wire::Message& m) {
    registry_.count(&ControlChannelStats::tasks_completed);
    auto task = wire::parse_agent_task_complete(m.payload_text());
    wire::AgentTaskAcknowledge ack;
    ack.message_id = m.message_id.to_string();
    if (task) ack.task_id = task->task_id;
    conn_->send_binary(wire::encode(wire::make_message(wire::msg::kAgentTaskAcknowledge, 0, 0,
                                                       wire::PayloadType::none, ack.to_json())));
    if (!task) {
      registry_.count(&ControlChannelStats::bad_frames);
      base::log(LogLevel::debug, "broker", instance_id_,
                ": agent_task_complete without a usable payload");
      return;
    }
    if (auto* listener = registry_.listener()) listener->on_task_complete(instance_id_, *task);
  }

  ControlChannels& registry_;
  std::string instance_id_;
  std::shared_ptr<Peer> conn_;
  std::uint64_t generation_ = 0;  // 0 until OpenControlChannel is accepted
};

ControlChannels::ControlChannels(backend::Backend& backend) : backend_(backend) {}

void ControlChannels::set_task_listener(TaskListener* listener) {
  std::lock_guard lock(mu_);
  listener_ = listener;
}

TaskListener* ControlChannels::listener() const {
  std::lock_guard lock(mu_);
  return listener_;
}

void ControlChannels::count(std::uint64_t ControlChannelStats::*counter) {
  std::lock_guard lock(mu_);
  ++(stats_.*counter);
}

std::shared_ptr<Inbound> ControlChannels::bind(std::string instance_id,
                                               std::shared_ptr<Peer> connection) {
  return std::make_shared<ControlChannelInbound>(*this, std::move(instance_id),
                                                 std::move(connection));
}

std::uint64_t ControlChannels::attach(const std::string& instance_id, std::shared_ptr<Peer> peer,
                                      const wire::OpenControlChannel& open) {
  auto inst = backend_.find_instance(instance_id);
  if (!inst || inst->spec.kind != backend::InstanceKind::agent) return 0;
  std::shared_ptr<Peer> old;
  std::uint64_t generation;
  {
    std::lock_guard lock(mu_);
    Channel& ch = channels_[instance_id];
    old = std::move(ch.peer);
    ch = Channel{std::move(peer), next_generation_++, open.agent_version, open.platform_type};
    generation = ch.generation;
    ++stats_.opened;
    if (old) ++stats_.replaced;
    backend_.set_agent_connected(instance_id, true);
  }
  if (old) old->close({CloseSpec::Kind::normal, 1000, "replaced by a new control channel"});

  backend::InstanceReport report;
  report.instance_id = instance_id;
  if (backend::is_agent_version(open.agent_version)) report.agent_version = open.agent_version;
  report.platform_type = platform_name(open.platform_type);
  backend::Caller owner;
  owner.account_id = inst->spec.account_id;
  owner.region = inst->spec.region;
  backend_.update_instance_information(owner, report);
  base::log(LogLevel::info, "broker", "control channel of ", instance_id, " open (agent ",
            open.agent_version, ", ", open.platform_type, ")");
  return generation;
}

void ControlChannels::detach(const std::string& instance_id, std::uint64_t generation) {
  std::lock_guard lock(mu_);
  auto it = channels_.find(instance_id);
  if (it == channels_.end() || it->second.generation != generation) return;
  channels_.erase(it);
  ++stats_.closed;
  backend_.set_agent_connected(instance_id, false);
}

bool ControlChannels::send(std::string_view instance_id, wire::Bytes frame) {
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(instance_id);
    if (it == channels_.end()) return false;
    peer = it->second.peer;
  }
  peer->send_binary(std::move(frame));
  return true;
}

bool ControlChannels::connected(std::string_view instance_id) const {
  std::lock_guard lock(mu_);
  return channels_.find(instance_id) != channels_.end();
}

std::string ControlChannels::agent_version(std::string_view instance_id) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(instance_id);
  return it == channels_.end() ? std::string() : it->second.agent_version;
}

std::vector<std::string> ControlChannels::connected_instances() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, ch] : channels_) out.push_back(id);
  return out;
}

ControlChannelStats ControlChannels::stats() const {
  std::lock_guard lock(mu_);
  ControlChannelStats s = stats_;
  s.connected = channels_.size();
  return s;
}

bool ControlChannels::close(std::string_view instance_id, CloseSpec spec) {
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(instance_id);
    if (it == channels_.end()) return false;
    peer = it->second.peer;
  }
  peer->close(std::move(spec));
  return true;
}

void ControlChannels::close_all() {
  std::vector<std::shared_ptr<Peer>> peers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, ch] : channels_) peers.push_back(ch.peer);
  }
  for (auto& p : peers) p->close({CloseSpec::Kind::normal, 1001, "service stopping"});
}

}  // namespace mocksvc::broker
