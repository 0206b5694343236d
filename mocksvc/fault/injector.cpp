#include "mocksvc/fault/injector.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/fault/catalog.hpp"
#include "mocksvc/fault/pipeline.hpp"
#include "mocksvc/fault/runtime.hpp"
#include "mocksvc/fault/types.hpp"

namespace mocksvc::fault {

namespace asio = boost::asio;
using base::LogLevel;
using detail::RuleCounters;
using detail::RuleRuntime;
using detail::SessionRecord;

namespace {

constexpr std::string_view kLog = "fault";
// Records of ended sessions kept for /_mock/stats and /_mock/metrics; the oldest go first.
constexpr std::size_t kKeptSessionRecords = 1000;
// Ended records are found by a pass over all records, made once at least this many (or half the
// live sessions, if more) were added since the last pass: with thousands of live sessions a
// pass per new session would make starting N sessions cost N^2.
constexpr std::size_t kMinRecordsBetweenSweeps = 64;
// The stage cache is swept of sessions that ended every this many factory calls.
constexpr std::uint64_t kCacheSweepInterval = 256;

bool in_list(const std::vector<std::string>& list, std::string_view value) {
  return list.empty() || std::find(list.begin(), list.end(), value) != list.end();
}

bool applies_to(DirectionSet set, broker::Direction d) {
  if (set == DirectionSet::both) return true;
  return (set == DirectionSet::client_to_agent) == (d == broker::Direction::client_to_agent);
}

void add_count(std::vector<std::pair<std::string, std::uint64_t>>& v, std::string_view key, std::uint64_t n) {
  for (auto& [k, c] : v) {
    if (k == key) {
      c += n;
      return;
    }
  }
  v.emplace_back(std::string(key), n);
}

}  // namespace

std::uint64_t SessionFaultStats::count(std::string_view action) const {
  if (action == "retransmitted") return retransmitted_client_to_agent + retransmitted_agent_to_client;
  for (const auto& [k, v] : counts)
    if (k == action) return v;
  return 0;
}

std::uint64_t InjectorStats::throttled() const {
  for (const auto& [code, n] : api_errors)
    if (code == "ThrottlingException") return n;
  return 0;
}

std::uint64_t InjectorStats::api_errors_total() const {
  std::uint64_t total = 0;
  for (const auto& [code, n] : api_errors) total += n;
  return total;
}

std::uint64_t InjectorStats::retransmissions() const {
  std::uint64_t total = 0;
  for (const auto& s : sessions) total += s.retransmitted_client_to_agent + s.retransmitted_agent_to_client;
  return total;
}

const RuleStats* InjectorStats::rule(std::string_view name) const {
  for (const auto& r : rules)
    if (r.name == name) return &r;
  return nullptr;
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

struct Injector::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::any_io_executor executor)
      : strand(asio::make_strand(executor)), shared(std::make_shared<detail::Shared>()) {}

  struct ApiRuntime {
    std::size_t index = 0;
    std::unique_ptr<ApiFault> fault;
    std::mt19937_64 rng;
    std::uint64_t seen = 0;
    std::uint64_t applied = 0;
    std::shared_ptr<RuleCounters> counters;
  };

  asio::strand<asio::any_io_executor> strand;
  std::shared_ptr<detail::Shared> shared;

  mutable std::mutex mu;  // everything below but the API part
  std::function<void(broker::StageFactory)> install;
  ServiceControl* control = nullptr;
  std::shared_ptr<const Scenario> scenario;
  std::vector<std::shared_ptr<RuleCounters>> rule_counters;  // one per scenario rule
  std::map<std::string, std::vector<std::weak_ptr<RuleRuntime>>> cache;  // this generation's runtimes
  std::uint64_t factory_calls = 0;
  std::map<std::string, std::shared_ptr<SessionRecord>> records;
  std::deque<std::string> record_order;
  std::size_t next_sweep = 0;  // records.size() at which forget_ended_records() runs again
  std::uint64_t epoch = 0;  // bumped by activate/clear: older timers do nothing
  std::vector<std::shared_ptr<asio::steady_timer>> timers;
  std::vector<TimelineStep> waiting_steps;  // steps after an event not yet announced
  std::set<std::string> events_seen;
  std::vector<std::pair<std::string, std::uint64_t>> action_counts;

  mutable std::mutex api_mu;
  std::shared_ptr<const Scenario> api_scenario;
  std::vector<ApiRuntime> api_rules;
  std::uint64_t api_calls = 0;
  std::uint64_t api_delayed = 0;
  std::vector<std::pair<std::string, std::uint64_t>> api_errors;

  // ---- pipelines ----

  broker::StageFactory factory() {
    return [self = shared_from_this()](const broker::SessionFacts& facts, broker::Direction d) {
      return self->stages_for(facts, d);
    };
  }

  std::shared_ptr<SessionRecord> record_for(const broker::SessionFacts& facts) {
    auto it = records.find(facts.session_id);
    if (it != records.end()) return it->second;
    auto rec = std::make_shared<SessionRecord>(facts);
    records.emplace(facts.session_id, rec);
    record_order.push_back(facts.session_id);
    if (records.size() > kKeptSessionRecords && records.size() >= next_sweep) forget_ended_records();
    return rec;
  }

  // Forgets the oldest ended sessions (only this map holds their records) until at most
  // kKeptSessionRecords records remain or only live ones are left; keeps the order of the rest.
  void forget_ended_records() {
    std::deque<std::string> kept;
    std::size_t live = 0;
    for (auto& id : record_order) {
      auto r = records.find(id);
      if (r == records.end()) continue;
      if (r->second.use_count() > 1) {
        ++live;
      } else if (records.size() > kKeptSessionRecords) {
        records.erase(r);
        continue;
      }
      kept.push_back(std::move(id));
    }
    record_order.swap(kept);
    next_sweep = records.size() + std::max(kMinRecordsBetweenSweeps, live / 2);
  }

  std::vector<std::shared_ptr<broker::Stage>> stages_for(const broker::SessionFacts& facts, broker::Direction d) {
    std::vector<std::shared_ptr<broker::Stage>> stages;
    std::lock_guard lock(mu);
    auto record = record_for(facts);
    stages.push_back(detail::make_tap_stage(d, record, shared));
    if (!scenario) return stages;
    if (++factory_calls % kCacheSweepInterval == 0) sweep_cache();
    auto& runtimes = cache[facts.session_id];
    runtimes.resize(scenario->rules.size());
    const std::uint64_t generation = shared->generation.load();
    for (std::size_t i = 0; i < scenario->rules.size(); ++i) {
      const Rule& rule = scenario->rules[i];
      const FaultType* type = find_fault_type(rule.type);
      if (!rule.enabled || !type || !type->make_message) continue;
      if (!in_list(rule.match.session_ids, facts.session_id) || !in_list(rule.match.targets, facts.target)) continue;
      if (!applies_to(rule.direction, d)) continue;
      auto rt = runtimes[i].lock();
      if (!rt) {
        rt = std::make_shared<RuleRuntime>();
        rt->scenario = scenario;
        rt->rule_index = i;
        rt->session = record;
        rt->counters = rule_counters[i];
        rt->shared = shared;
        rt->generation = generation;
        rt->fault = type->make_message(rule);
        for (std::size_t k = 0; k < 2; ++k)
          rt->rng[k].seed(derive_seed(scenario->seed, facts.session_id, i * 2 + k));
        runtimes[i] = rt;
      }
      stages.push_back(detail::make_rule_stage(d, rt));
    }
    return stages;
  }

  void sweep_cache() {
    for (auto it = cache.begin(); it != cache.end();) {
      bool alive = std::any_of(it->second.begin(), it->second.end(), [](const auto& w) { return !w.expired(); });
      it = alive ? std::next(it) : cache.erase(it);
    }
  }

  // Called with mu held: a new configuration generation.
  void next_generation() {
    ++shared->generation;
    cache.clear();
    std::lock_guard lock(api_mu);
    api_scenario = scenario;
    api_rules.clear();
    if (!scenario) return;
    for (std::size_t i = 0; i < scenario->rules.size(); ++i) {
      const Rule& rule = scenario->rules[i];
      const FaultType* type = find_fault_type(rule.type);
      if (!rule.enabled || !type || !type->make_api) continue;
      ApiRuntime ar;
      ar.index = i;
      ar.fault = type->make_api(rule);
      ar.rng.seed(derive_seed(scenario->seed, "api", i));
      ar.counters = rule_counters[i];
      api_rules.push_back(std::move(ar));
    }
  }

  void reinstall() {
    std::function<void(broker::StageFactory)> fn;
    {
      std::lock_guard lock(mu);
      fn = install;
    }
    if (fn) fn(factory());
  }

  // ---- actions ----

  void cancel_timers() {
    ++epoch;
    for (auto& t : timers) t->cancel();
    timers.clear();
    waiting_steps.clear();
    events_seen.clear();
  }

  // Called with mu held.
  void schedule(PlannedAction action) {
    auto timer = std::make_shared<asio::steady_timer>(strand, action.at);
    timers.push_back(timer);
    timer->async_wait([weak = weak_from_this(), timer, action = std::move(action), epoch_then = epoch](
                          const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      {
        std::lock_guard lock(self->mu);
        if (self->epoch != epoch_then) return;
        auto& ts = self->timers;
        ts.erase(std::remove(ts.begin(), ts.end(), timer), ts.end());
      }
      self->run(action);
    });
  }

  // Runs on the strand, with no lock held (ServiceControl may call back into the service).
  void run(const PlannedAction& a) {
    ServiceControl* ctl;
    {
      std::lock_guard lock(mu);
      ctl = control;
      add_count(action_counts, to_string(a.kind), 1);
      if (scenario && !a.source.empty()) {
        for (std::size_t i = 0; i < scenario->rules.size() && i < rule_counters.size(); ++i) {
          if (scenario->rules[i].name != a.source) continue;
          ++rule_counters[i]->matched;
          ++rule_counters[i]->applied;
        }
      }
    }
    base::log(LogLevel::info, kLog, "action ", to_string(a.kind), a.target.empty() ? "" : " on ", a.target,
              a.rule.empty() ? "" : " rule ", a.rule);
    std::vector<std::string> targets;
    if (!a.target.empty()) {
      targets.push_back(a.target);
    } else if (ctl) {
      targets = ctl->instance_ids();
    }
    switch (a.kind) {
      case ActionKind::agent_disconnect:
      case ActionKind::agent_reconnect:
        for (const auto& t : targets) {
          if (!ctl) break;
          bool ok = a.kind == ActionKind::agent_disconnect ? ctl->disconnect_agent(t) : ctl->reconnect_agent(t);
          if (!ok) base::log(LogLevel::warn, kLog, to_string(a.kind), ": no instance ", t);
        }
        break;
      case ActionKind::instance_offline:
      case ActionKind::instance_online: {
        const bool online = a.kind == ActionKind::instance_online;
        {
          std::lock_guard lock(shared->mu);
          for (const auto& t : targets) {
            if (online) {
              shared->offline_targets.erase(t);
            } else {
              shared->offline_targets.insert(t);
            }
          }
        }
        if (ctl)
          for (const auto& t : targets) ctl->set_instance_online(t, online);
        break;
      }
      case ActionKind::enable_rule:
      case ActionKind::disable_rule:
        set_rule_enabled(a.rule, a.kind == ActionKind::enable_rule);
        break;
      case ActionKind::drop_clients:
        if (ctl) ctl->drop_clients(a.target);
        break;
      case ActionKind::terminate_sessions:
        if (ctl) ctl->terminate_sessions(a.target);
        break;
    }
  }

  // Called with mu held: the agent rules and the timeline steps waiting for `event`.
  void plan(std::string_view event) {
    if (!scenario || !events_seen.insert(std::string(event)).second) return;
    if (event == kEventActivated) {
      for (const auto& rule : scenario->rules) {
        const FaultType* type = find_fault_type(rule.type);
        if (!rule.enabled || !type || !type->plan) continue;
        for (auto& a : type->plan(rule, rule.match.targets)) {
          a.source = rule.name;
          schedule(std::move(a));
        }
      }
    }
    for (const auto& step : scenario->timeline) {
      if (step.after != event) continue;
      schedule(PlannedAction{step.at, step.action, step.target, step.rule, ""});
    }
  }

  bool set_rule_enabled(std::string_view name, bool enabled) {
    {
      std::lock_guard lock(mu);
      if (!scenario || !scenario->find_rule(name)) return false;
      auto copy = std::make_shared<Scenario>(*scenario);
      for (auto& r : copy->rules)
        if (r.name == name) r.enabled = enabled;
      scenario = std::move(copy);
      next_generation();
    }
    reinstall();
    return true;
  }

  // ---- API ----

  static bool api_filters_pass(const Match& m, const ApiCall& call) {
    return in_list(m.operations, call.operation) && in_list(m.access_keys, call.access_key_id) &&
           in_list(m.targets, call.target) && in_list(m.session_ids, call.session_id);
  }
};

Injector::Injector(asio::any_io_executor executor) : impl_(std::make_shared<Impl>(std::move(executor))) {}

Injector::~Injector() { stop(); }

void Injector::set_pipeline_installer(std::function<void(broker::StageFactory)> install) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->install = std::move(install);
  }
  impl_->reinstall();
}

void Injector::set_service_control(ServiceControl* control) {
  std::lock_guard lock(impl_->mu);
  impl_->control = control;
}

void Injector::activate(Scenario scenario) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cancel_timers();
    auto s = std::make_shared<const Scenario>(std::move(scenario));
    impl_->rule_counters.clear();
    for (const auto& r : s->rules) {
      auto c = std::make_shared<RuleCounters>();
      c->name = r.name;
      c->type = r.type;
      impl_->rule_counters.push_back(std::move(c));
    }
    {
      std::lock_guard shared_lock(impl_->shared->mu);
      impl_->shared->offline_targets.clear();
    }
    impl_->scenario = std::move(s);
    impl_->next_generation();
    impl_->plan(kEventActivated);
    base::log(LogLevel::info, kLog, "scenario ", impl_->scenario->name, " active (", impl_->scenario->rules.size(),
              " rules)");
  }
  impl_->reinstall();
}

void Injector::clear() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cancel_timers();
    {
      std::lock_guard shared_lock(impl_->shared->mu);
      impl_->shared->offline_targets.clear();
    }
    if (impl_->scenario) base::log(LogLevel::info, kLog, "scenario ", impl_->scenario->name, " cleared");
    impl_->scenario.reset();
    impl_->next_generation();
  }
  impl_->reinstall();
}

void Injector::reset() {
  clear();
  std::lock_guard lock(impl_->mu);
  impl_->rule_counters.clear();
  impl_->action_counts.clear();
  for (auto it = impl_->records.begin(); it != impl_->records.end();) {
    if (it->second.use_count() == 1) {
      it = impl_->records.erase(it);
    } else {
      it->second->clear_counts();
      ++it;
    }
  }
  std::lock_guard api_lock(impl_->api_mu);
  impl_->api_calls = 0;
  impl_->api_delayed = 0;
  impl_->api_errors.clear();
}

void Injector::stop() {
  std::lock_guard lock(impl_->mu);
  impl_->cancel_timers();
  impl_->control = nullptr;
}

std::shared_ptr<const Scenario> Injector::scenario() const {
  std::lock_guard lock(impl_->mu);
  return impl_->scenario;
}

bool Injector::set_rule_enabled(std::string_view rule, bool enabled) { return impl_->set_rule_enabled(rule, enabled); }

void Injector::notify(std::string_view event) {
  std::lock_guard lock(impl_->mu);
  impl_->plan(event);
}

broker::StageFactory Injector::stage_factory() const { return impl_->factory(); }

ApiOutcome Injector::before_api_call(const ApiCall& call) {
  Impl& d = *impl_;
  std::lock_guard lock(d.api_mu);
  ApiOutcome total;
  if (!d.api_scenario || d.api_rules.empty()) return total;
  ++d.api_calls;
  for (auto& ar : d.api_rules) {
    const Rule& rule = d.api_scenario->rules[ar.index];
    if (!Impl::api_filters_pass(rule.match, call)) continue;
    ++ar.counters->matched;
    const std::uint64_t n = ++ar.seen;
    if (rule.match.nth && n != rule.match.nth) continue;
    if (rule.match.every_nth && n % rule.match.every_nth != 0) continue;
    if (rule.match.limit && ar.applied >= rule.match.limit) continue;
    if (rule.probability < 1.0 && draw_unit(ar.rng) >= rule.probability) continue;
    ApiOutcome o = ar.fault->apply(call, ar.rng);
    if (!o.acted) continue;
    ++ar.applied;
    ++ar.counters->applied;
    total.acted = true;
    total.delay += o.delay;
    if (o.error) {
      add_count(d.api_errors, o.error->code, 1);
      total.error = std::move(o.error);
      break;
    }
  }
  if (total.delay.count() > 0) ++d.api_delayed;
  return total;
}

InjectorStats Injector::stats() const {
  const Impl& d = *impl_;
  InjectorStats s;
  {
    std::lock_guard lock(d.mu);
    s.generation = d.shared->generation.load();
    if (d.scenario) {
      s.scenario = d.scenario->name;
      for (std::size_t i = 0; i < d.scenario->rules.size() && i < d.rule_counters.size(); ++i) {
        RuleStats r;
        r.name = d.scenario->rules[i].name;
        r.type = d.scenario->rules[i].type;
        r.enabled = d.scenario->rules[i].enabled;
        r.matched = d.rule_counters[i]->matched.load();
        r.applied = d.rule_counters[i]->applied.load();
        s.rules.push_back(std::move(r));
      }
    }
    for (const auto& id : d.record_order) {
      auto it = d.records.find(id);
      if (it == d.records.end()) continue;
      const SessionRecord& rec = *it->second;
      SessionFaultStats ss;
      ss.session_id = rec.facts.session_id;
      ss.target = rec.facts.target;
      ss.retransmitted_client_to_agent = rec.retransmitted[0].load();
      ss.retransmitted_agent_to_client = rec.retransmitted[1].load();
      ss.counts = rec.counts();
      s.sessions.push_back(std::move(ss));
    }
    s.actions = d.action_counts;
    std::lock_guard shared_lock(d.shared->mu);
    s.offline_targets.assign(d.shared->offline_targets.begin(), d.shared->offline_targets.end());
  }
  std::lock_guard lock(d.api_mu);
  s.api_calls = d.api_calls;
  s.api_delayed = d.api_delayed;
  s.api_errors = d.api_errors;
  return s;
}

std::string Injector::stats_json() const {
  using ojson = nlohmann::ordered_json;
  InjectorStats s = stats();
  ojson j = ojson::object();
  j["scenario"] = s.scenario ? ojson(*s.scenario) : ojson(nullptr);
  j["generation"] = s.generation;
  j["rules"] = ojson::array();
  for (const auto& r : s.rules) {
    ojson rj = ojson::object();
    rj["name"] = r.name;
    rj["type"] = r.type;
    rj["enabled"] = r.enabled;
    rj["matched"] = r.matched;
    rj["applied"] = r.applied;
    j["rules"].push_back(std::move(rj));
  }
  ojson sessions = ojson::object();
  for (const auto& ss : s.sessions) {
    ojson sj = ojson::object();
    sj["target"] = ss.target;
    sj["retransmitted_client_to_agent"] = ss.retransmitted_client_to_agent;
    sj["retransmitted_agent_to_client"] = ss.retransmitted_agent_to_client;
    for (const auto& [k, v] : ss.counts)
      if (k != "retransmitted") sj[k] = v;
    sessions[ss.session_id] = std::move(sj);
  }
  j["sessions"] = std::move(sessions);
  ojson api = ojson::object();
  api["calls"] = s.api_calls;
  api["delayed"] = s.api_delayed;
  api["throttled"] = s.throttled();
  ojson errors = ojson::object();
  for (const auto& [code, n] : s.api_errors) errors[code] = n;
  api["errors"] = std::move(errors);
  j["api"] = std::move(api);
  ojson actions = ojson::object();
  for (const auto& [k, n] : s.actions) actions[k] = n;
  j["actions"] = std::move(actions);
  j["offline_targets"] = s.offline_targets;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Injector::metrics_text() const {
  InjectorStats s = stats();
  std::ostringstream out;
  const std::string scenario = prometheus_label(s.scenario.value_or(""));
  auto header = [&](std::string_view name, std::string_view help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n";
  };
  header("mocksvc_fault_rule_matched_total", "Messages or API calls that passed a fault rule's match filters.");
  for (const auto& r : s.rules)
    out << "mocksvc_fault_rule_matched_total{scenario=\"" << scenario << "\",rule=\"" << prometheus_label(r.name)
        << "\",type=\"" << r.type << "\"} " << r.matched << '\n';
  header("mocksvc_fault_rule_applied_total", "Times a fault rule acted.");
  for (const auto& r : s.rules)
    out << "mocksvc_fault_rule_applied_total{scenario=\"" << scenario << "\",rule=\"" << prometheus_label(r.name)
        << "\",type=\"" << r.type << "\"} " << r.applied << '\n';
  header("mocksvc_session_fault_actions_total",
         "Fault actions per session: dropped, duplicated, delayed, reordered, corrupted, ...");
  for (const auto& ss : s.sessions)
    for (const auto& [k, v] : ss.counts)
      if (k != "retransmitted")
        out << "mocksvc_session_fault_actions_total{session_id=\"" << prometheus_label(ss.session_id)
            << "\",target=\"" << prometheus_label(ss.target) << "\",action=\"" << prometheus_label(k) << "\"} " << v
            << '\n';
  header("mocksvc_session_retransmitted_total",
         "Stream messages relayed again with a sequence number already relayed in that direction.");
  for (const auto& ss : s.sessions) {
    for (int i = 0; i < 2; ++i) {
      out << "mocksvc_session_retransmitted_total{session_id=\"" << prometheus_label(ss.session_id) << "\",target=\""
          << prometheus_label(ss.target) << "\",direction=\"" << (i == 0 ? "client_to_agent" : "agent_to_client")
          << "\"} " << (i == 0 ? ss.retransmitted_client_to_agent : ss.retransmitted_agent_to_client) << '\n';
    }
  }
  header("mocksvc_api_fault_errors_total", "SSM API calls answered with an injected error, by error code.");
  for (const auto& [code, n] : s.api_errors)
    out << "mocksvc_api_fault_errors_total{code=\"" << prometheus_label(code) << "\"} " << n << '\n';
  header("mocksvc_api_fault_delayed_total", "SSM API calls whose answer an injected latency delayed.");
  out << "mocksvc_api_fault_delayed_total " << s.api_delayed << '\n';
  header("mocksvc_fault_actions_total", "Scenario actions run on agents, instances and sessions.");
  for (const auto& [k, n] : s.actions) out << "mocksvc_fault_actions_total{action=\"" << k << "\"} " << n << '\n';
  return out.str();
}

}  // namespace mocksvc::fault
