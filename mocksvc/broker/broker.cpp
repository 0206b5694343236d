#include "mocksvc/broker/broker.hpp"

#include <boost/asio/strand.hpp>

#include <nlohmann/json.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::broker {

namespace asio = boost::asio;
using base::LogLevel;

namespace {

backend::SessionStatus status_from(std::string_view s) {
  if (s == "Connected") return backend::SessionStatus::connected;
  if (s == "Disconnected") return backend::SessionStatus::disconnected;
  if (s == "Terminating") return backend::SessionStatus::terminating;
  return backend::SessionStatus::connecting;
}

std::string_view token_refusal(backend::TokenError e) {
  switch (e) {
    case backend::TokenError::unknown_session: return "The session does not exist.";
    case backend::TokenError::bad_token: return "The token is not valid for this session.";
    case backend::TokenError::expired: return "The token has expired. Call ResumeSession for a new one.";
    case backend::TokenError::session_terminated: return "The session has been terminated.";
  }
  return "Refused.";
}

// Tells a connection why it is refused in the protocol's own form (channel_closed with the
// reason as Output, which the official client prints), then closes it with 1008.
void refuse(Peer& conn, const std::string& session_id, std::string_view why) {
  wire::ChannelClosed closed;
  closed.message_id = base::random_uuid_string();
  closed.created_date = std::to_string(wire::now_ms());
  closed.session_id = session_id;
  closed.output = std::string(why);
  conn.send_binary(wire::encode(
      wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none, closed.to_json())));
  conn.close({CloseSpec::Kind::normal, 1008, std::string(why.substr(0, 120))});
}

// A data-channel connection before and after it said who it is.
class DataChannelInbound final : public Inbound {
 public:
  DataChannelInbound(Broker& broker, backend::Backend& backend, AgentTokenCheck agent_check, std::string session_id,
                     std::shared_ptr<Peer> conn)
      : broker_(broker),
        backend_(backend),
        agent_check_(std::move(agent_check)),
        session_id_(std::move(session_id)),
        conn_(std::move(conn)) {}

  void on_text(std::string_view text) override {
    if (!conn_) return;
    if (role_ != Side::client && role_ != Side::agent) {
      open(text);
      return;
    }
    base::log(LogLevel::debug, "broker", session_id_, ": ignored a text frame after OpenDataChannel");
  }

  void on_binary(wire::ByteView frame) override {
    if (!conn_) return;
    if (!relay_) {
      refuse(*conn_, session_id_, "The first message on a data channel must be OpenDataChannel (a text frame).");
      conn_.reset();
      return;
    }
    wire::Bytes bytes(frame.begin(), frame.end());
    if (role_ == Side::client)
      relay_->from_client(conn_.get(), std::move(bytes));
    else
      relay_->from_agent(conn_.get(), std::move(bytes));
  }

  void on_closed(bool clean, std::string_view why) override {
    if (relay_ && conn_) {
      std::string reason = std::string(clean ? "closed: " : "lost: ") + std::string(why);
      if (role_ == Side::client)
        relay_->detach_client(conn_.get(), reason);
      else
        relay_->detach_agent(conn_.get(), reason);
    }
    conn_.reset();
    relay_.reset();
  }

  std::shared_ptr<Peer> congested() override { return relay_ ? relay_->congested_target(role_) : nullptr; }

 private:
  void open(std::string_view text) {
    auto odc = wire::parse_open_data_channel(text);
    if (!odc) {
      refuse(*conn_, session_id_, "OpenDataChannel is not valid JSON with a TokenValue.");
      conn_.reset();
      return;
    }
    auto relay = broker_.find(session_id_);
    if (odc->variant == wire::OpenDataChannel::Variant::agent) {
      const std::string instance = odc->client_instance_id.value_or("");
      if (!agent_check_ || !agent_check_(session_id_, odc->token_value, instance)) {
        refuse(*conn_, session_id_, "The token is not valid for this session.");
        conn_.reset();
        return;
      }
      if (!relay) {
        refuse(*conn_, session_id_, "Session is already terminated");
        conn_.reset();
        return;
      }
      role_ = Side::agent;
      relay_ = relay;
      relay_->attach_agent(conn_);
      return;
    }
    auto grant = backend_.check_data_channel_token(session_id_, odc->token_value);
    if (!grant) {
      base::log(LogLevel::info, "broker", session_id_, ": data channel refused: ", backend::to_string(grant.error()));
      refuse(*conn_, session_id_, token_refusal(grant.error()));
      conn_.reset();
      return;
    }
    if (!relay) {
      refuse(*conn_, session_id_, "The session has been terminated.");
      conn_.reset();
      return;
    }
    role_ = Side::client;
    relay_ = relay;
    relay_->attach_client(conn_);
  }

  Broker& broker_;
  backend::Backend& backend_;
  AgentTokenCheck agent_check_;
  std::string session_id_;
  std::shared_ptr<Peer> conn_;
  std::shared_ptr<Relay> relay_;
  // Unknown until OpenDataChannel: neither side yet.
  Side role_ = static_cast<Side>(-1);
};

}  // namespace

Broker::Broker(asio::any_io_executor executor, backend::Backend& backend, BrokerOptions options)
    : executor_(executor), backend_(backend), options_(std::move(options)) {}

Broker::~Broker() = default;

void Broker::set_agent_launcher(AgentLauncher* launcher) {
  std::lock_guard lock(mu_);
  launcher_ = launcher;
}

void Broker::set_agent_token_check(AgentTokenCheck check) {
  std::lock_guard lock(mu_);
  agent_token_check_ = std::move(check);
}

void Broker::set_options(BrokerOptions options) {
  std::lock_guard lock(mu_);
  options_ = std::move(options);
}

void Broker::set_stage_factory(StageFactory factory) {
  std::vector<std::shared_ptr<Relay>> live;
  {
    std::lock_guard lock(mu_);
    stage_factory_ = factory;
    for (auto& [id, r] : relays_) live.push_back(r);
  }
  for (auto& r : live) r->set_stage_factory(factory);
}

void Broker::on_session_started(const backend::SessionStart& start) {
  SessionFacts facts{start.session_id, start.target, start.account_id, start.region, start.session_type};
  RelayOptions ro;
  ro.idle_timeout = std::chrono::minutes(start.idle_timeout_minutes);
  ro.max_duration = std::chrono::minutes(start.max_session_duration_minutes);
  AgentLauncher* launcher;
  std::shared_ptr<Relay> relay;
  {
    std::lock_guard lock(mu_);
    ro.transcript = options_.session_logging;
    relay = std::make_shared<Relay>(asio::make_strand(executor_), facts, ro, this, stage_factory_);
    relays_[start.session_id] = relay;
    targets_[start.session_id] = start.target;
    launcher = launcher_;
  }
  relay->start();
  if (launcher) {
    launcher->launch(start, relay);
  } else {
    relay->agent_finished(false, "No agent can serve this instance.");
  }
}

void Broker::on_session_terminate_requested(const std::string& session_id, const std::string& reason) {
  auto relay = find(session_id);
  if (relay) {
    relay->terminate(reason);
  } else {
    backend_.session_ended(session_id, backend::SessionStatus::terminated, "");
  }
}

void Broker::on_status(const std::string& session_id, std::string_view status) {
  backend_.set_session_status(session_id, status_from(status));
}

void Broker::on_ended(const std::string& session_id, std::string_view final_status, std::string_view output) {
  std::shared_ptr<Relay> relay;
  AgentLauncher* launcher;
  std::string target;
  std::function<void(const std::string&, const std::string&)> sink;
  {
    std::lock_guard lock(mu_);
    auto it = relays_.find(session_id);
    if (it != relays_.end()) {
      relay = it->second;
      relays_.erase(it);
    }
    auto t = targets_.find(session_id);
    if (t != targets_.end()) {
      target = t->second;
      targets_.erase(t);
    }
    launcher = launcher_;
    sink = options_.transcript_sink;
    ++sessions_ended_;
    if (relay) {
      auto s = relay->stats();
      ended_totals_.frames_client_to_agent += s.frames_client_to_agent;
      ended_totals_.frames_agent_to_client += s.frames_agent_to_client;
      ended_totals_.bytes_client_to_agent += s.bytes_client_to_agent;
      ended_totals_.bytes_agent_to_client += s.bytes_agent_to_client;
      ended_totals_.bad_frames += s.bad_frames;
      ended_totals_.held_dropped += s.held_dropped;
    }
  }
  backend_.session_ended(session_id,
                         final_status == "Failed" ? backend::SessionStatus::failed : backend::SessionStatus::terminated,
                         output);
  if (launcher) launcher->ended(session_id, target);
  if (relay && sink) {
    auto t = relay->transcript();
    if (!t.empty()) sink(session_id, t);
  }
}

std::shared_ptr<Inbound> Broker::bind_data_channel(std::string session_id, std::shared_ptr<Peer> connection) {
  AgentTokenCheck check;
  {
    std::lock_guard lock(mu_);
    check = agent_token_check_;
  }
  return std::make_shared<DataChannelInbound>(*this, backend_, std::move(check), std::move(session_id),
                                              std::move(connection));
}

std::shared_ptr<Relay> Broker::find(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  auto it = relays_.find(session_id);
  return it == relays_.end() ? nullptr : it->second;
}

bool Broker::drop_client(const std::string& session_id) {
  auto relay = find(session_id);
  if (!relay) return false;
  relay->drop_client({CloseSpec::Kind::abrupt, 1006, ""});
  return true;
}

std::size_t Broker::active_relays() const {
  std::lock_guard lock(mu_);
  return relays_.size();
}

std::string Broker::stats_json() const {
  std::vector<std::shared_ptr<Relay>> live;
  RelayStats totals;
  std::uint64_t ended;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : relays_) live.push_back(r);
    totals = ended_totals_;
    ended = sessions_ended_;
  }
  nlohmann::ordered_json sessions = nlohmann::ordered_json::object();
  for (auto& r : live) {
    auto s = r->stats();
    nlohmann::ordered_json j;
    j["target"] = r->facts().target;
    j["frames_client_to_agent"] = s.frames_client_to_agent;
    j["frames_agent_to_client"] = s.frames_agent_to_client;
    j["bytes_client_to_agent"] = s.bytes_client_to_agent;
    j["bytes_agent_to_client"] = s.bytes_agent_to_client;
    j["bad_frames"] = s.bad_frames;
    j["held_dropped"] = s.held_dropped;
    j["client_connects"] = s.client_connects;
    j["agent_connects"] = s.agent_connects;
    nlohmann::ordered_json faults = nlohmann::ordered_json::object();
    for (auto& [k, v] : s.fault_counts) faults[k] = v;
    j["faults"] = std::move(faults);
    sessions[r->facts().session_id] = std::move(j);
    totals.frames_client_to_agent += s.frames_client_to_agent;
    totals.frames_agent_to_client += s.frames_agent_to_client;
    totals.bytes_client_to_agent += s.bytes_client_to_agent;
    totals.bytes_agent_to_client += s.bytes_agent_to_client;
    totals.bad_frames += s.bad_frames;
    totals.held_dropped += s.held_dropped;
  }
  nlohmann::ordered_json out;
  out["active_sessions"] = live.size();
  out["ended_sessions"] = ended;
  nlohmann::ordered_json t;
  t["frames_client_to_agent"] = totals.frames_client_to_agent;
  t["frames_agent_to_client"] = totals.frames_agent_to_client;
  t["bytes_client_to_agent"] = totals.bytes_client_to_agent;
  t["bytes_agent_to_client"] = totals.bytes_agent_to_client;
  t["bad_frames"] = totals.bad_frames;
  t["held_dropped"] = totals.held_dropped;
  out["totals"] = std::move(t);
  out["sessions"] = std::move(sessions);
  return out.dump();
}

void Broker::shutdown() {
  std::vector<std::shared_ptr<Relay>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, r] : relays_) live.push_back(r);
  }
  for (auto& r : live) r->terminate("service stopping", "The service is shutting down.");
}

}  // namespace mocksvc::broker
