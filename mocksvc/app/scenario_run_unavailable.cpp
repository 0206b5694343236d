// run_scenario for builds without the plugin folder (its SessionRunner plays the clients).
#include "mocksvc/app/scenario_run.hpp"

namespace mocksvc::app {

int run_scenario(const ScenarioRunOptions&, std::ostream& out) {
  out << "run-scenario: this build has no built-in clients (configure with the plugin folder)\n";
  return kScenarioUnusable;
}

}  // namespace mocksvc::app
