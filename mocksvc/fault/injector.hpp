// The injector: holds the active scenario and turns it into behaviour. It builds each session's
// stage pipelines (a tap that counts retransmissions and gates offline instances, then one stage
// per message rule), answers API calls with the API rules' verdicts, runs agent rules and the
// timeline through ServiceControl, and keeps the counters behind /_mock/stats and
// /_mock/metrics. A new scenario (or a rule switched on or off) installs new pipelines between
// frames; faults of the old configuration release what they hold and stop.
//
// Thread-safe: every public method may be called from any thread. Timers and actions run on the
// injector's own strand; stages run on their relays' strands.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mocksvc/broker/stage.hpp"
#include "mocksvc/fault/fault.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault {

struct RuleStats {
  std::string name;
  std::string type;
  bool enabled = true;
  std::uint64_t matched = 0;
  std::uint64_t applied = 0;
};

struct SessionFaultStats {
  std::string session_id;
  std::string target;
  std::uint64_t retransmitted_client_to_agent = 0;
  std::uint64_t retransmitted_agent_to_client = 0;
  std::vector<std::pair<std::string, std::uint64_t>> counts;  // "dropped", "duplicated", ...
  std::uint64_t count(std::string_view action) const;
};

struct InjectorStats {
  std::optional<std::string> scenario;  // name of the active one
  std::uint64_t generation = 0;
  std::vector<RuleStats> rules;
  std::vector<SessionFaultStats> sessions;  // live and recently ended
  std::uint64_t api_calls = 0;              // calls the API rules looked at
  std::uint64_t api_delayed = 0;
  std::vector<std::pair<std::string, std::uint64_t>> api_errors;  // by error code
  std::vector<std::pair<std::string, std::uint64_t>> actions;     // by action kind
  std::vector<std::string> offline_targets;

  std::uint64_t throttled() const;
  std::uint64_t api_errors_total() const;
  std::uint64_t retransmissions() const;
  const RuleStats* rule(std::string_view name) const;
};

class Injector {
 public:
  explicit Injector(boost::asio::any_io_executor executor);
  ~Injector();
  Injector(const Injector&) = delete;
  Injector& operator=(const Injector&) = delete;

  // Called with the stage factory whenever the pipelines must change (Broker::set_stage_factory),
  // once right away.
  void set_pipeline_installer(std::function<void(broker::StageFactory)> install);
  // May be null: agent rules and timeline actions then only log.
  void set_service_control(ServiceControl* control);

  // Replaces the active scenario: new rule counters, pipelines swapped between frames, agent
  // rules and `activated` timeline steps scheduled from now.
  void activate(Scenario scenario);
  // No scenario: pipelines keep only the tap; pending actions are cancelled.
  void clear();
  // clear() plus every counter back to zero (POST /_mock/reset).
  void reset();
  // Cancels timers (the service is stopping).
  void stop();
  std::shared_ptr<const Scenario> scenario() const;
  // Switches one rule on or off without restarting the timeline; false for an unknown rule.
  bool set_rule_enabled(std::string_view rule, bool enabled);
  // Starts the timeline steps waiting for `event` (kEventSessionsStarted, ...).
  void notify(std::string_view event);

  // The current pipelines' factory (also what the installer is given).
  broker::StageFactory stage_factory() const;
  // API rules' verdict for one call, in rule order: delays add up, the first error wins.
  ApiOutcome before_api_call(const ApiCall& call);

  InjectorStats stats() const;
  std::string stats_json() const;
  // Prometheus text exposition (0.0.4) of the injector's counters.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Escapes a Prometheus label value (backslash, double quote, newline).
std::string prometheus_label(std::string_view value);

}  // namespace mocksvc::fault
