// Everything a load run can be told: the workload (port-forward echo or shell), the loop
// (closed: N sessions in flight; open: a fixed arrival rate), sizes, rates, ramp-up, duration and
// hard bounds, where mocksvc is (in this process, a child process, or a URL), the baseline, agent
// load, output files and thresholds. parse_args() turns argv into it; the program does nothing
// else with flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/summary.hpp"

namespace ssmh::loadgen {

enum class LoopMode { closed, open };
enum class Workload { port, shell };
enum class BaselineMode { automatic, off };

struct Options {
  LoopMode mode = LoopMode::closed;
  Workload workload = Workload::port;
  // closed: sessions kept in flight; open: at most this many open at once (0: as the
  // open-files limit allows), later arrivals wait and their latency shows it.
  std::uint64_t sessions = 100;
  std::uint64_t messages = 10;  // round trips per session
  std::uint64_t size = 64;      // bytes of input per round trip
  std::uint64_t pipeline = 1;   // round trips outstanding per session (back-to-back mode)
  double session_rate = 0;      // open loop: new sessions per second
  double message_rate = 0;      // per session; 0 = back to back (closed), else at fixed times
  double ramp_up_s = 0;         // closed: starts spread over it; open: the rate climbs over it
  double hold_s = 0;            // idle time after the last round trip, before TerminateSession
  double duration_s = 0;        // keep starting sessions until then (0: one per slot / max-sessions)
  std::uint64_t max_sessions = 0;  // hard bound on sessions started (0: none)
  double max_time_s = 0;           // hard bound on the run; 0: derived from the others
  double step_timeout_s = 30;      // one setup step or one round trip may take this long

  // The service. Empty endpoint and no binary: start one in this process.
  std::string endpoint;         // http(s)://host:port of a running mocksvc
  std::string mocksvc_binary;   // start this mocksvc program as a child process
  std::int64_t mocksvc_pid = 0;  // a separate mocksvc to read memory figures of
  unsigned service_threads = 0;  // in-process or child mocksvc (0: one per core)
  bool tls = false;              // in-process/child: use the TLS endpoint (https + wss)
  std::string ca_bundle;
  std::string access_key_id;  // empty: AWS_ACCESS_KEY_ID (in-process/child: the service's)
  std::string secret_access_key;
  std::string session_token;
  std::string region;          // empty: AWS_REGION / AWS_DEFAULT_REGION / us-east-1
  std::string instance;        // target instance (empty: the default for the workload)
  unsigned port = 7;           // port workload: the instance port forwarded (7: the echo)

  unsigned client_threads = 0;   // 0: one per core
  unsigned api_connections = 16;  // kept-alive connections for the SSM API calls
  std::uint64_t agents = 0;       // simulated agents holding control channels (0: virtual)
  unsigned agent_threads = 1;
  BaselineMode baseline = BaselineMode::automatic;
  std::string json_file;
  bool progress = true;
  std::uint64_t seed = 1;
  std::string log_level = "warn";
  Thresholds thresholds;

  // `loadgen echo-server`: the baseline's server as a child process (internal).
  bool echo_server = false;
};

struct ParseResult {
  std::optional<Options> options;
  int exit_code = 0;   // when options is empty: 0 for --help, 2 for bad flags
  std::string output;  // help text or the error
};

// argv as given (argv[0] included); `env` reads the environment (credentials, region).
ParseResult parse_args(const std::vector<std::string>& argv,
                       const std::function<std::optional<std::string>(const char*)>& env);

const char* to_string(LoopMode m);
const char* to_string(Workload w);

}  // namespace ssmh::loadgen
