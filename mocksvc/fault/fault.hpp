// What a fault type implements, in the style of Toxiproxy's toxics: a message fault acts on the
// relayed frames a rule selected, an API fault decides the fate of an SSM API call, and an agent
// fault plans actions on instances. A fault's configuration is its rule (immutable); the state it
// keeps for one session lives in the fault object the injector builds per session, so a new
// configuration never changes a running fault: it replaces it between frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/backend/error.hpp"
#include "mocksvc/broker/stage.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault {

using Clock = std::chrono::steady_clock;

namespace detail {
struct RuleRuntime;
}

// A message fault's view of its session while it handles a frame. A small value: faults copy it
// into callbacks they schedule (the relay keeps what it refers to alive until they run).
// Runs on the relay's strand, like the stage that made it.
class FaultContext {
 public:
  FaultContext(broker::StageContext* stage, broker::Direction direction,
               std::shared_ptr<detail::RuleRuntime> runtime);

  broker::Direction direction() const { return direction_; }
  const Rule& rule() const;
  const Attributes& attributes() const { return rule().attributes; }
  const broker::SessionFacts& session() const;

  // Passes the frame on towards the far side.
  void forward(broker::RelayedFrame frame) { stage_->forward(std::move(frame)); }
  // Runs fn on the relay's strand after `delay` unless the session ended first.
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);
  void close_side(broker::Side side, broker::CloseSpec spec) { stage_->close_side(side, std::move(spec)); }
  // Counts an action against the session ("dropped", "duplicated", "delayed", ...).
  void count(std::string_view action, std::uint64_t n = 1);
  // Counts one application of the rule (faults that count their own, see MessageFault).
  void applied();
  // This rule's generator for this session and direction, seeded from the scenario seed, the
  // session id, the rule's index and the direction.
  std::mt19937_64& rng();
  Clock::time_point now() const { return stage_->now(); }
  // When the session's first frame was relayed: at_ms attributes count from here.
  Clock::time_point session_start() const;
  // False once another scenario (or a rule switched on or off) replaced this configuration:
  // timers still pending then release what they hold and stop.
  bool current() const;
  // A service control message (pause_publication, start_publication) towards the far side of
  // this direction: meaningful in agent_to_client, where the far side is the client.
  void send_control(std::string_view message_type);

 private:
  broker::StageContext* stage_;
  broker::Direction direction_;
  std::shared_ptr<detail::RuleRuntime> runtime_;
};

class MessageFault {
 public:
  virtual ~MessageFault() = default;
  // Once per direction, with that direction's first frame, before the frame is handled: faults
  // that act at a time (close_after_ms, disconnect at_ms, pause at_ms) arm their timers here.
  virtual void attach(FaultContext&) {}
  // A frame the rule selected (matched, nth/every_nth/limit and probability passed).
  virtual void apply(broker::RelayedFrame frame, FaultContext& ctx) = 0;
  // Any other frame of the rule's directions: faults that keep order (pause) hold these too.
  virtual void pass(broker::RelayedFrame frame, FaultContext& ctx) { ctx.forward(std::move(frame)); }
  // True for faults that act at their own moments (a timer, a kind of message) rather than on
  // every selected frame: they call FaultContext::applied() themselves.
  virtual bool counts_own_applications() const { return false; }
};

// An SSM API call as API faults see it (after authentication and input validation).
struct ApiCall {
  std::string_view operation;
  std::string_view access_key_id;
  std::string_view target;
  std::string_view session_id;
  Clock::time_point now;
};

// What API faults decided: nothing, an error answered instead of running the operation, and/or
// a delay before the answer. `acted` counts towards the rule's "applied".
struct ApiOutcome {
  bool acted = false;
  std::optional<backend::AwsError> error;
  std::chrono::milliseconds delay{0};
};

// One per rule for the whole scenario; called under the injector's API lock.
class ApiFault {
 public:
  virtual ~ApiFault() = default;
  virtual ApiOutcome apply(const ApiCall& call, std::mt19937_64& rng) = 0;
};

// An action on the service at a time after activation (agent rules, timeline steps).
struct PlannedAction {
  std::chrono::milliseconds at{0};
  ActionKind kind = ActionKind::drop_clients;
  std::string target;  // empty: every instance
  std::string rule;    // enable_rule / disable_rule: the rule switched
  std::string source;  // the agent rule that planned it (counted as applied), empty for steps
};

// What the injector needs from the service to act on agents, instances and sessions.
// Implemented by app/ (virtual instances through the backend; real agents through their
// control-channel registry). Called on the injector's strand.
class ServiceControl {
 public:
  virtual ~ServiceControl() = default;
  // The instance's control channel drops: real agents lose their WebSocket, every instance shows
  // PingStatus ConnectionLost and StartSession answers TargetNotConnected. Sessions already
  // running keep their data channels, as with the real agent. False when unknown.
  virtual bool disconnect_agent(const std::string& instance_id) = 0;
  virtual bool reconnect_agent(const std::string& instance_id) = 0;
  // ConnectionLost / Online for the instance (its live sessions are gated by the injector).
  virtual bool set_instance_online(const std::string& instance_id, bool online) = 0;
  virtual std::vector<std::string> instance_ids() = 0;
  // Active sessions on `target` (empty: all): cut their clients' connections / end them.
  virtual std::size_t drop_clients(const std::string& target) = 0;
  virtual std::size_t terminate_sessions(const std::string& target) = 0;
};

}  // namespace mocksvc::fault
