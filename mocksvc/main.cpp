// mocksvc: runs the fake SSM service until SIGINT/SIGTERM. All behaviour lives in mocksvc_core;
// this file only turns flags into a ServiceConfig and prints how to connect.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "mocksvc/app/config.hpp"
#include "mocksvc/app/scenario_run.hpp"
#include "mocksvc/app/service.hpp"

namespace {

void print_how_to_connect(const mocksvc::app::ServiceInfo& info) {
  std::cout << "\nmocksvc is ready. Point clients at it:\n"
            << "  export AWS_ACCESS_KEY_ID=" << info.access_key_id << " AWS_SECRET_ACCESS_KEY=" << info.secret_access_key
            << " AWS_DEFAULT_REGION=" << info.region << "\n";
  if (!info.ca_bundle.empty()) std::cout << "  export AWS_CA_BUNDLE=" << info.ca_bundle << "   # for " << info.endpoint_tls << "\n";
  std::cout << "  aws ssm describe-instance-information --endpoint-url " << info.endpoint << "\n";
  if (!info.instance_ids.empty())
    std::cout << "  aws ssm start-session --endpoint-url " << info.endpoint << " --target " << info.instance_ids.front()
              << "\n";
  std::cout << "  admin API: " << info.endpoint << "/_mock/health\n" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mocksvc;
  CLI::App cli{"mocksvc: a local fake of AWS Systems Manager Session Manager speaking the real protocol"};
  std::string listen, config_file, state_dir, cert, key, log_level, audit_log;
  std::vector<std::string> tls_names;
  unsigned threads = 0;
  bool no_tls = false, any_signature = false, session_logging = false;
  std::optional<std::uint64_t> seed;
  cli.add_option("--listen", listen, "host:port to listen on (default 127.0.0.1:8443; port 0 picks one)");
  cli.add_option("--config", config_file, "JSON configuration file, applied over the embedded default");
  cli.add_option("--state-dir", state_dir, "where certificates, the audit log and transcripts go (default .state)");
  cli.add_option("--cert", cert, "server certificate chain (PEM) instead of the generated one");
  cli.add_option("--key", key, "private key (PEM) for --cert");
  cli.add_option("--tls-name", tls_names, "extra DNS name or IP for the generated certificate (repeatable)");
  cli.add_flag("--no-tls", no_tls, "serve plain HTTP/WebSocket only");
  cli.add_option("--threads", threads, "I/O threads (default: one per core)");
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  cli.add_flag("--accept-any-signature", any_signature, "accept any access key and signature");
  cli.add_flag("--session-logging", session_logging, "write a transcript of every session to <state-dir>/sessions");
  cli.add_option("--audit-log", audit_log, "audit log path (default <state-dir>/audit.jsonl; - for none)");
  cli.add_option("--seed", seed, "seed for ids and tokens, for reproducible runs");
  std::string scenario_file;
  cli.add_option("--scenario", scenario_file, "fault scenario file to activate at start (scenarios/README.md)");
  app::ScenarioRunOptions run;
  auto* run_cmd = cli.add_subcommand("run-scenario",
                                     "run a scenario file's workload with built-in clients and check its expectations");
  run_cmd->add_option("file", run.file, "the scenario file")->required();
  run_cmd->add_option("--log-level", run.log_level, "the service's log level during the run (default warn)");
  run_cmd->add_flag("--verbose", run.verbose, "one line per session");
  CLI11_PARSE(cli, argc, argv);
  if (*run_cmd) {
    std::signal(SIGPIPE, SIG_IGN);
    return app::run_scenario(run, std::cout);
  }

  app::ServiceConfig config = app::default_config();
  auto fail = [](const std::string& why) {
    std::cerr << "mocksvc: " << why << std::endl;
    return 2;
  };
  if (!config_file.empty())
    if (auto r = app::load_config_file(config, config_file); !r) return fail(r.error());
  if (!listen.empty())
    if (auto r = app::parse_listen(config, listen); !r) return fail(r.error());
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (!cert.empty()) config.tls_cert = cert;
  if (!key.empty()) config.tls_key = key;
  for (auto& n : tls_names) config.tls_names.push_back(n);
  if (no_tls) config.tls = false;
  if (threads) config.threads = threads;
  if (!log_level.empty()) config.log_level = log_level;
  if (any_signature) config.backend.accept_any_credentials = true;
  if (session_logging) config.session_logging = true;
  if (!audit_log.empty()) config.audit_log = audit_log;
  if (seed) config.backend.seed = *seed;

  // Signals are taken by this thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  app::Service service(std::move(config));
  if (!scenario_file.empty())
    if (auto r = service.load_scenario(scenario_file); !r) return fail(r.error());
  auto started = service.start();
  if (!started) return fail(started.error());
  std::cout << started->ready_json() << std::endl;
  print_how_to_connect(*started);

  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "mocksvc: stopping (signal " << sig << ")" << std::endl;
  service.stop();
  return 0;
}
