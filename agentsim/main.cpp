// agentsim: N simulated SSM agents in one process, talking to a Session Manager service over
// real sockets the way amazon-ssm-agent does (shared/protocol/agent.md). Prints one JSON line
// {"event":"ready","instances":[...]} on stdout once every control channel is open, runs
// until SIGINT or SIGTERM, then closes everything. A refused registration prints
// {"event":"failed",...} and exits 1; bad flags exit 2.
#include <csignal>
#include <sys/resource.h>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "agentsim/args.hpp"
#include "agentsim/simulator.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace {

// How long agents get to close their channels on the way out.
constexpr std::chrono::seconds kStopGrace{5};

std::mutex stdout_mu;

// Each agent holds a socket (two while a session runs): lift the soft open-files limit to the
// hard one, as a fleet of thousands needs.
void raise_open_files_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

void print_line(const std::string& line) {
  std::lock_guard lock(stdout_mu);
  std::cout << line << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  namespace sim = ssmh::agentsim;
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = sim::parse_args(args, sim::process_environment());
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.output << (parsed.exit_code ? "\n" : "");
    return parsed.exit_code;
  }
  mocksvc::base::set_log_level(parsed.options->log_level);
  raise_open_files_limit();

  // Signals are taken synchronously by this thread: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // raised by ourselves when an agent gives up
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  mocksvc::runtime::IoThreads io(parsed.options->threads);
  sim::Simulator simulator(io.executor(), parsed.options->config);
  std::atomic<bool> failed{false};
  sim::SimEvents events;
  events.ready = [](const std::vector<std::string>& ids) {
    nlohmann::ordered_json j;
    j["event"] = "ready";
    j["instances"] = ids;
    print_line(j.dump());
  };
  events.failed = [&failed](const sim::AgentStatus& s) {
    nlohmann::ordered_json j;
    j["event"] = "failed";
    j["index"] = s.index;
    j["error"] = s.last_error;
    print_line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    failed = true;
    kill(getpid(), SIGUSR1);
  };
  io.start();
  if (auto started = simulator.start(std::move(events)); !started) {
    std::cerr << "agentsim: " << started.error() << "\n";
    io.stop();
    return 2;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  simulator.stop(kStopGrace);
  io.stop();
  return failed ? 1 : 0;
}
