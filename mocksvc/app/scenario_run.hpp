// The run mode (`mocksvc run-scenario FILE`): starts the service in-process on loopback, applies
// the scenario, runs its workload with built-in clients (the client engine over real WebSockets,
// calling the SSM API with SigV4 and the SDK's retries) against virtual instances, announces the
// timeline's events, then checks the scenario's `expect` and prints one PASS/FAIL line each, so a
// scenario file is also a test.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

namespace mocksvc::app {

struct ScenarioRunOptions {
  std::filesystem::path file;
  std::string log_level = "warn";
  bool verbose = false;  // one line per session and per fault counter
};

// Exit codes of run_scenario.
inline constexpr int kScenarioPassed = 0;
inline constexpr int kScenarioFailed = 1;
inline constexpr int kScenarioUnusable = 2;  // the file does not load, or the service did not start

// Blocks until the run is over (the workload's time_limit_ms bounds it).
int run_scenario(const ScenarioRunOptions& options, std::ostream& out);

}  // namespace mocksvc::app
