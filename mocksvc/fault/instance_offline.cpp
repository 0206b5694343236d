// instance_offline: at at_ms after the scenario became active the instance is unreachable: it
// shows ConnectionLost, and its live sessions relay nothing in either direction while the client
// is told pause_publication about once a second (as the real service does when a target dies,
// data-channel.md §12, issue #22). With duration_ms it comes back: the gate opens, the client
// gets start_publication and both ends resend what was not acknowledged.
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {

const FaultType& instance_offline_fault() {
  static const FaultType type = [] {
    FaultType t;
    t.name = "instance_offline";
    t.kind = FaultKind::agent;
    t.summary = "The instance is unreachable: ConnectionLost, and its sessions relay nothing.";
    t.attributes = {ms_attr("at_ms", 0, "when, from the scenario's activation"),
                    ms_attr("duration_ms", 0, "back online after this long; 0: stays offline")};
    t.plan = [](const Rule& r, const std::vector<std::string>& targets) {
      std::vector<PlannedAction> out;
      const auto at = r.attributes.ms("at_ms");
      const auto duration = r.attributes.ms("duration_ms");
      std::vector<std::string> ts = targets.empty() ? std::vector<std::string>{""} : targets;
      for (const auto& target : ts) {
        out.push_back(PlannedAction{at, ActionKind::instance_offline, target, "", ""});
        if (duration.count() > 0) out.push_back(PlannedAction{at + duration, ActionKind::instance_online, target, "", ""});
      }
      return out;
    };
    return t;
  }();
  return type;
}

}  // namespace mocksvc::fault
