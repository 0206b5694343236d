// agent_disconnect: at at_ms after the scenario became active the instance's control channel
// drops: it shows PingStatus ConnectionLost and StartSession answers TargetNotConnected; a real
// agent loses its control-channel WebSocket and reconnects with its own backoff (agent.md §2.6).
// Sessions already running keep their data channels. With duration_ms the agent comes back.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {

const FaultType& agent_disconnect_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "agent_disconnect";
    t.kind = FaultKind::agent;
    t.summary = "The instance's control channel drops (ConnectionLost), optionally coming back.";
    t.attributes = {ms_attr("at_ms", 0, "when, from the scenario's activation"),
                    ms_attr("duration_ms", 0, "reconnect after this long; 0: stays disconnected")};
    t.plan = [](const Rule& r, const std::vector<std::string>& targets) {
      std::vector<PlannedAction> out;
      const auto at = r.attributes.ms("at_ms");
      const auto duration = r.attributes.ms("duration_ms");
      std::vector<std::string> ts = targets.empty() ? std::vector<std::string>{""} : targets;
      for (const auto& target : ts) {
        out.push_back(PlannedAction{at, ActionKind::agent_disconnect, target, "", ""});
        if (duration.count() > 0) out.push_back(PlannedAction{at + duration, ActionKind::agent_reconnect, target, "", ""});
      }
      return out;
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
