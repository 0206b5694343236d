#include "loadgen/runner.hpp"

#include <unistd.h>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <ostream>
#include <random>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "loadgen/agent_fleet.hpp"
#include "loadgen/api_pool.hpp"
#include "loadgen/baseline.hpp"
#include "loadgen/child.hpp"
#include "loadgen/load_session.hpp"
#include "loadgen/metrics.hpp"
#include "loadgen/service_target.hpp"
#include "loadgen/system.hpp"
#include "mocksvc/app/config.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/net/tls.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace ssmh::loadgen {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;

// How long sessions get to wind down once the run's time is up, and agents to register.
constexpr auto kStopGrace = 10s;
constexpr auto kAgentsReadyTimeout = 120s;
// Margin over the planned length of a run for the default --max-time.
constexpr double kMaxTimeMarginS = 120;

Clock::duration seconds(double s) { return std::chrono::duration_cast<Clock::duration>(Seconds(s)); }
double seconds_between(Clock::time_point a, Clock::time_point b) { return Seconds(b - a).count(); }

std::shared_ptr<const std::string> make_filler(std::uint64_t seed, std::uint64_t size) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::mt19937_64 rng(seed);
  auto s = std::make_shared<std::string>(std::max<std::size_t>(64 * 1024, static_cast<std::size_t>(size) * 4), ' ');
  for (auto& c : *s) c = kAlphabet[rng() % kAlphabet.size()];
  return s;
}

std::string start_body(const Options& o, const std::string& target) {
  json j{{"Target", target}};
  if (o.workload == Workload::port) {
    // Stdio-mode port forwarding (what `ssh -o ProxyCommand` uses): raw bytes both ways.
    j["DocumentName"] = "AWS-StartSSHSession";
    j["Parameters"] = json{{"portNumber", json::array({std::to_string(o.port)})}};
  }
  return j.dump();
}

double planned_length_s(const Options& o) {
  double s = o.ramp_up_s + o.duration_s + o.hold_s;
  if (o.message_rate > 0) s += static_cast<double>(o.messages) / o.message_rate;
  return s;
}

std::string mib_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// ---- the run --------------------------------------------------------------------------------

class Run {
 public:
  Run(const Options& o, std::ostream& progress, const std::atomic<bool>* interrupted)
      : o_(o), progress_(progress), interrupted_(interrupted) {}

  RunOutcome execute();

 private:
  // Session launching (any thread, under mu_).
  void arrive(Clock::time_point intended);
  void start_locked(Clock::time_point intended);
  void on_session_finished(LoadSession& s);
  bool closed_loop_may_restart_locked(Clock::time_point now) const;
  std::optional<Clock::time_point> arrival(std::uint64_t k) const;
  asio::awaitable<void> launch_sessions();
  void stop_launching(const std::string& why);

  void progress_line(Clock::time_point now);
  void sample_memory();
  std::optional<BaselineFigures> run_baseline_now(const ServiceTarget& target, std::string& error);

  const Options& o_;
  std::ostream& progress_;
  const std::atomic<bool>* interrupted_;
  Summary summary_;

  std::optional<mocksvc::runtime::IoThreads> io_;
  std::optional<asio::strand<asio::any_io_executor>> launcher_;
  std::optional<asio::steady_timer> launch_timer_;  // the launcher's strand only
  std::unique_ptr<ApiPool> api_;
  Metrics metrics_;
  SessionPlan plan_;
  std::int64_t memory_pid_ = 0;
  std::uint64_t open_cap_ = 0;
  Clock::time_point t0_{};

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::uint64_t, std::shared_ptr<LoadSession>> live_;
  std::deque<Clock::time_point> waiting_;  // open loop: arrivals waiting for a free slot
  std::uint64_t launched_ = 0;
  bool launcher_done_ = false;
  bool stopping_ = false;
  std::string stop_reason_;

  // Progress (main thread only).
  std::uint64_t last_setups_ = 0;
  std::uint64_t last_messages_ = 0;
  Clock::time_point last_tick_{};
};

double open_loop_arrival_s(std::uint64_t k, double rate, double ramp) {
  const double kd = static_cast<double>(k);
  const double during_ramp = rate * ramp / 2.0;  // arrivals while the rate climbs
  if (ramp > 0 && kd < during_ramp) return std::sqrt(2.0 * ramp * kd / rate);
  return ramp + (kd - (ramp > 0 ? during_ramp : 0.0)) / rate;
}

std::optional<Clock::time_point> Run::arrival(std::uint64_t k) const {
  if (o_.max_sessions && k >= o_.max_sessions) return std::nullopt;
  if (o_.mode == LoopMode::closed) {
    if (k >= o_.sessions) return std::nullopt;
    return t0_ + seconds(o_.ramp_up_s * static_cast<double>(k) / static_cast<double>(o_.sessions));
  }
  const double at = open_loop_arrival_s(k, o_.session_rate, o_.ramp_up_s);
  if (o_.duration_s > 0 && at >= o_.duration_s) return std::nullopt;
  return t0_ + seconds(at);
}

asio::awaitable<void> Run::launch_sessions() {
  asio::steady_timer& timer = *launch_timer_;
  for (std::uint64_t k = 0;; ++k) {
    auto at = arrival(k);
    {
      std::lock_guard lock(mu_);
      if (!at || stopping_) break;
    }
    timer.expires_at(*at);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    arrive(*at);
  }
  std::lock_guard lock(mu_);
  launcher_done_ = true;
  cv_.notify_all();
}

void Run::arrive(Clock::time_point intended) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  if (o_.mode == LoopMode::open && live_.size() >= open_cap_) {
    waiting_.push_back(intended);
    return;
  }
  start_locked(intended);
}

void Run::start_locked(Clock::time_point intended) {
  const std::uint64_t index = launched_++;
  auto s = std::make_shared<LoadSession>(index, io_->executor(), plan_, *api_, metrics_,
                                         [this](LoadSession& done) { on_session_finished(done); });
  live_.emplace(index, s);
  s->start(intended);
}

bool Run::closed_loop_may_restart_locked(Clock::time_point now) const {
  if (stopping_ || o_.mode != LoopMode::closed || o_.duration_s <= 0) return false;
  if (o_.max_sessions && launched_ >= o_.max_sessions) return false;
  return now < t0_ + seconds(o_.duration_s);
}

// On the finished session's strand.
void Run::on_session_finished(LoadSession& s) {
  std::shared_ptr<LoadSession> keep;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(s.index());
    if (it != live_.end()) {
      keep = std::move(it->second);
      live_.erase(it);
    }
    const auto now = Clock::now();
    if (closed_loop_may_restart_locked(now)) {
      start_locked(now);
    } else if (!stopping_ && !waiting_.empty()) {
      const auto intended = waiting_.front();
      waiting_.pop_front();
      start_locked(intended);
    }
    cv_.notify_all();
  }
  // The client engine is destroyed on its strand, after this callback has returned.
  if (keep) asio::post(s.strand(), [keep = std::move(keep)] {});
}

void Run::stop_launching(const std::string& why) {
  std::vector<std::shared_ptr<LoadSession>> live;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    stop_reason_ = why;
    for (auto& [index, s] : live_) live.push_back(s);
    for (std::size_t i = 0; i < waiting_.size(); ++i) metrics_.error(why + ": an arrival never found a free slot");
    waiting_.clear();
  }
  asio::post(*launcher_, [this] { launch_timer_->cancel(); });
  for (auto& s : live) s->abort(why);
}

void Run::sample_memory() {
  if (!memory_pid_) return;
  auto m = read_memory(memory_pid_);
  if (!m) return;
  MemoryFigures& f = summary_.mocksvc;
  f.available = true;
  const std::uint64_t open = metrics_.open.load(std::memory_order_relaxed);
  if (open > 0 && open >= f.open_at_sample) {
    f.open_at_sample = open;
    f.rss_at_peak_open_bytes = m->rss_bytes;
  }
  f.rss_peak_bytes = std::max(f.rss_peak_bytes, m->hwm_bytes);
  f.rss_end_bytes = m->rss_bytes;
}

void Run::progress_line(Clock::time_point now) {
  const double dt = std::max(1e-3, seconds_between(last_tick_, now));
  last_tick_ = now;
  const std::uint64_t setups = metrics_.sessions_setup.load(std::memory_order_relaxed);
  const std::uint64_t msgs = metrics_.messages_received.load(std::memory_order_relaxed);
  const Histogram rtt = metrics_.take_interval_rtt();
  char line[320];
  std::snprintf(line, sizeof line,
                "[%7.1fs] open %6llu | started %7llu | setups %8.1f/s | msgs %9.1f/s | rtt p99 %8.3f ms | errors %llu",
                seconds_between(t0_, now), static_cast<unsigned long long>(metrics_.open.load()),
                static_cast<unsigned long long>(metrics_.sessions_started.load()),
                static_cast<double>(setups - last_setups_) / dt, static_cast<double>(msgs - last_messages_) / dt,
                static_cast<double>(rtt.percentile(99)) / 1e6,
                static_cast<unsigned long long>(metrics_.errors_total.load()));
  last_setups_ = setups;
  last_messages_ = msgs;
  std::string text = line;
  if (summary_.mocksvc.available) text += " | mocksvc rss " + mib_text(summary_.mocksvc.rss_end_bytes);
  if (o_.progress) progress_ << text << std::endl;
}

std::optional<BaselineFigures> Run::run_baseline_now(const ServiceTarget& target, std::string& error) {
  BaselineSpec spec;
  spec.connections = o_.mode == LoopMode::closed ? o_.sessions : std::max<std::uint64_t>(1, summary_.sessions.peak_open);
  if (o_.max_sessions) spec.connections = std::min(spec.connections, o_.max_sessions);
  const std::uint64_t ends = target.placement == Placement::in_process ? 2 : 1;
  const std::uint64_t limit = summary_.machine.open_files_limit;
  if (limit > kFixedDescriptors) spec.connections = std::min(spec.connections, (limit - kFixedDescriptors) / ends);
  spec.messages = o_.messages;
  spec.size = o_.size;
  spec.pipeline = o_.pipeline;
  spec.message_rate = o_.message_rate;
  spec.ramp_up_s = o_.mode == LoopMode::closed ? o_.ramp_up_s : 0.0;
  spec.step_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(Seconds(o_.step_timeout_s));
  spec.max_time = std::chrono::duration_cast<std::chrono::milliseconds>(
      Seconds(o_.max_time_s > 0 ? o_.max_time_s : planned_length_s(o_) + kMaxTimeMarginS));
  spec.seed = o_.seed;

  std::optional<mocksvc::runtime::IoThreads> server_io;
  std::optional<EchoServer> server;
  ChildProcess child;
  std::string placement;
  unsigned short port = 0;
  const unsigned threads = target.threads ? target.threads : std::max(1u, std::thread::hardware_concurrency());
  if (target.placement == Placement::in_process) {
    server_io.emplace(threads);
    server.emplace(server_io->executor());
    auto started = server->start();
    if (!started) {
      error = "baseline: " + started.error();
      return std::nullopt;
    }
    server_io->start();
    port = *started;
    placement = "in_process";
  } else {
    const std::string self = self_executable();
    if (auto err = child.spawn({self, "echo-server", "--threads", std::to_string(threads)})) {
      error = "baseline: " + *err;
      return std::nullopt;
    }
    auto line = child.read_json_line(30s);
    auto j = line ? json::parse(*line, nullptr, false) : json();
    if (!j.is_object() || !j.contains("port") || !j["port"].is_number_unsigned()) {
      error = "baseline: the echo server did not start";
      return std::nullopt;
    }
    port = j["port"].get<unsigned short>();
    placement = "process";
  }
  spec.url = "ws://127.0.0.1:" + std::to_string(port) + "/echo";
  if (o_.progress)
    progress_ << "baseline: plain WebSocket echo, " << spec.connections << " connections x " << spec.messages
              << " messages x " << spec.size << " B (" << placement << ")" << std::endl;
  BaselineFigures b = run_baseline(io_->executor(), spec);
  b.placement = placement;
  if (server) server->stop();
  if (server_io) server_io->stop();
  child.stop();
  return b;
}

RunOutcome Run::execute() {
  RunOutcome out;
  const FileLimit limit = raise_open_files_limit();
  summary_.machine.cpus = std::max(1u, std::thread::hardware_concurrency());
  summary_.machine.load_average_start = load_average();
  summary_.machine.open_files_limit = limit.soft;

  // ---- the socket budget, before anything starts ----
  SocketPlan plan;
  plan.service = !o_.endpoint.empty() ? Placement::external
                 : !o_.mocksvc_binary.empty() ? Placement::process
                                              : Placement::in_process;
  plan.port_workload = o_.workload == Workload::port;
  plan.agents = o_.agents;
  plan.api_connections = o_.api_connections;
  if (o_.mode == LoopMode::closed) {
    plan.open_sessions = o_.max_sessions ? std::min(o_.sessions, o_.max_sessions) : o_.sessions;
  } else {
    const std::uint64_t fits = max_sessions_within(plan, limit.soft);
    open_cap_ = o_.sessions ? o_.sessions : fits;
    plan.open_sessions = open_cap_;
  }
  // The open loop's baseline takes the concurrency the run reached, capped to what fits then.
  plan.baseline_connections = o_.baseline == BaselineMode::off || o_.mode == LoopMode::open ? 0 : plan.open_sessions;
  if (auto why = check_socket_budget(plan, limit.soft); !why.empty()) {
    out.error = why;
    return out;
  }
  if (o_.agents && !agents_available()) {
    out.error = "this loadgen was built without agentsim/, so --agents is not available";
    return out;
  }

  // ---- the service ----
  ServiceHandle service;
  auto target = service.start(o_);
  if (!target) {
    out.error = target.error();
    return out;
  }
  memory_pid_ = target->pid;
  summary_.mocksvc.pid = target->pid;
  summary_.mocksvc.includes_loadgen = target->placement == Placement::in_process;

  RunDescription& d = summary_.run;
  d.mode = to_string(o_.mode);
  d.workload = to_string(o_.workload);
  d.target = target->placement == Placement::in_process ? "in_process"
             : target->placement == Placement::process  ? "process"
                                                        : "external";
  d.endpoint = target->endpoint;
  d.tls = target->endpoint.rfind("https://", 0) == 0;
  d.sessions = o_.mode == LoopMode::closed ? o_.sessions : open_cap_;
  d.messages_per_session = o_.messages;
  d.message_bytes = o_.size;
  d.pipeline = o_.pipeline;
  d.session_rate = o_.session_rate;
  d.message_rate = o_.message_rate;
  d.ramp_up_s = o_.ramp_up_s;
  d.hold_s = o_.hold_s;
  d.duration_s = o_.duration_s;
  d.max_time_s = o_.max_time_s > 0 ? o_.max_time_s : planned_length_s(o_) + kMaxTimeMarginS;
  d.max_sessions = o_.max_sessions;
  d.agents = o_.agents;
  d.service_threads = target->threads;

  io_.emplace(o_.client_threads);
  d.client_threads = io_->thread_count();
  launcher_.emplace(asio::make_strand(io_->executor()));
  launch_timer_.emplace(*launcher_);

  std::shared_ptr<asio::ssl::context> tls;
  if (d.tls) {
    auto ctx = mocksvc::net::make_client_tls(target->ca_bundle);
    if (!ctx) {
      out.error = "TLS: " + ctx.error();
      return out;
    }
    tls = *ctx;
  }
  plugin::SsmEndpoint endpoint;
  endpoint.url = target->endpoint;
  endpoint.region = target->region;
  const mocksvc::auth::Credentials creds{target->access_key_id, target->secret_access_key, target->session_token};
  endpoint.credentials = [creds] { return std::optional<mocksvc::auth::Credentials>(creds); };
  endpoint.tls = tls;
  endpoint.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(Seconds(o_.step_timeout_s));
  endpoint.seed = o_.seed;
  endpoint.user_agent = "ssm-harness-loadgen";
  api_ = std::make_unique<ApiPool>(io_->executor(), endpoint, o_.api_connections);
  io_->start();

  // ---- agents ----
  AgentFleet agents;
  std::vector<std::string> targets;
  if (o_.agents) {
    if (o_.progress) progress_ << "starting " << o_.agents << " simulated agents" << std::endl;
    auto ids = agents.start(*target, o_, kAgentsReadyTimeout);
    if (!ids) {
      out.error = ids.error();
      io_->stop();
      return out;
    }
    targets = *ids;
    summary_.agents = AgentFigures{o_.agents, agents.ready_count(), agents.ready_seconds()};
  } else {
    targets.push_back(!o_.instance.empty() ? o_.instance
                      : o_.workload == Workload::port ? std::string(mocksvc::app::kDefaultPortInstance)
                                                      : std::string(mocksvc::app::kDefaultShellInstance));
  }

  plan_.workload = o_.workload;
  plan_.targets = targets;
  for (const auto& t : targets) plan_.start_bodies.push_back(start_body(o_, t));
  plan_.region = target->region;
  plan_.messages = o_.messages;
  plan_.size = o_.size;
  plan_.pipeline = o_.pipeline;
  plan_.message_rate = o_.message_rate;
  plan_.hold = seconds(o_.hold_s);
  plan_.step_timeout = seconds(o_.step_timeout_s);
  plan_.tls = tls;
  plan_.filler = make_filler(o_.seed, o_.size);
  plan_.seed = o_.seed;

  // ---- the load ----
  sample_memory();
  summary_.mocksvc.rss_start_bytes = summary_.mocksvc.rss_end_bytes;
  t0_ = Clock::now();
  last_tick_ = t0_;
  if (o_.progress)
    progress_ << "loadgen: " << d.workload << " workload, " << d.mode << " loop against " << d.endpoint << " ("
              << d.target << "), " << d.client_threads << " client threads" << std::endl;
  asio::co_spawn(*launcher_, launch_sessions(), asio::detached);

  const auto deadline = t0_ + seconds(d.max_time_s);
  auto next_tick = t0_ + 1s;
  std::optional<Clock::time_point> stop_deadline;
  for (;;) {
    std::unique_lock lock(mu_);
    const auto wake = stop_deadline ? std::min(next_tick, *stop_deadline) : std::min(next_tick, deadline);
    cv_.wait_until(lock, wake, [&] { return launcher_done_ && live_.empty() && waiting_.empty(); });
    const bool all_done = launcher_done_ && live_.empty() && waiting_.empty();
    const bool stopping = stopping_;
    lock.unlock();
    const auto now = Clock::now();
    if (now >= next_tick) {
      sample_memory();
      progress_line(now);
      next_tick += 1s;
    }
    if (all_done) break;
    if (stop_deadline && now >= *stop_deadline) break;
    if (!stopping && (now >= deadline || (interrupted_ && interrupted_->load()))) {
      stop_launching(now >= deadline ? "time limit (--max-time)" : "interrupted");
      stop_deadline = now + kStopGrace;
    }
  }
  const auto end = Clock::now();
  sample_memory();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (!live_.empty())
      for (std::size_t i = 0; i < live_.size(); ++i) metrics_.error("did not wind down after the run was stopped");
  }
  summary_.elapsed_s = seconds_between(t0_, end);
  summary_.sessions.started = metrics_.sessions_started.load();
  summary_.sessions.setup = metrics_.sessions_setup.load();
  summary_.sessions.completed = metrics_.sessions_completed.load();
  summary_.sessions.failed = metrics_.sessions_failed.load();
  summary_.sessions.peak_open = metrics_.peak_open.load();
  const auto first_start = metrics_.first_start_ns.load();
  const auto last_setup = metrics_.last_setup_ns.load();
  if (last_setup > first_start && first_start != 0)
    summary_.setups_per_second =
        static_cast<double>(summary_.sessions.setup) / (static_cast<double>(last_setup - first_start) / 1e9);
  const Metrics::Snapshot snap = metrics_.snapshot();
  auto lat = [&snap](Latency l) { return LatencyStats::of(snap.latency[static_cast<std::size_t>(l)]); };
  summary_.setup.api_call = lat(Latency::api_call);
  summary_.setup.websocket_open = lat(Latency::websocket_open);
  summary_.setup.handshake = lat(Latency::handshake);
  summary_.setup.first_output = lat(Latency::first_output);
  summary_.setup.total = lat(Latency::setup_total);
  summary_.rtt = lat(Latency::rtt);
  summary_.traffic.messages_sent = metrics_.messages_sent.load();
  summary_.traffic.messages_received = metrics_.messages_received.load();
  summary_.traffic.bytes_sent = metrics_.bytes_sent.load();
  summary_.traffic.bytes_received = metrics_.bytes_received.load();
  const auto first_msg = metrics_.first_message_ns.load();
  const auto last_echo = metrics_.last_echo_ns.load();
  summary_.traffic.seconds = last_echo > first_msg && first_msg != 0 ? static_cast<double>(last_echo - first_msg) / 1e9
                                                                      : summary_.elapsed_s;
  summary_.retransmissions.client_resent = metrics_.client_resent.load();
  summary_.retransmissions.duplicates_received = metrics_.duplicates_received.load();
  summary_.retransmissions.reconnects = metrics_.reconnects.load();
  summary_.retransmissions.api_retries = api_->retries();
  summary_.errors = snap.errors;
  if (summary_.mocksvc.available && summary_.mocksvc.open_at_sample > 0 &&
      summary_.mocksvc.rss_at_peak_open_bytes > summary_.mocksvc.rss_start_bytes)
    summary_.mocksvc.rss_per_open_session_bytes =
        static_cast<double>(summary_.mocksvc.rss_at_peak_open_bytes - summary_.mocksvc.rss_start_bytes) /
        static_cast<double>(summary_.mocksvc.open_at_sample);

  // Agents and the service's sessions are done with; free their sockets for the baseline.
  agents.stop();

  if (o_.baseline == BaselineMode::automatic && !(interrupted_ && interrupted_->load())) {
    std::string error;
    summary_.baseline = run_baseline_now(*target, error);
    if (!summary_.baseline) summary_.errors["baseline: " + error] += 1;
  }

  io_->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
  {
    // Sessions still listed hold client engines that must go while no thread runs them.
    std::lock_guard lock(mu_);
    live_.clear();
  }
  api_.reset();
  service.stop();

  summary_.machine.load_average_end = load_average();
  compute_ratios(summary_);
  summary_.thresholds = evaluate(summary_, o_.thresholds);
  out.summary = std::move(summary_);
  return out;
}

}  // namespace

double open_loop_arrival(std::uint64_t k, double rate, double ramp_s) { return open_loop_arrival_s(k, rate, ramp_s); }

RunOutcome run_load(const Options& o, std::ostream& progress, const std::atomic<bool>* interrupted) {
  mocksvc::base::set_log_level(o.log_level);
  Run run(o, progress, interrupted);
  return run.execute();
}

}  // namespace ssmh::loadgen
