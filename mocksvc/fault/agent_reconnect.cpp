// agent_reconnect: at at_ms after the scenario became active the instance's agent is back
// (PingStatus Online), ending an agent_disconnect without a duration.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {

const FaultType& agent_reconnect_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "agent_reconnect";
    t.kind = FaultKind::agent;
    t.summary = "The instance's agent is back (Online).";
    t.attributes = {ms_attr("at_ms", 0, "when, from the scenario's activation")};
    t.plan = [](const Rule& r, const std::vector<std::string>& targets) {
      std::vector<PlannedAction> out;
      std::vector<std::string> ts = targets.empty() ? std::vector<std::string>{""} : targets;
      for (const auto& target : ts)
        out.push_back(PlannedAction{r.attributes.ms("at_ms"), ActionKind::agent_reconnect, target, "", ""});
      return out;
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
