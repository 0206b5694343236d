#include "mocksvc/app/scenario_run.hpp"

#include <atomic>
#include <condition_variable>
#include <iomanip>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/app/config.hpp"
#include "mocksvc/app/faults.hpp"
#include "mocksvc/app/service.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/client/scripted.hpp"
#include "mocksvc/fault/injector.hpp"
#include "mocksvc/fault/scenario.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "plugin/session_runner.hpp"
#include "plugin/ssm_call.hpp"

namespace mocksvc::app {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace plugin = ssmh::plugin;
using Clock = std::chrono::steady_clock;
using fault::WorkloadStep;
using namespace std::chrono_literals;

// How long the runner waits for a session it ended itself (TerminateSession) to close, and for
// the client threads to finish their work when it stops them.
constexpr auto kEndWait = std::chrono::seconds(15);
constexpr auto kClientStopGrace = std::chrono::milliseconds(500);
// Input lines typed by an input_bytes step: short enough for any terminal line discipline.
constexpr std::size_t kInputLine = 100;
// The emulated shell's prompt for a non-root user, and its line end (agent/emulated_shell.hpp).
constexpr std::string_view kPromptAfterLine = "\r\n$ ";
constexpr std::string_view kCrlf = "\r\n";

// Progress of the whole run, shared by the sessions' strands and the main thread; announces the
// timeline events to the injector as they happen.
class Progress {
 public:
  Progress(fault::Injector& injector, int sessions) : injector_(injector), total_(sessions) {}

  void start_done(bool ok) {
    std::lock_guard lock(mu_);
    ++starts_done_;
    if (ok) ++started_;
    announce();
  }
  void connected() {
    std::lock_guard lock(mu_);
    ++connected_;
    announce();
  }
  void settled() {
    std::lock_guard lock(mu_);
    ++settled_;
    announce();
  }
  void finished() {
    std::lock_guard lock(mu_);
    ++finished_;
    cv_.notify_all();
  }
  // Every StartSession answered and every started session settled (script over or session gone).
  bool wait_settled(Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return starts_done_ == total_ && settled_ >= started_; });
  }
  bool wait_finished(int count, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    return cv_.wait_until(lock, deadline, [&] { return finished_ >= count; });
  }

 private:
  void announce() {
    cv_.notify_all();
    if (starts_done_ < total_) return;
    if (!sent_started_) {
      sent_started_ = true;
      injector_.notify(fault::kEventSessionsStarted);
    }
    if (!sent_connected_ && connected_ >= started_) {
      sent_connected_ = true;
      injector_.notify(fault::kEventSessionsConnected);
    }
    if (!sent_done_ && settled_ >= started_) {
      sent_done_ = true;
      injector_.notify(fault::kEventWorkloadDone);
    }
  }

  fault::Injector& injector_;
  const int total_;
  std::mutex mu_;
  std::condition_variable cv_;
  int starts_done_ = 0;
  int started_ = 0;
  int connected_ = 0;
  int settled_ = 0;
  int finished_ = 0;
  bool sent_started_ = false;
  bool sent_connected_ = false;
  bool sent_done_ = false;
};

struct RunEnv {
  const fault::Scenario& scenario;
  const fault::Workload& workload;
  const ServiceInfo& info;
  std::string target;
  std::shared_ptr<plugin::SsmApi> api;
  plugin::CredentialsProvider credentials;
  Progress& progress;
};

// One built-in client: StartSession, then the client engine with a ScriptedHandler running the
// workload's steps. Everything after construction runs on its strand; the main thread reads the
// results once the client threads have stopped.
class ClientRun {
 public:
  ClientRun(int index, RunEnv& env, asio::any_io_executor executor)
      : index_(index), env_(env), strand_(asio::make_strand(executor)), start_timer_(strand_) {}

  // Results, read after the client threads stopped; session_id also once has_session is set.
  std::string session_id;
  std::atomic<bool> has_session{false};
  bool start_failed = false;
  std::string start_error;
  bool connected = false;
  bool script_done = false;
  bool failed = false;
  bool data_lost = false;
  bool finished = false;
  int exit_code = -1;
  std::string failure;

  bool completed() const { return script_done && !failed && finished && exit_code == 0; }
  plugin::SessionRunner* runner() const { return runner_.get(); }

  void launch(std::chrono::milliseconds after) {
    start_timer_.expires_after(after);
    start_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) start_session();
    });
  }

  // Ends the session from outside (script done without an exit step, or a failure).
  void terminate() {
    asio::post(strand_, [this] {
      if (finished || session_id.empty()) return;
      nlohmann::json body = {{"SessionId", session_id}};
      env_.api->call("TerminateSession", body.dump(), strand_, [](plugin::SsmResult) {});
    });
  }

 private:
  void start_session() {
    nlohmann::json body = {{"Target", env_.target}};
    if (!env_.workload.document_name.empty()) body["DocumentName"] = env_.workload.document_name;
    env_.api->call("StartSession", body.dump(), strand_, [this](plugin::SsmResult r) { on_started(std::move(r)); });
  }

  void on_started(plugin::SsmResult r) {
    auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!r.ok() || !j.is_object() || !j.value("SessionId", nlohmann::json()).is_string()) {
      start_failed = true;
      start_error = r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error;
      env_.progress.start_done(false);
      return;
    }
    session_id = j.value("SessionId", "");
    has_session = true;
    plugin::RunnerOptions o;
    o.session.session_id = session_id;
    o.session.token_value = j.value("TokenValue", "");
    o.session.stream_url = j.value("StreamUrl", "");
    o.session.target = env_.target;
    o.session.region = env_.info.region;
    o.session.client_id = base::random_uuid_string();
    o.session.seed = fault::derive_seed(env_.scenario.seed, "client", static_cast<std::uint64_t>(index_));
    o.session.keep_input_while_disconnected = env_.workload.keep_input_while_disconnected;
    // The plugin keeps running dead after its last reconnect attempt (issue #135); a run must end.
    o.session.finish_when_reconnect_fails = true;
    o.session.print_starting_line = false;
    o.ssm_endpoint = env_.info.endpoint;
    o.credentials = env_.credentials;
    o.api = env_.api;
    o.make_handler = [this](const client::SessionTypeInfo&) -> std::unique_ptr<client::SessionHandler> {
      client::ScriptedHandler::Options ho;
      ho.on_started = [this](client::ScriptedHandler& h) { on_handler_started(h); };
      ho.on_output = [this](wire::PayloadType, std::string_view bytes) { on_output(bytes); };
      return std::make_unique<client::ScriptedHandler>(runner_->scheduler(), std::move(ho));
    };
    o.on_finished = [this](int code) { on_finished(code); };
    runner_ = std::make_unique<plugin::SessionRunner>(strand_, std::move(o));
    step_timer_ = runner_->scheduler().make_timer();
    env_.progress.start_done(true);
    runner_->start();
  }

  void on_handler_started(client::ScriptedHandler& h) {
    handler_ = &h;
    connected = true;
    env_.progress.connected();
    run_step();
  }

  void on_finished(int code) {
    finished = true;
    exit_code = code;
    step_timer_->cancel();
    waiter_.reset();
    if (expecting_end_) {
      expecting_end_ = false;
      ++step_;
      run_step();
    } else if (!script_done && !failed) {
      fail("the session ended during step " + std::to_string(step_ + 1));
    }
    env_.progress.finished();
  }

  // ---- the script ----

  const std::vector<WorkloadStep>& steps() const { return env_.workload.steps; }

  void next() {
    ++step_;
    runner_->scheduler().post([this] { run_step(); });
  }

  void fail(std::string why) {
    if (failed || script_done) return;
    failed = true;
    failure = "step " + std::to_string(step_ + 1) + ": " + std::move(why);
    step_timer_->cancel();
    waiter_.reset();
    env_.progress.settled();
  }

  void run_step() {
    if (failed || script_done) return;
    if (step_ >= steps().size()) {
      script_done = true;
      env_.progress.settled();
      return;
    }
    if (finished) {
      fail("the session had already ended");
      return;
    }
    const WorkloadStep& s = steps()[step_];
    arm_timeout(s);
    switch (s.kind) {
      case WorkloadStep::Kind::expect:
        wait_for(s.text, mark_, [this, n = s.text.size()](std::size_t pos) {
          mark_ = pos + n;
          next();
        });
        break;
      case WorkloadStep::Kind::send:
        handler_->send(s.text);
        next();
        break;
      case WorkloadStep::Kind::sleep:
        step_timer_->start(s.duration, [this] { next(); });
        break;
      case WorkloadStep::Kind::output_lines:
        output_lines(s.count);
        break;
      case WorkloadStep::Kind::input_bytes:
        input_text_ = input_text(s.count);
        input_pos_ = 0;
        input_line();
        break;
      case WorkloadStep::Kind::api:
        call_api(s.text);
        break;
      case WorkloadStep::Kind::exit:
        expecting_end_ = true;
        handler_->send("exit\r");
        break;
      case WorkloadStep::Kind::wait_end:
        expecting_end_ = true;
        break;
    }
  }

  void arm_timeout(const WorkloadStep& s) {
    if (s.kind == WorkloadStep::Kind::sleep) return;
    std::string what(fault::to_string(s.kind));
    step_timer_->start(s.timeout, [this, what] { fail(what + " timed out"); });
  }

  // seq 1 N: every line must arrive, in order, exactly once.
  void output_lines(std::int64_t n) {
    const std::size_t start = capture_.size();
    const std::string last = std::to_string(n);
    handler_->send("seq 1 " + last + "\r");
    wait_for("\n" + last + "\r\n", start, [this, start, n](std::size_t pos) {
      std::string expected;
      for (std::int64_t i = 1; i <= n; ++i) expected.append(std::to_string(i)).append(kCrlf);
      if (capture_.find(expected, start) == std::string::npos) {
        data_lost = true;
        fail("output_lines: the output of seq 1 " + std::to_string(n) + " arrived incomplete or out of order");
        return;
      }
      mark_ = pos + 1;
      next();
    });
  }

  std::string input_text(std::int64_t n) {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::mt19937_64 rng(fault::derive_seed(env_.scenario.seed, "input", static_cast<std::uint64_t>(index_) * 1000 + step_));
    std::string s;
    for (std::int64_t i = 0; i < n; ++i) s += kAlphabet[rng() % kAlphabet.size()];
    return s;
  }

  // One `echo <chunk>` at a time: the terminal's echo of the typed line and the command's output
  // must both be the chunk, byte for byte.
  void input_line() {
    if (input_pos_ >= input_text_.size()) {
      next();
      return;
    }
    const std::string chunk = input_text_.substr(input_pos_, kInputLine);
    input_pos_ += chunk.size();
    const std::size_t start = capture_.size();
    handler_->send("echo " + chunk + "\r");
    wait_for(std::string(kPromptAfterLine), start, [this, start, chunk](std::size_t pos) {
      const std::string want = "echo " + chunk + std::string(kCrlf) + chunk;
      if (capture_.compare(start, pos - start, want) != 0) {
        data_lost = true;
        fail("input_bytes: the line typed was not echoed back intact");
        return;
      }
      mark_ = pos + kPromptAfterLine.size();
      input_line();
    });
  }

  void call_api(const std::string& operation) {
    nlohmann::json body = nlohmann::json::object();
    if (operation == "DescribeSessions") body["State"] = "Active";
    if (operation == "GetConnectionStatus") body["Target"] = env_.target;
    env_.api->call(operation, body.dump(), strand_, [this, operation](plugin::SsmResult r) {
      if (failed || finished) return;
      if (!r.ok()) {
        fail("api " + operation + " failed: " + r.error);
        return;
      }
      next();
    });
  }

  // ---- output matching ----

  struct Waiter {
    std::string needle;
    std::size_t from;
    std::function<void(std::size_t)> found;
  };

  void wait_for(std::string needle, std::size_t from, std::function<void(std::size_t)> found) {
    waiter_ = Waiter{std::move(needle), from, std::move(found)};
    check();
  }

  void on_output(std::string_view bytes) {
    capture_.append(bytes);
    check();
  }

  void check() {
    if (!waiter_) return;
    const std::size_t pos = capture_.find(waiter_->needle, waiter_->from);
    if (pos == std::string::npos) {
      // Nothing before this point can start a match any more.
      if (capture_.size() >= waiter_->needle.size())
        waiter_->from = std::max(waiter_->from, capture_.size() - waiter_->needle.size() + 1);
      return;
    }
    step_timer_->cancel();
    auto found = std::move(waiter_->found);
    waiter_.reset();
    found(pos);
  }

  const int index_;
  RunEnv& env_;
  plugin::Strand strand_;
  asio::steady_timer start_timer_;
  std::unique_ptr<plugin::SessionRunner> runner_;
  std::unique_ptr<client::Timer> step_timer_;
  client::ScriptedHandler* handler_ = nullptr;
  std::size_t step_ = 0;
  std::string capture_;
  std::size_t mark_ = 0;
  std::optional<Waiter> waiter_;
  bool expecting_end_ = false;
  std::string input_text_;
  std::size_t input_pos_ = 0;
};

// ---- expectations ----------------------------------------------------------------------------

struct Totals {
  int sessions = 0;
  int started = 0;
  int start_failures = 0;
  int completed = 0;
  int data_lost = 0;
  bool all_ended = true;
  std::uint64_t reconnects = 0;
  std::uint64_t resume_calls = 0;
  std::uint64_t given_up = 0;
  std::uint64_t client_resends = 0;
  std::uint64_t retrans_c2a = 0;
  std::uint64_t retrans_a2c = 0;
  std::int64_t duration_ms = 0;
};

class Checker {
 public:
  explicit Checker(std::ostream& out) : out_(out) {}

  void at_least(std::string_view name, std::int64_t want, std::uint64_t got) {
    line(got >= static_cast<std::uint64_t>(want), name,
         std::to_string(got) + " seen, at least " + std::to_string(want) + " expected");
  }
  void at_most(std::string_view name, std::int64_t want, std::uint64_t got) {
    line(got <= static_cast<std::uint64_t>(want), name,
         std::to_string(got) + " seen, at most " + std::to_string(want) + " expected");
  }
  void line(bool ok, std::string_view name, const std::string& detail) {
    ++checked_;
    if (!ok) ++failed_;
    out_ << (ok ? "PASS  " : "FAIL  ") << name << ": " << detail << "\n";
  }
  int checked() const { return checked_; }
  int failed() const { return failed_; }

 private:
  std::ostream& out_;
  int checked_ = 0;
  int failed_ = 0;
};

void check_expectations(const fault::Expectations& e, const Totals& t, const fault::InjectorStats& stats,
                        Checker& c) {
  const std::string of = std::to_string(t.completed) + " of " + std::to_string(t.sessions) + " sessions completed";
  if (e.all_sessions_completed)
    c.line((t.completed == t.sessions) == *e.all_sessions_completed, "all_sessions_completed", of);
  if (e.sessions_completed)
    c.line(t.completed == *e.sessions_completed, "sessions_completed",
           of + ", " + std::to_string(*e.sessions_completed) + " expected");
  if (e.no_data_lost)
    c.line((t.data_lost == 0) == *e.no_data_lost, "no_data_lost",
           std::to_string(t.data_lost) + " sessions saw data arrive incomplete, altered or out of order");
  if (e.all_sessions_ended)
    c.line(t.all_ended == *e.all_sessions_ended, "all_sessions_ended",
           t.all_ended ? "every session had ended before the run cleaned up"
                       : "some sessions were still active when the workload was over");
  if (e.min_retransmissions) c.at_least("min_retransmissions", *e.min_retransmissions, t.retrans_c2a + t.retrans_a2c);
  if (e.min_retransmissions_client_to_agent)
    c.at_least("min_retransmissions_client_to_agent", *e.min_retransmissions_client_to_agent, t.retrans_c2a);
  if (e.min_retransmissions_agent_to_client)
    c.at_least("min_retransmissions_agent_to_client", *e.min_retransmissions_agent_to_client, t.retrans_a2c);
  if (e.min_reconnects) c.at_least("min_reconnects", *e.min_reconnects, t.reconnects);
  if (e.min_resume_calls) c.at_least("min_resume_calls", *e.min_resume_calls, t.resume_calls);
  if (e.min_reconnects_given_up) c.at_least("min_reconnects_given_up", *e.min_reconnects_given_up, t.given_up);
  if (e.min_throttled_calls) c.at_least("min_throttled_calls", *e.min_throttled_calls, stats.throttled());
  if (e.min_api_errors) c.at_least("min_api_errors", *e.min_api_errors, stats.api_errors_total());
  if (e.min_start_failures)
    c.at_least("min_start_failures", *e.min_start_failures, static_cast<std::uint64_t>(t.start_failures));
  for (const auto& [rule, n] : e.min_applied) {
    const auto* r = stats.rule(rule);
    c.at_least("min_applied[" + rule + "]", n, r ? r->applied : 0);
  }
  for (const auto& [rule, n] : e.max_applied) {
    const auto* r = stats.rule(rule);
    c.at_most("max_applied[" + rule + "]", n, r ? r->applied : 0);
  }
  if (e.max_duration_ms)
    c.at_most("max_duration_ms", *e.max_duration_ms, static_cast<std::uint64_t>(t.duration_ms));
}

fs::path make_state_dir(const std::string& name) {
  return fs::temp_directory_path() / ("mocksvc-run-" + name + "-" + std::to_string(::getpid()));
}

}  // namespace

int run_scenario(const ScenarioRunOptions& options, std::ostream& out) {
  auto loaded = fault::load_scenario_file(options.file);
  if (!loaded) {
    out << "run-scenario: " << loaded.error().to_string() << "\n";
    return kScenarioUnusable;
  }
  const fault::Scenario scenario = std::move(*loaded);
  const fault::Workload workload = scenario.workload.value_or(fault::default_workload());
  out << "scenario " << scenario.name << ": " << scenario.description << "\n";

  ServiceConfig config = default_config();
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.tls = false;
  config.threads = 2;
  config.log_level = options.log_level;
  config.audit_log = "-";
  config.state_dir = make_state_dir(scenario.name);
  config.backend.seed = scenario.seed;
  Service service(config);
  auto started = service.start();
  if (!started) {
    out << "run-scenario: the service did not start: " << started.error() << "\n";
    return kScenarioUnusable;
  }
  const ServiceInfo info = *started;
  service.set_scenario(scenario);

  const std::string target = workload.target.empty() ? std::string(kDefaultShellInstance) : workload.target;
  const auth::Credentials creds{info.access_key_id, info.secret_access_key, ""};
  plugin::CredentialsProvider credentials = [creds] { return std::optional<auth::Credentials>(creds); };

  Totals totals;
  fault::InjectorStats stats;
  {
    runtime::IoThreads io(2);
    io.start();
    plugin::SsmEndpoint endpoint;
    endpoint.url = info.endpoint;
    endpoint.region = info.region;
    endpoint.credentials = credentials;
    endpoint.seed = fault::derive_seed(scenario.seed, "api-client");
    auto api = plugin::SsmApi::create(io.executor(), std::move(endpoint));
    Progress progress(service.faults(), workload.sessions);
    RunEnv env{scenario, workload, info, target, api, credentials, progress};

    const auto t0 = Clock::now();
    std::vector<std::unique_ptr<ClientRun>> runs;
    for (int i = 0; i < workload.sessions; ++i) {
      runs.push_back(std::make_unique<ClientRun>(i, env, io.executor()));
      runs.back()->launch(workload.start_interval * i);
    }
    const bool in_time = progress.wait_settled(t0 + workload.time_limit);
    totals.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    if (!in_time) out << "run-scenario: time limit of " << workload.time_limit.count() << " ms reached\n";

    // What the service says before the runner ends anything itself.
    for (const auto& r : runs) {
      if (!r->has_session) continue;
      auto s = service.backend().find_session(r->session_id);
      if (s && backend::is_active(s->status)) totals.all_ended = false;
    }
    stats = service.faults().stats();

    int ending = 0;
    for (const auto& r : runs) {
      if (r->has_session) {
        ++ending;
        r->terminate();
      }
    }
    progress.wait_finished(ending, Clock::now() + kEndWait);
    service.fault_control().terminate_sessions("");
    io.stop(kClientStopGrace);

    for (const auto& r : runs) {
      ++totals.sessions;
      if (r->start_failed) ++totals.start_failures;
      if (r->session_id.empty()) continue;
      ++totals.started;
      if (r->completed()) ++totals.completed;
      if (r->data_lost) ++totals.data_lost;
      if (auto* runner = r->runner()) {
        const auto& c = runner->session().counters();
        totals.reconnects += c.reconnects;
        totals.resume_calls += c.resume_calls;
        totals.given_up += c.recoveries_given_up;
        totals.client_resends += runner->session().stream().counters().resent;
      }
      if (options.verbose || !r->completed()) {
        out << "  session " << r->session_id << ": " << (r->completed() ? "completed" : "not completed");
        if (!r->failure.empty()) out << " (" << r->failure << ")";
        if (r->finished) out << ", exit code " << r->exit_code;
        out << "\n";
      }
    }
    for (const auto& r : runs)
      if (r->start_failed) out << "  StartSession failed: " << r->start_error << "\n";
    for (const auto& s : stats.sessions) {
      totals.retrans_c2a += s.retransmitted_client_to_agent;
      totals.retrans_a2c += s.retransmitted_agent_to_client;
    }
    runs.clear();
  }

  out << "  sessions: " << totals.started << " started, " << totals.completed << " completed, " << totals.data_lost
      << " with data lost; retransmissions seen by the relay: " << totals.retrans_c2a << " client->agent, "
      << totals.retrans_a2c << " agent->client; client reconnects " << totals.reconnects << ", ResumeSession calls "
      << totals.resume_calls << "; " << totals.duration_ms << " ms\n";
  for (const auto& r : stats.rules)
    out << "  rule " << r.name << " (" << r.type << "): matched " << r.matched << ", applied " << r.applied << "\n";
  if (stats.api_calls > 0) {
    out << "  API calls seen by API rules: " << stats.api_calls;
    for (const auto& [code, n] : stats.api_errors) out << ", " << code << " " << n;
    out << "\n";
  }

  Checker checker(out);
  check_expectations(scenario.expect, totals, stats, checker);
  service.stop();
  std::error_code ec;
  fs::remove_all(config.state_dir, ec);
  if (checker.checked() == 0) {
    out << "result: PASS (no expectations)\n";
    return kScenarioPassed;
  }
  const bool pass = checker.failed() == 0;
  out << "result: " << (pass ? "PASS" : "FAIL") << " (" << checker.checked() - checker.failed() << " of "
      << checker.checked() << " expectations met)\n";
  return pass ? kScenarioPassed : kScenarioFailed;
}

}  // namespace mocksvc::app
