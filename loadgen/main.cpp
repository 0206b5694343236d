// loadgen: load tests of mocksvc at thousands of sessions. All behaviour lives in ssmh_loadgen;
// this file turns argv into Options, runs, prints the table (stdout) and the JSON summary
// (--json), and exits 0 (every threshold met), 1 (a threshold failed) or 2 (the run could not
// start).
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "loadgen/baseline.hpp"
#include "loadgen/options.hpp"
#include "loadgen/runner.hpp"

int main(int argc, char** argv) {
  using namespace ssmh::loadgen;
  const std::vector<std::string> args(argv, argv + argc);
  auto parsed = parse_args(args, [](const char* name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name)) return std::string(v);
    return std::nullopt;
  });
  if (!parsed.options) {
    (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.output << (parsed.exit_code ? "\n" : "");
    return parsed.exit_code;
  }
  const Options& o = *parsed.options;
  if (o.echo_server) return run_echo_server_program(o.service_threads);

  // SIGINT/SIGTERM end the run early (the summary still prints); taken by one thread with
  // sigwait, so block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> interrupted{false};
  std::thread([signals, &interrupted]() mutable {
    int sig = 0;
    if (sigwait(&signals, &sig) == 0) interrupted = true;
  }).detach();

  RunOutcome outcome = run_load(o, std::cerr, &interrupted);
  if (!outcome.summary) {
    std::cerr << "loadgen: " << outcome.error << std::endl;
    return 2;
  }
  const Summary& s = *outcome.summary;
  std::cout << render_table(s) << std::flush;
  if (!o.json_file.empty()) {
    const std::string text = to_json(s) + "\n";
    if (o.json_file == "-") {
      std::cout << text << std::flush;
    } else {
      std::ofstream out(o.json_file, std::ios::trunc);
      out << text;
      if (!out) {
        std::cerr << "loadgen: cannot write " << o.json_file << std::endl;
        return 2;
      }
    }
  }
  return s.passed() ? 0 : 1;
}
