#include "mocksvc/broker/relay.hpp"

#include <boost/asio/post.hpp>
#include <ctime>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::broker {

namespace asio = boost::asio;
using base::LogLevel;
using Clock = std::chrono::steady_clock;

std::string_view to_string(Direction d) {
  return d == Direction::client_to_agent ? "client_to_agent" : "agent_to_client";
}

namespace {

// Frames from a side above this many queued bytes make the other side's reader wait.
constexpr std::size_t kCongestedBytes = 1024 * 1024;

std::string iso_now() {
  auto ms = wire::now_ms();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::uint64_t seed_from(const std::string& s, std::uint64_t given) {
  if (given) return given;
  return std::hash<std::string>{}(s) | 1;
}

}  // namespace

struct Relay::Pipeline {
  Direction direction;
  std::vector<std::shared_ptr<Stage>> stages;
  std::vector<std::unique_ptr<Ctx>> contexts;  // contexts[i] forwards past stages[i]
};

class Relay::Ctx final : public StageContext {
 public:
  Ctx(Relay* relay, std::weak_ptr<Pipeline> pipeline, std::size_t next)
      : relay_(relay), pipeline_(std::move(pipeline)), next_(next) {}

  void forward(RelayedFrame frame) override {
    auto p = pipeline_.lock();
    if (!p || relay_->ended_) return;
    if (next_ < p->stages.size()) {
      p->stages[next_]->process(std::move(frame), *p->contexts[next_]);
    } else {
      relay_->deliver(p->direction, std::move(frame));
    }
  }
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(relay_->strand_, delay);
    std::weak_ptr<Relay> weak = relay_->weak_from_this();
    // The pipeline is kept alive by the pending wait, so frames held by a replaced pipeline
    // are still delivered.
    timer->async_wait([timer, weak, keep = pipeline_.lock(), fn = std::move(fn)](const boost::system::error_code&) {
      auto r = weak.lock();
      if (!r || r->ended_) return;
      fn();
    });
  }
  void close_side(Side side, CloseSpec spec) override {
    std::shared_ptr<Peer> peer;
    {
      std::lock_guard lock(relay_->mu_);
      peer = side == Side::client ? relay_->client_ : relay_->agent_;
    }
    if (peer) peer->close(std::move(spec));
  }
  void count(std::string_view what, std::uint64_t n) override {
    std::lock_guard lock(relay_->mu_);
    for (auto& [k, v] : relay_->stats_.fault_counts) {
      if (k == what) {
        v += n;
        return;
      }
    }
    relay_->stats_.fault_counts.emplace_back(std::string(what), n);
  }
  std::mt19937_64& rng() override { return relay_->rng_; }
  const std::string& session_id() const override { return relay_->facts_.session_id; }
  const std::string& target() const override { return relay_->facts_.target; }
  Clock::time_point now() const override { return Clock::now(); }

 private:
  Relay* relay_;
  std::weak_ptr<Pipeline> pipeline_;
  std::size_t next_;
};

Relay::Relay(Strand strand, SessionFacts facts, RelayOptions options, SessionHooks* hooks, StageFactory stages)
    : strand_(strand),
      facts_(std::move(facts)),
      options_(options),
      hooks_(hooks),
      stage_factory_(std::move(stages)),
      rng_(seed_from(facts_.session_id, options.seed)),
      idle_timer_(strand),
      max_timer_(strand),
      last_activity_(Clock::now()) {}

Relay::~Relay() = default;

void Relay::start() {
  asio::post(strand_, [self = shared_from_this()] {
    self->rebuild_pipelines();
    self->update_status();
    self->arm_idle_timer();
    if (self->options_.max_duration.count() > 0) {
      self->max_timer_.expires_after(self->options_.max_duration);
      self->max_timer_.async_wait([weak = self->weak_from_this()](const boost::system::error_code& ec) {
        auto r = weak.lock();
        if (ec || !r) return;
        r->terminate("maximum session duration reached",
                     "Your session has reached the maximum session duration and has been terminated.");
      });
    }
  });
}

void Relay::rebuild_pipelines() {
  for (Direction d : {Direction::client_to_agent, Direction::agent_to_client}) {
    auto p = std::make_shared<Pipeline>();
    p->direction = d;
    if (stage_factory_) p->stages = stage_factory_(facts_, d);
    for (std::size_t i = 0; i < p->stages.size(); ++i) p->contexts.push_back(std::make_unique<Ctx>(this, p, i + 1));
    (d == Direction::client_to_agent ? c2a_ : a2c_) = std::move(p);
  }
}

void Relay::set_stage_factory(StageFactory stages) {
  asio::post(strand_, [self = shared_from_this(), stages = std::move(stages)]() mutable {
    self->stage_factory_ = std::move(stages);
    self->rebuild_pipelines();
  });
}

void Relay::arm_idle_timer() {
  if (options_.idle_timeout.count() <= 0 || ended_) return;
  idle_timer_.expires_at(last_activity_ + options_.idle_timeout);
  idle_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto r = weak.lock();
    if (ec || !r || r->ended_) return;
    if (Clock::now() - r->last_activity_ >= r->options_.idle_timeout) {
      r->terminate("idle timeout", "Your session timed out due to inactivity and has been terminated.");
    } else {
      r->arm_idle_timer();
    }
  });
}

// ---- attach / detach ---------------------------------------------------------------------

void Relay::attach_client(std::shared_ptr<Peer> peer) {
  asio::post(strand_, [self = shared_from_this(), peer = std::move(peer)]() mutable {
    if (self->ended_) {
      peer->close({CloseSpec::Kind::normal, 1000, "session ended"});
      return;
    }
    std::shared_ptr<Peer> old;
    {
      std::lock_guard lock(self->mu_);
      old = std::exchange(self->client_, peer);
      self->client_seen_ = true;
      ++self->stats_.client_connects;
    }
    if (old) old->close({CloseSpec::Kind::normal, 1000, "replaced by a new connection"});
    base::log(LogLevel::debug, "broker", self->facts_.session_id, ": client attached (", peer->describe(), ")");
    self->last_activity_ = Clock::now();
    self->flush_held(Side::client);
    bool agent_here;
    {
      std::lock_guard lock(self->mu_);
      agent_here = self->agent_ != nullptr;
    }
    // The agent was told to hold its output while no client was here (attach_agent, detach_client).
    if (agent_here) self->send_control(Side::agent, wire::msg::kStartPublication, "");
    if (!agent_here && self->agent_seen_) self->send_control(Side::client, wire::msg::kPausePublication, "");
    self->update_status();
  });
}

void Relay::detach_client(const Peer* peer, std::string why) {
  asio::post(strand_, [self = shared_from_this(), peer, why = std::move(why)] {
    {
      std::lock_guard lock(self->mu_);
      if (self->client_.get() != peer) return;
      self->client_.reset();
    }
    if (self->ended_) return;
    base::log(LogLevel::debug, "broker", self->facts_.session_id, ": client left (", why, ")");
    self->send_control(Side::agent, wire::msg::kPausePublication, "");
    self->update_status();
  });
}

void Relay::attach_agent(std::shared_ptr<Peer> peer) {
  asio::post(strand_, [self = shared_from_this(), peer = std::move(peer)]() mutable {
    if (self->ended_) {
      peer->close({CloseSpec::Kind::normal, 1000, "session ended"});
      return;
    }
    std::shared_ptr<Peer> old;
    bool reconnect;
    bool client_here;
    {
      std::lock_guard lock(self->mu_);
      old = std::exchange(self->agent_, peer);
      reconnect = self->agent_seen_;
      self->agent_seen_ = true;
      client_here = self->client_ != nullptr;
      ++self->stats_.agent_connects;
    }
    if (old) old->close({CloseSpec::Kind::normal, 1000, "replaced by a new connection"});
    base::log(LogLevel::debug, "broker", self->facts_.session_id, ": agent attached (", peer->describe(), ")");
    self->flush_held(Side::agent);
    if (reconnect && client_here) self->send_control(Side::client, wire::msg::kStartPublication, "");
    // Until a client is here the agent holds its output instead of resending it into the void.
    if (!client_here) self->send_control(Side::agent, wire::msg::kPausePublication, "");
    self->update_status();
  });
}

void Relay::detach_agent(const Peer* peer, std::string why) {
  asio::post(strand_, [self = shared_from_this(), peer, why = std::move(why)] {
    {
      std::lock_guard lock(self->mu_);
      if (self->agent_.get() != peer) return;
      self->agent_.reset();
    }
    if (self->ended_) return;
    if (self->agent_terminating_) {
      // agent.md §6.1 step 7: Terminating, then the socket closes: the session is over.
      self->finish("Terminated", "", "agent ended the session", false);
      return;
    }
    base::log(LogLevel::debug, "broker", self->facts_.session_id, ": agent left (", why, ")");
    self->send_control(Side::client, wire::msg::kPausePublication, "");
    self->update_status();
  });
}

// ---- frames --------------------------------------------------------------------------------

void Relay::from_client(const Peer* from, wire::Bytes frame) {
  asio::post(strand_, [self = shared_from_this(), from, frame = std::move(frame)]() mutable {
    {
      std::lock_guard lock(self->mu_);
      if (self->client_.get() != from) return;
    }
    self->on_client_frame(std::move(frame));
  });
}

void Relay::from_agent(const Peer* from, wire::Bytes frame) {
  asio::post(strand_, [self = shared_from_this(), from, frame = std::move(frame)]() mutable {
    {
      std::lock_guard lock(self->mu_);
      if (self->agent_.get() != from) return;
    }
    self->on_agent_frame(std::move(frame));
  });
}

void Relay::on_client_frame(wire::Bytes frame) {
  if (ended_) return;
  auto decoded = wire::decode(frame, wire::DecodeMode::trusting);
  if (!decoded) {
    std::lock_guard lock(mu_);
    ++stats_.bad_frames;
    base::log(LogLevel::debug, "broker", facts_.session_id, ": dropped a malformed client frame (",
              decoded.error().message(), ", ", frame.size(), " bytes)");
    return;
  }
  const auto& type = decoded->message.message_type;
  if (type != wire::msg::kInputStreamData && type != wire::msg::kAcknowledge) {
    base::log(LogLevel::debug, "broker", facts_.session_id, ": ignored client message ", type);
    return;
  }
  if (type == wire::msg::kInputStreamData) last_activity_ = Clock::now();
  RelayedFrame rf{std::move(frame), std::move(decoded->message), index_c2a_++};
  if (c2a_->stages.empty()) {
    deliver(Direction::client_to_agent, std::move(rf));
  } else {
    c2a_->stages[0]->process(std::move(rf), *c2a_->contexts[0]);
  }
}

void Relay::on_agent_frame(wire::Bytes frame) {
  if (ended_) return;
  auto decoded = wire::decode(frame, wire::DecodeMode::trusting);
  if (!decoded) {
    std::lock_guard lock(mu_);
    ++stats_.bad_frames;
    base::log(LogLevel::debug, "broker", facts_.session_id, ": dropped a malformed agent frame (",
              decoded.error().message(), ")");
    return;
  }
  const auto& type = decoded->message.message_type;
  if (type == wire::msg::kAgentSessionState) {
    // The service's business, never relayed (agent.md §6.7).
    auto state = wire::parse_agent_session_state(decoded->message.payload_text());
    if (state && state->session_state == "Terminating") agent_terminating_ = true;
    note(Direction::agent_to_client, decoded->message, frame.size());
    return;
  }
  if (type != wire::msg::kOutputStreamData && type != wire::msg::kAcknowledge) {
    base::log(LogLevel::debug, "broker", facts_.session_id, ": ignored agent message ", type);
    return;
  }
  if (type == wire::msg::kOutputStreamData) last_activity_ = Clock::now();
  RelayedFrame rf{std::move(frame), std::move(decoded->message), index_a2c_++};
  if (a2c_->stages.empty()) {
    deliver(Direction::agent_to_client, std::move(rf));
  } else {
    a2c_->stages[0]->process(std::move(rf), *a2c_->contexts[0]);
  }
}

void Relay::deliver(Direction d, RelayedFrame frame) {
  if (ended_) return;
  note(d, frame.message, frame.bytes.size());
  send_to(d == Direction::client_to_agent ? Side::agent : Side::client, std::move(frame.bytes));
}

void Relay::note(Direction d, const wire::Message& m, std::size_t bytes) {
  std::lock_guard lock(mu_);
  if (d == Direction::client_to_agent) {
    ++stats_.frames_client_to_agent;
    stats_.bytes_client_to_agent += bytes;
  } else {
    ++stats_.frames_agent_to_client;
    stats_.bytes_agent_to_client += bytes;
  }
  if (!options_.transcript || transcript_.size() >= options_.transcript_max_bytes) return;
  nlohmann::ordered_json j;
  j["time_ms"] = wire::now_ms();
  j["direction"] = std::string(to_string(d));
  j["message_type"] = m.message_type;
  j["sequence_number"] = m.sequence_number;
  j["flags"] = m.flags;
  j["payload_type"] = static_cast<std::uint32_t>(m.payload_type);
  j["payload"] = std::string(m.payload_text());
  transcript_ += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  transcript_ += '\n';
}

void Relay::send_to(Side side, wire::Bytes bytes) {
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    peer = side == Side::client ? client_ : agent_;
    if (!peer) {
      auto& held = side == Side::client ? held_for_client_ : held_for_agent_;
      auto& held_bytes = side == Side::client ? held_bytes_client_ : held_bytes_agent_;
      if (held.size() >= options_.hold_frames || held_bytes + bytes.size() > options_.hold_bytes) {
        ++stats_.held_dropped;
        return;
      }
      held_bytes += bytes.size();
      held.push_back(std::move(bytes));
      return;
    }
  }
  peer->send_binary(std::move(bytes));
}

void Relay::flush_held(Side side) {
  std::deque<wire::Bytes> held;
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    peer = side == Side::client ? client_ : agent_;
    if (!peer) return;
    held.swap(side == Side::client ? held_for_client_ : held_for_agent_);
    (side == Side::client ? held_bytes_client_ : held_bytes_agent_) = 0;
  }
  for (auto& f : held) peer->send_binary(std::move(f));
}

void Relay::send_control(Side side, std::string_view message_type, std::string payload) {
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    peer = side == Side::client ? client_ : agent_;
  }
  if (!peer) return;
  peer->send_binary(wire::encode(wire::make_message(message_type, 0, 0, wire::PayloadType::none, payload)));
}

void Relay::update_status() {
  if (ended_) return;
  std::string status;
  {
    std::lock_guard lock(mu_);
    if (client_ && agent_)
      status = "Connected";
    else if (!client_ && client_seen_)
      status = "Disconnected";
    else
      status = "Connecting";
  }
  if (status == last_status_) return;
  last_status_ = status;
  if (hooks_) hooks_->on_status(facts_.session_id, status);
}

// ---- ending --------------------------------------------------------------------------------

void Relay::agent_finished(bool success, std::string output) {
  asio::post(strand_, [self = shared_from_this(), success, output = std::move(output)]() mutable {
    self->finish(success ? "Terminated" : "Failed", output, "agent finished", false);
  });
}

void Relay::terminate(std::string reason, std::string client_output) {
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason), out = std::move(client_output)]() mutable {
    self->finish("Terminated", out, reason, true);
  });
}

void Relay::drop_client(CloseSpec spec) {
  std::shared_ptr<Peer> peer;
  {
    std::lock_guard lock(mu_);
    peer = client_;
  }
  if (peer) peer->close(std::move(spec));
}

void Relay::finish(std::string final_status, std::string client_output, std::string reason, bool tell_agent) {
  if (ended_) return;
  base::log(LogLevel::debug, "broker", facts_.session_id, ": ending (", reason, ")");
  std::shared_ptr<Peer> client, agent;
  {
    std::lock_guard lock(mu_);
    ended_ = true;
    ended_by_service_ = tell_agent;
    client = std::move(client_);
    agent = std::move(agent_);
    held_for_client_.clear();
    held_for_agent_.clear();
  }
  idle_timer_.cancel();
  max_timer_.cancel();
  wire::ChannelClosed closed;
  closed.message_id = base::random_uuid_string();
  closed.created_date = iso_now();
  closed.destination_id = facts_.target;
  closed.session_id = facts_.session_id;
  closed.output = client_output;
  auto frame = [&] {
    return wire::encode(
        wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none, closed.to_json()));
  };
  if (client) {
    client->send_binary(frame());
    client->close({CloseSpec::Kind::normal, 1000, "session ended"});
  }
  if (agent) {
    if (tell_agent) agent->send_binary(frame());
    agent->close({CloseSpec::Kind::normal, 1000, "session ended"});
  }
  if (hooks_) hooks_->on_ended(facts_.session_id, final_status, client_output);
}

// ---- observers -----------------------------------------------------------------------------

RelayStats Relay::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::shared_ptr<Peer> Relay::congested_target(Side from) const {
  std::lock_guard lock(mu_);
  const auto& peer = from == Side::client ? agent_ : client_;
  if (peer && peer->queued_bytes() > kCongestedBytes) return peer;
  return nullptr;
}

std::string Relay::transcript() const {
  std::lock_guard lock(mu_);
  return transcript_;
}

bool Relay::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

bool Relay::ended_by_service() const {
  std::lock_guard lock(mu_);
  return ended_by_service_;
}

}  // namespace mocksvc::broker
