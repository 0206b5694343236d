#include "agentsim/simulator.hpp"

#include <set>

#include "mocksvc/net/tls.hpp"

namespace ssmh::agentsim {

// What the agents report into; shared with their hooks so it outlives the Simulator's stack.
struct Simulator::Tracker {
  std::mutex mu;
  std::condition_variable cv;
  SimEvents events;
  std::size_t total = 0;
  std::vector<bool> opened_once;
  std::size_t opened_count = 0;
  bool ready_sent = false;
  std::size_t wound_down = 0;
  std::vector<std::weak_ptr<SimAgent>> agents;

  void on_control_channel(const AgentStatus& status) {
    bool fire = false;
    {
      std::lock_guard lock(mu);
      if (status.control_channel_open && status.index < opened_once.size() && !opened_once[status.index]) {
        opened_once[status.index] = true;
        ++opened_count;
        fire = opened_count == total && !ready_sent;
        if (fire) ready_sent = true;
      }
    }
    if (events.control_channel_changed) events.control_channel_changed(status);
    if (fire && events.ready) {
      std::vector<std::string> ids;
      ids.reserve(agents.size());
      for (const auto& weak : agents)
        if (auto a = weak.lock()) ids.push_back(a->status().instance_id);
      events.ready(ids);
    }
  }
  void on_wound_down() {
    std::lock_guard lock(mu);
    ++wound_down;
    cv.notify_all();
  }
};

Outcome<void> validate(const SimConfig& config) {
  if (auto ws = websocket_base(config.endpoint); !ws) return ws.error();
  if (config.region.empty()) return std::string("a region is required");
  const auto& id = config.identity;
  if (id.activation) {
    if (id.count == 0) return std::string("--count must be at least 1");
    if (!id.instance_ids.empty()) return std::string("instance ids and registration exclude each other");
    return {};
  }
  if (!id.credentials || id.credentials->access_key_id.empty() || id.credentials->secret_access_key.empty())
    return std::string("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --register");
  if (id.instance_ids.empty()) return std::string("no instance ids");
  std::set<std::string> seen;
  for (const auto& i : id.instance_ids) {
    if (i.empty()) return std::string("an instance id is empty");
    if (!seen.insert(i).second) return "instance id " + i + " appears twice";
  }
  return {};
}

Simulator::Simulator(boost::asio::any_io_executor executor, SimConfig config)
    : executor_(executor), config_(std::move(config)), tracker_(std::make_shared<Tracker>()) {}

Simulator::~Simulator() { stop(); }

Outcome<void> Simulator::start(SimEvents events) {
  std::lock_guard lock(mu_);
  if (started_) return std::string("already started");
  if (auto ok = validate(config_); !ok) return ok.error();

  auto endpoint = std::make_shared<Endpoint>();
  endpoint->url = config_.endpoint;
  endpoint->ws_base = *websocket_base(config_.endpoint);
  endpoint->region = config_.region;
  endpoint->sdk_user_agent = sdk_user_agent(config_.agent_version);
  endpoint->timeout = config_.timing.request_timeout;
  if (config_.endpoint.rfind("https://", 0) == 0) {
    auto tls = mocksvc::net::make_client_tls(config_.ca_bundle);
    if (!tls) return tls.error();
    endpoint->tls = *tls;
  }
  auto fleet = std::make_shared<Fleet>();
  fleet->config = config_;
  fleet->endpoint = std::move(endpoint);
  fleet->timing = std::make_shared<const Timing>(config_.timing);

  const bool registering = config_.identity.activation.has_value();
  const std::size_t n = registering ? config_.identity.count : config_.identity.instance_ids.size();
  {
    std::lock_guard t(tracker_->mu);
    tracker_->events = std::move(events);
    tracker_->total = n;
    tracker_->opened_once.assign(n, false);
  }
  std::weak_ptr<Tracker> weak = tracker_;
  SimAgent::Hooks hooks;
  hooks.control_channel_changed = [weak](const AgentStatus& s) {
    if (auto t = weak.lock()) t->on_control_channel(s);
  };
  hooks.failed = [weak](const AgentStatus& s) {
    if (auto t = weak.lock(); t && t->events.failed) t->events.failed(s);
  };
  hooks.session_started = [weak](const AgentStatus& s, const std::string& id) {
    if (auto t = weak.lock(); t && t->events.session_started) t->events.session_started(s, id);
  };
  hooks.session_ended = [weak](const AgentStatus& s, const std::string& id, const SessionResult& r) {
    if (auto t = weak.lock(); t && t->events.session_ended) t->events.session_ended(s, id, r);
  };
  hooks.wound_down = [weak](const AgentStatus&) {
    if (auto t = weak.lock()) t->on_wound_down();
  };
  agents_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string id = registering ? std::string() : config_.identity.instance_ids[i];
    agents_.push_back(SimAgent::create(executor_, fleet, i, std::move(id), hooks));
  }
  {
    std::lock_guard t(tracker_->mu);
    for (const auto& a : agents_) tracker_->agents.push_back(a);
  }
  started_ = true;
  for (const auto& a : agents_) a->start();
  return {};
}

bool Simulator::stop(std::chrono::milliseconds grace) {
  std::vector<std::shared_ptr<SimAgent>> agents;
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopped_) return true;
    stopped_ = true;
    agents = agents_;
  }
  for (const auto& a : agents) a->stop();
  std::unique_lock lock(tracker_->mu);
  return tracker_->cv.wait_for(lock, grace, [&] { return tracker_->wound_down >= agents.size(); });
}

std::size_t Simulator::size() const {
  std::lock_guard lock(mu_);
  return agents_.size();
}

std::vector<AgentStatus> Simulator::agents() const {
  std::lock_guard lock(mu_);
  std::vector<AgentStatus> out;
  out.reserve(agents_.size());
  for (const auto& a : agents_) out.push_back(a->status());
  return out;
}

std::shared_ptr<SimAgent> Simulator::find(std::string_view instance_id) const {
  std::lock_guard lock(mu_);
  for (const auto& a : agents_)
    if (a->status().instance_id == instance_id) return a;
  return nullptr;
}

std::optional<AgentStatus> Simulator::agent(std::string_view instance_id) const {
  if (auto a = find(instance_id)) return a->status();
  return std::nullopt;
}

bool Simulator::set_offline(std::string_view instance_id, bool offline) {
  auto a = find(instance_id);
  if (a) a->set_offline(offline);
  return a != nullptr;
}

bool Simulator::drop_control_channel(std::string_view instance_id) {
  auto a = find(instance_id);
  if (a) a->drop_control_channel();
  return a != nullptr;
}

bool Simulator::drop_data_channel(std::string_view instance_id, const std::string& session_id) {
  auto a = find(instance_id);
  if (a) a->drop_data_channel(session_id);
  return a != nullptr;
}

}  // namespace ssmh::agentsim
