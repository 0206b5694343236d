#include <cmath>
#include <map>

#include <CLI/CLI.hpp>

#include "loadgen/options.hpp"

namespace ssmh::loadgen {
namespace {

std::string first_env(const std::function<std::optional<std::string>(const char*)>& env,
                      std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto v = env(n); v && !v->empty()) return *v;
  return {};
}

}  // namespace

const char* to_string(LoopMode m) { return m == LoopMode::closed ? "closed" : "open"; }
const char* to_string(Workload w) { return w == Workload::port ? "port" : "shell"; }

ParseResult parse_args(const std::vector<std::string>& argv,
                       const std::function<std::optional<std::string>(const char*)>& env) {
  Options o;
  Thresholds& t = o.thresholds;
  std::string baseline = "auto";
  CLI::App app{
      "loadgen: drives Session Manager sessions through the real flow (SigV4 StartSession, the data "
      "channel WebSocket, the handshake, echoed round trips, TerminateSession) against mocksvc, and "
      "reports setup and round-trip latency, throughput, errors and memory next to a plain WebSocket "
      "echo baseline measured in the same run."};
  app.set_help_all_flag("--help-all");
  app.add_option("--mode", o.mode, "closed: --sessions in flight, each as fast as it goes; open: --session-rate arrivals/s")
      ->transform(CLI::CheckedTransformer(std::map<std::string, LoopMode>{{"closed", LoopMode::closed}, {"open", LoopMode::open}}));
  app.add_option("--workload", o.workload,
                 "port: a port session (AWS-StartSSHSession) to the instance's TCP echo; shell: the emulated shell "
                 "echoing typed lines")
      ->transform(CLI::CheckedTransformer(std::map<std::string, Workload>{{"port", Workload::port}, {"shell", Workload::shell}}));
  app.add_option("--sessions", o.sessions,
                 "closed loop: sessions in flight; open loop: most sessions open at once (default: what the "
                 "open-files limit allows)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1000000}));
  app.add_option("--messages", o.messages, "round trips per session (default 10)");
  app.add_option("--size", o.size, "bytes of input per round trip (default 64)")
      ->check(CLI::Range(std::uint64_t{4}, std::uint64_t{1} << 20));
  app.add_option("--pipeline", o.pipeline, "round trips outstanding per session when back to back (default 1)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1000}));
  app.add_option("--session-rate", o.session_rate, "open loop: new sessions per second")->check(CLI::NonNegativeNumber);
  app.add_option("--message-rate", o.message_rate,
                 "round trips per second per session, sent at fixed times whatever the echoes do (latency counts "
                 "from the intended send time); 0: back to back")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ramp-up", o.ramp_up_s, "seconds: closed loop spreads session starts over it, open loop raises "
                                           "the arrival rate linearly over it")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--hold", o.hold_s, "seconds a session stays open and idle after its last round trip")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", o.duration_s,
                 "seconds to keep starting sessions (closed loop: each slot starts a new session when one ends; "
                 "0: one session per slot)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-sessions", o.max_sessions, "hard bound on sessions started");
  app.add_option("--max-time", o.max_time_s, "hard bound on the run in seconds: whatever is still open then fails "
                                             "(default: derived from the other settings)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--step-timeout", o.step_timeout_s, "seconds one setup step or one round trip may take (default 30)")
      ->check(CLI::PositiveNumber);

  app.add_option("--endpoint", o.endpoint, "URL of a running mocksvc (http:// or https://); default: start one");
  app.add_option("--mocksvc-bin", o.mocksvc_binary, "start this mocksvc program as a separate process");
  app.add_option("--mocksvc-pid", o.mocksvc_pid, "pid of the separate mocksvc behind --endpoint, for memory figures");
  app.add_option("--mocksvc-threads", o.service_threads, "I/O threads of a mocksvc this run starts (default: one per core)");
  app.add_flag("--tls", o.tls, "with a mocksvc this run starts: use its TLS endpoint (https and wss)");
  app.add_option("--ca-bundle", o.ca_bundle, "PEM to verify https/wss with (default: AWS_CA_BUNDLE)");
  app.add_option("--access-key-id", o.access_key_id, "default: AWS_ACCESS_KEY_ID");
  app.add_option("--secret-access-key", o.secret_access_key, "default: AWS_SECRET_ACCESS_KEY");
  app.add_option("--session-token", o.session_token, "default: AWS_SESSION_TOKEN");
  app.add_option("--region", o.region, "default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1");
  app.add_option("--instance", o.instance,
                 "target instance (default: i-0fedcba9876543210 for port, i-0123456789abcdef0 for shell)");
  app.add_option("--port", o.port, "port workload: the instance port to forward (default 7, the echo)")
      ->check(CLI::Range(1u, 65535u));

  app.add_option("--threads", o.client_threads, "the load generator's I/O threads (default: one per core)");
  app.add_option("--api-connections", o.api_connections, "kept-alive connections for SSM API calls (default 16)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--agents", o.agents, "simulated agents holding control channels; sessions are spread over them "
                                       "(default 0: the service's virtual instances)");
  app.add_option("--agent-threads", o.agent_threads, "I/O threads of the simulated agents (default 1)")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--baseline", baseline, "auto: a plain WebSocket echo with the same sizes and concurrency, placed "
                                         "like mocksvc; off: none")
      ->check(CLI::IsMember({"auto", "off"}));
  app.add_option("--json", o.json_file, "write the JSON summary to this file ('-': stdout)");
  bool quiet = false;
  app.add_flag("--quiet", quiet, "no progress lines");
  app.add_option("--seed", o.seed, "seed for message contents and the clients' random draws");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off (default warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  auto* th = app.add_option_group("thresholds", "exit 1 when one is not met");
  th->add_option("--max-p99-ms", t.max_p99_ms, "echo round trip p99 at most this");
  th->add_option("--max-p999-ms", t.max_p999_ms, "echo round trip p99.9 at most this");
  th->add_option("--max-setup-p99-ms", t.max_setup_p99_ms, "session setup p99 at most this");
  th->add_option("--max-error-rate", t.max_error_rate, "failed sessions over started sessions at most this");
  th->add_option("--max-errors", t.max_errors, "errors of any kind at most this");
  th->add_option("--min-setups-per-second", t.min_setups_per_second, "session setups per second at least this");
  th->add_option("--min-messages-per-second", t.min_messages_per_second, "echoed messages per second at least this");
  th->add_option("--min-throughput-ratio", t.min_throughput_ratio, "echoed messages/s over the baseline's at least this");
  th->add_option("--max-rss-per-session-kib", t.max_rss_per_session_kib,
                 "mocksvc resident memory per open session at most this");

  auto* echo = app.add_subcommand("echo-server", "run the baseline's WebSocket echo server (used by loadgen itself)");
  echo->add_option("--threads", o.service_threads, "I/O threads");

  std::vector<const char*> raw;
  raw.reserve(argv.size());
  for (const auto& a : argv) raw.push_back(a.c_str());
  ParseResult out;
  try {
    app.parse(static_cast<int>(raw.size()), raw.data());
  } catch (const CLI::CallForHelp&) {
    out.output = app.help();
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.output = app.help("", CLI::AppFormatMode::All);
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.output = e.what();
    return out;
  }
  auto fail = [&out](std::string why) {
    out.exit_code = 2;
    out.output = std::move(why);
    return out;
  };
  o.progress = !quiet;
  o.baseline = baseline == "off" ? BaselineMode::off : BaselineMode::automatic;
  o.echo_server = echo->parsed();
  if (o.echo_server) {
    out.options = std::move(o);
    return out;
  }

  if (o.ca_bundle.empty()) o.ca_bundle = first_env(env, {"AWS_CA_BUNDLE"});
  if (o.region.empty()) o.region = first_env(env, {"AWS_REGION", "AWS_DEFAULT_REGION"});
  if (o.access_key_id.empty()) o.access_key_id = first_env(env, {"AWS_ACCESS_KEY_ID"});
  if (o.secret_access_key.empty()) o.secret_access_key = first_env(env, {"AWS_SECRET_ACCESS_KEY"});
  if (o.session_token.empty()) o.session_token = first_env(env, {"AWS_SESSION_TOKEN"});

  if (!o.endpoint.empty() && !o.mocksvc_binary.empty()) return fail("--endpoint and --mocksvc-bin exclude each other");
  if (!o.endpoint.empty()) {
    if (o.endpoint.rfind("http://", 0) != 0 && o.endpoint.rfind("https://", 0) != 0)
      return fail("--endpoint must be an http:// or https:// URL, not '" + o.endpoint + "'");
    if (o.tls) return fail("--tls is for a mocksvc this run starts; give an https:// --endpoint instead");
    if (o.access_key_id.empty() || o.secret_access_key.empty())
      return fail("--endpoint needs credentials: --access-key-id/--secret-access-key or AWS_ACCESS_KEY_ID/"
                  "AWS_SECRET_ACCESS_KEY");
  } else if (o.mocksvc_pid) {
    return fail("--mocksvc-pid goes with --endpoint");
  }
  if (o.mode == LoopMode::open) {
    if (!(o.session_rate > 0)) return fail("--mode open needs --session-rate > 0");
    if (o.duration_s <= 0 && o.max_sessions == 0)
      return fail("--mode open needs --duration or --max-sessions to know when arrivals stop");
  } else {
    if (o.session_rate > 0) return fail("--session-rate is for --mode open");
    if (o.sessions == 0) return fail("--sessions must be at least 1 in closed loop");
  }
  if (o.message_rate > 0 && o.pipeline != 1) return fail("--pipeline is for back-to-back round trips (no --message-rate)");
  if (o.workload == Workload::shell && o.pipeline != 1)
    return fail("--pipeline is for the port workload: a shell prompts for one line at a time");
  out.options = std::move(o);
  return out;
}

}  // namespace ssmh::loadgen
