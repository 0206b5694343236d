#include "mocksvc/fault/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mocksvc/fault/catalog.hpp"

namespace mocksvc::fault {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Bounds that keep a scenario file from asking for absurd runs: the run mode starts at most
// this many built-in sessions, and no duration goes beyond a day.
constexpr std::int64_t kMaxSessions = 100;
constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxDescription = 300;

const std::vector<std::string_view> kScenarioFields = {"$schema", "name",     "description", "seed",
                                                       "rules",   "timeline", "workload",    "expect"};
const std::vector<std::string_view> kRuleFields = {"name",        "type",    "description", "direction",
                                                   "match",       "enabled", "probability", "attributes"};
const std::vector<std::string_view> kMatchFields = {
    "session_ids", "targets",    "message_types", "payload_types", "sequence_min", "sequence_max",
    "operations",  "access_keys", "nth",          "every_nth",     "limit"};
const std::vector<std::string_view> kTimelineFields = {"after", "at_ms", "action", "target", "rule"};
const std::vector<std::string_view> kWorkloadFields = {"sessions",       "target", "document_name",
                                                       "start_interval_ms", "keep_input_while_disconnected",
                                                       "time_limit_ms", "steps"};
const std::vector<std::string_view> kWorkloadStepFields = {"expect", "send", "sleep_ms", "output_lines", "input_bytes",
                                                           "api",    "exit", "wait_end", "timeout_ms"};
const std::vector<std::string_view> kExpectFields = {"all_sessions_completed",
                                                     "sessions_completed",
                                                     "no_data_lost",
                                                     "all_sessions_ended",
                                                     "min_retransmissions",
                                                     "min_retransmissions_client_to_agent",
                                                     "min_retransmissions_agent_to_client",
                                                     "min_reconnects",
                                                     "min_resume_calls",
                                                     "min_reconnects_given_up",
                                                     "min_throttled_calls",
                                                     "min_api_errors",
                                                     "min_start_failures",
                                                     "min_applied",
                                                     "max_applied",
                                                     "max_duration_ms"};
const std::vector<std::string_view> kMessageMatchOnly = {"message_types", "payload_types", "sequence_min",
                                                         "sequence_max"};
const std::vector<std::string_view> kApiMatchOnly = {"operations", "access_keys"};
const std::vector<std::string_view> kEvents = {kEventActivated, kEventSessionsStarted, kEventSessionsConnected,
                                               kEventWorkloadDone};
// Operations the run mode's built-in clients may call in an `api` step.
const std::vector<std::string_view> kWorkloadApis = {"DescribeSessions", "GetConnectionStatus",
                                                     "DescribeInstanceInformation"};

std::string join(const std::vector<std::string_view>& v) {
  std::string out;
  for (auto s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

bool contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string_view json_type(const json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

std::optional<std::uint32_t> payload_type_number(std::string_view name) {
  static const std::vector<std::string_view> names = {
      "none",      "Output",           "Error",           "Size",           "Parameter",
      "HandshakeRequest", "HandshakeResponse", "HandshakeComplete", "EncChallengeRequest",
      "EncChallengeResponse", "Flag", "StdErr", "ExitCode"};
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<std::uint32_t>(i);
  return std::nullopt;
}

// Reads one document, stopping at the first error (kept in `error`).
class Parser {
 public:
  explicit Parser(std::string_view source) { error.file = std::string(source); }

  LoadError error;

  bool fail(std::string field, std::string message) {
    error.field = std::move(field);
    error.message = std::move(message);
    return false;
  }

  bool check_fields(const json& obj, const std::vector<std::string_view>& allowed, const std::string& prefix) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (!contains(allowed, it.key()))
        return fail(prefix + it.key(), "unknown field (allowed: " + join(allowed) + ")");
    }
    return true;
  }

  bool get_int(const json& obj, std::string_view key, const std::string& field, std::int64_t lo, std::int64_t hi,
               std::int64_t& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return true;
    if (!(it->is_number_integer() || it->is_number_unsigned()))
      return fail(field, "must be an integer, not " + std::string(json_type(*it)));
    if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))
      return fail(field, "must be at most " + std::to_string(hi));
    std::int64_t v = it->get<std::int64_t>();
    if (v < lo || v > hi)
      return fail(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    out = v;
    return true;
  }

  bool get_ms(const json& obj, std::string_view key, const std::string& field, std::chrono::milliseconds& out) {
    std::int64_t v = out.count();
    if (!get_int(obj, key, field, 0, kMaxMs, v)) return false;
    out = std::chrono::milliseconds(v);
    return true;
  }

  bool get_bool(const json& obj, std::string_view key, const std::string& field, bool& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return true;
    if (!it->is_boolean()) return fail(field, "must be true or false, not " + std::string(json_type(*it)));
    out = it->get<bool>();
    return true;
  }

  bool get_string(const json& obj, std::string_view key, const std::string& field, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return true;
    if (!it->is_string()) return fail(field, "must be a string, not " + std::string(json_type(*it)));
    out = it->get<std::string>();
    return true;
  }

  // A string or an array of strings.
  bool get_strings(const json& obj, std::string_view key, const std::string& field, std::vector<std::string>& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return true;
    if (it->is_string()) {
      out.push_back(it->get<std::string>());
      return true;
    }
    if (!it->is_array()) return fail(field, "must be a string or an array of strings");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& e = (*it)[i];
      if (!e.is_string() || e.get<std::string>().empty())
        return fail(field + "[" + std::to_string(i) + "]", "must be a non-empty string");
      out.push_back(e.get<std::string>());
    }
    return true;
  }

  bool parse_match(const json& m, const FaultType& type, Match& out) {
    const std::string p = "match.";
    if (!m.is_object()) return fail("match", "must be an object");
    if (!check_fields(m, kMatchFields, p)) return false;
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (type.kind == FaultKind::api && contains(kMessageMatchOnly, it.key()))
        return fail(p + it.key(), "applies to message faults only; '" + std::string(type.name) + "' is an API fault");
      if (type.make_api == nullptr && contains(kApiMatchOnly, it.key()))
        return fail(p + it.key(), "applies to API faults only");
      if (type.plan != nullptr && it.key() != "targets")
        return fail(p + it.key(), "'" + std::string(type.name) + "' acts on instances: only match.targets applies");
    }
    if (!get_strings(m, "session_ids", p + "session_ids", out.session_ids)) return false;
    if (!get_strings(m, "targets", p + "targets", out.targets)) return false;
    if (!get_strings(m, "message_types", p + "message_types", out.message_types)) return false;
    if (!get_strings(m, "operations", p + "operations", out.operations)) return false;
    if (!get_strings(m, "access_keys", p + "access_keys", out.access_keys)) return false;
    if (auto it = m.find("payload_types"); it != m.end()) {
      json list = it->is_array() ? *it : json::array({*it});
      for (std::size_t i = 0; i < list.size(); ++i) {
        const json& e = list[i];
        const std::string f = p + "payload_types[" + std::to_string(i) + "]";
        if (e.is_number_integer() && e.get<std::int64_t>() >= 0 && e.get<std::int64_t>() <= 0xFFFF) {
          out.payload_types.push_back(static_cast<std::uint32_t>(e.get<std::int64_t>()));
        } else if (e.is_string() && payload_type_number(e.get<std::string>())) {
          out.payload_types.push_back(*payload_type_number(e.get<std::string>()));
        } else {
          return fail(f, "must be a payload type number or name (Output, HandshakeRequest, ...)");
        }
      }
    }
    std::int64_t v = 0;
    if (m.contains("sequence_min")) {
      if (!get_int(m, "sequence_min", p + "sequence_min", 0, std::numeric_limits<std::int64_t>::max(), v))
        return false;
      out.sequence_min = v;
    }
    if (m.contains("sequence_max")) {
      if (!get_int(m, "sequence_max", p + "sequence_max", 0, std::numeric_limits<std::int64_t>::max(), v))
        return false;
      out.sequence_max = v;
    }
    if (out.sequence_min && out.sequence_max && *out.sequence_min > *out.sequence_max)
      return fail(p + "sequence_max", "must not be below sequence_min");
    std::int64_t n = 0;
    if (!get_int(m, "nth", p + "nth", 1, std::numeric_limits<std::int64_t>::max(), n)) return false;
    out.nth = static_cast<std::uint64_t>(n);
    n = 0;
    if (!get_int(m, "every_nth", p + "every_nth", 1, std::numeric_limits<std::int64_t>::max(), n)) return false;
    out.every_nth = static_cast<std::uint64_t>(n);
    n = 0;
    if (!get_int(m, "limit", p + "limit", 1, std::numeric_limits<std::int64_t>::max(), n)) return false;
    out.limit = static_cast<std::uint64_t>(n);
    if (out.nth && out.every_nth) return fail(p + "every_nth", "give nth or every_nth, not both");
    return true;
  }

  bool parse_attributes(const json& a, const FaultType& type, Attributes& out) {
    if (!a.is_object()) return fail("attributes", "must be an object");
    for (auto it = a.begin(); it != a.end(); ++it) {
      const json& v = it.value();
      if (v.is_boolean()) {
        out.set(it.key(), v.get<bool>());
      } else if (v.is_number_integer() || v.is_number_unsigned()) {
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxMs) * 1000)
          return fail("attributes." + it.key(), "is out of range");
        out.set(it.key(), v.get<std::int64_t>());
      } else if (v.is_number_float()) {
        out.set(it.key(), v.get<double>());
      } else if (v.is_string()) {
        out.set(it.key(), v.get<std::string>());
      } else {
        return fail("attributes." + it.key(), "must be a number, a boolean or a string");
      }
    }
    if (auto bad = complete_attributes(type, out)) return fail("attributes." + bad->first, bad->second);
    return true;
  }

  bool parse_rule(const json& r, std::size_t index, Rule& out) {
    error.rule = index;
    if (!r.is_object()) return fail("", "a rule must be an object");
    if (auto n = r.find("name"); n != r.end() && n->is_string()) error.rule_name = n->get<std::string>();
    if (!check_fields(r, kRuleFields, "")) return false;
    if (!r.contains("name")) return fail("name", "is required");
    if (!get_string(r, "name", "name", out.name)) return false;
    if (out.name.empty() || !std::all_of(out.name.begin(), out.name.end(), is_name_char))
      return fail("name", "must be non-empty letters, digits, '_', '-' or '.'");
    if (!r.contains("type")) return fail("type", "is required");
    if (!get_string(r, "type", "type", out.type)) return false;
    const FaultType* type = find_fault_type(out.type);
    if (!type) {
      std::vector<std::string_view> names;
      for (const auto* t : fault_types()) names.push_back(t->name);
      return fail("type", "unknown fault type \"" + out.type + "\" (one of: " + join(names) + ")");
    }
    std::string description;
    if (!get_string(r, "description", "description", description)) return false;
    if (auto d = r.find("direction"); d != r.end()) {
      if (!d->is_string()) return fail("direction", "must be a string");
      const std::string dir = d->get<std::string>();
      if (dir == "both") {
        out.direction = DirectionSet::both;
      } else if (dir == "client_to_agent") {
        out.direction = DirectionSet::client_to_agent;
      } else if (dir == "agent_to_client") {
        out.direction = DirectionSet::agent_to_client;
      } else {
        return fail("direction", "must be client_to_agent, agent_to_client or both");
      }
      if (!type->directional && !type->fixed_direction)
        return fail("direction", "'" + out.type + "' does not act on a message direction");
      if (type->fixed_direction && dir != broker::to_string(*type->fixed_direction))
        return fail("direction", "'" + out.type + "' acts on " + std::string(broker::to_string(*type->fixed_direction)) +
                                     " only");
    }
    if (type->fixed_direction) {
      out.direction = *type->fixed_direction == broker::Direction::client_to_agent ? DirectionSet::client_to_agent
                                                                                   : DirectionSet::agent_to_client;
    }
    if (auto pr = r.find("probability"); pr != r.end()) {
      if (!pr->is_number()) return fail("probability", "must be a number from 0 to 1");
      out.probability = pr->get<double>();
      if (!(out.probability >= 0.0 && out.probability <= 1.0))
        return fail("probability", "must be a number from 0 to 1");
      if (type->plan != nullptr && out.probability != 1.0)
        return fail("probability", "'" + out.type + "' runs once at at_ms: probability does not apply");
    }
    if (!get_bool(r, "enabled", "enabled", out.enabled)) return false;
    if (auto m = r.find("match"); m != r.end()) {
      if (!parse_match(*m, *type, out.match)) return false;
    }
    json attrs = r.contains("attributes") ? r["attributes"] : json::object();
    if (!parse_attributes(attrs, *type, out.attributes)) return false;
    error.rule.reset();
    error.rule_name.clear();
    return true;
  }

  bool parse_timeline(const json& t, const Scenario& s, std::vector<TimelineStep>& out) {
    if (!t.is_array()) return fail("timeline", "must be an array of steps");
    for (std::size_t i = 0; i < t.size(); ++i) {
      const json& st = t[i];
      const std::string p = "timeline[" + std::to_string(i) + "].";
      if (!st.is_object()) return fail(p.substr(0, p.size() - 1), "must be an object");
      if (!check_fields(st, kTimelineFields, p)) return false;
      TimelineStep step;
      if (!get_string(st, "after", p + "after", step.after)) return false;
      if (!contains(kEvents, step.after))
        return fail(p + "after", "unknown event \"" + step.after + "\" (one of: " + join(kEvents) + ")");
      if (!get_ms(st, "at_ms", p + "at_ms", step.at)) return false;
      std::string action;
      if (!st.contains("action")) return fail(p + "action", "is required");
      if (!get_string(st, "action", p + "action", action)) return false;
      auto kind = parse_action_kind(action);
      if (!kind) {
        return fail(p + "action", "unknown action \"" + action +
                                      "\" (one of: agent_disconnect, agent_reconnect, instance_offline, "
                                      "instance_online, enable_rule, disable_rule, drop_clients, terminate_sessions)");
      }
      step.action = *kind;
      if (!get_string(st, "target", p + "target", step.target)) return false;
      if (!get_string(st, "rule", p + "rule", step.rule)) return false;
      const bool rule_action = step.action == ActionKind::enable_rule || step.action == ActionKind::disable_rule;
      if (rule_action && !s.find_rule(step.rule))
        return fail(p + "rule", "must name a rule of this scenario (\"" + step.rule + "\" is not one)");
      if (!rule_action && st.contains("rule")) return fail(p + "rule", "applies to enable_rule / disable_rule only");
      if (rule_action && st.contains("target")) return fail(p + "target", "does not apply to " + action);
      out.push_back(std::move(step));
    }
    return true;
  }

  bool parse_workload(const json& w, Workload& out) {
    const std::string p = "workload.";
    if (!w.is_object()) return fail("workload", "must be an object");
    if (!check_fields(w, kWorkloadFields, p)) return false;
    std::int64_t sessions = out.sessions;
    if (!get_int(w, "sessions", p + "sessions", 0, kMaxSessions, sessions)) return false;
    out.sessions = static_cast<int>(sessions);
    if (!get_string(w, "target", p + "target", out.target)) return false;
    if (!get_string(w, "document_name", p + "document_name", out.document_name)) return false;
    if (!get_ms(w, "start_interval_ms", p + "start_interval_ms", out.start_interval)) return false;
    if (!get_bool(w, "keep_input_while_disconnected", p + "keep_input_while_disconnected",
                  out.keep_input_while_disconnected))
      return false;
    if (!get_ms(w, "time_limit_ms", p + "time_limit_ms", out.time_limit)) return false;
    if (out.time_limit.count() == 0) return fail(p + "time_limit_ms", "must be positive");
    if (auto steps = w.find("steps"); steps != w.end()) {
      if (!steps->is_array()) return fail(p + "steps", "must be an array");
      for (std::size_t i = 0; i < steps->size(); ++i) {
        WorkloadStep step;
        if (!parse_workload_step((*steps)[i], p + "steps[" + std::to_string(i) + "]", step)) return false;
        out.steps.push_back(std::move(step));
      }
    } else {
      out.steps = default_workload().steps;
    }
    return true;
  }

  bool parse_workload_step(const json& st, const std::string& where, WorkloadStep& out) {
    if (!st.is_object()) return fail(where, "must be an object");
    if (!check_fields(st, kWorkloadStepFields, where + ".")) return false;
    int actions = 0;
    for (auto it = st.begin(); it != st.end(); ++it)
      if (it.key() != "timeout_ms") ++actions;
    if (actions != 1)
      return fail(where, "needs exactly one of: expect, send, sleep_ms, output_lines, input_bytes, api, exit, wait_end");
    if (!get_ms(st, "timeout_ms", where + ".timeout_ms", out.timeout)) return false;
    if (out.timeout.count() == 0) return fail(where + ".timeout_ms", "must be positive");
    const std::string p = where + ".";
    if (st.contains("expect")) {
      out.kind = WorkloadStep::Kind::expect;
      if (!get_string(st, "expect", p + "expect", out.text)) return false;
      if (out.text.empty()) return fail(p + "expect", "must not be empty");
    } else if (st.contains("send")) {
      out.kind = WorkloadStep::Kind::send;
      if (!get_string(st, "send", p + "send", out.text)) return false;
    } else if (st.contains("sleep_ms")) {
      out.kind = WorkloadStep::Kind::sleep;
      if (!get_ms(st, "sleep_ms", p + "sleep_ms", out.duration)) return false;
    } else if (st.contains("output_lines")) {
      out.kind = WorkloadStep::Kind::output_lines;
      if (!get_int(st, "output_lines", p + "output_lines", 1, 10'000'000, out.count)) return false;
    } else if (st.contains("input_bytes")) {
      out.kind = WorkloadStep::Kind::input_bytes;
      if (!get_int(st, "input_bytes", p + "input_bytes", 1, 10'000'000, out.count)) return false;
    } else if (st.contains("api")) {
      out.kind = WorkloadStep::Kind::api;
      if (!get_string(st, "api", p + "api", out.text)) return false;
      if (!contains(kWorkloadApis, out.text))
        return fail(p + "api", "must be one of: " + join(kWorkloadApis));
    } else if (st.contains("exit")) {
      out.kind = WorkloadStep::Kind::exit;
      bool b = false;
      if (!get_bool(st, "exit", p + "exit", b)) return false;
      if (!b) return fail(p + "exit", "must be true (leave the step out otherwise)");
    } else {
      out.kind = WorkloadStep::Kind::wait_end;
      bool b = false;
      if (!get_bool(st, "wait_end", p + "wait_end", b)) return false;
      if (!b) return fail(p + "wait_end", "must be true (leave the step out otherwise)");
    }
    return true;
  }

  bool parse_rule_counts(const json& e, std::string_view key, const Scenario& s,
                         std::vector<std::pair<std::string, std::int64_t>>& out) {
    auto it = e.find(key);
    if (it == e.end()) return true;
    const std::string p = "expect." + std::string(key);
    if (!it->is_object()) return fail(p, "must be an object of rule name to count");
    for (auto r = it->begin(); r != it->end(); ++r) {
      if (!s.find_rule(r.key())) return fail(p + "." + r.key(), "names no rule of this scenario");
      std::int64_t n = 0;
      if (!get_int(*it, r.key(), p + "." + r.key(), 0, std::numeric_limits<std::int64_t>::max(), n)) return false;
      out.emplace_back(r.key(), n);
    }
    return true;
  }

  bool parse_expect(const json& e, const Scenario& s, Expectations& out) {
    if (!e.is_object()) return fail("expect", "must be an object");
    if (!check_fields(e, kExpectFields, "expect.")) return false;
    auto opt_bool = [&](std::string_view key, std::optional<bool>& o) {
      if (!e.contains(key)) return true;
      bool b = false;
      if (!get_bool(e, key, "expect." + std::string(key), b)) return false;
      o = b;
      return true;
    };
    auto opt_int = [&](std::string_view key, std::optional<std::int64_t>& o) {
      if (!e.contains(key)) return true;
      std::int64_t n = 0;
      if (!get_int(e, key, "expect." + std::string(key), 0, std::numeric_limits<std::int64_t>::max(), n))
        return false;
      o = n;
      return true;
    };
    return opt_bool("all_sessions_completed", out.all_sessions_completed) &&
           opt_int("sessions_completed", out.sessions_completed) && opt_bool("no_data_lost", out.no_data_lost) &&
           opt_bool("all_sessions_ended", out.all_sessions_ended) &&
           opt_int("min_retransmissions", out.min_retransmissions) &&
           opt_int("min_retransmissions_client_to_agent", out.min_retransmissions_client_to_agent) &&
           opt_int("min_retransmissions_agent_to_client", out.min_retransmissions_agent_to_client) &&
           opt_int("min_reconnects", out.min_reconnects) && opt_int("min_resume_calls", out.min_resume_calls) &&
           opt_int("min_reconnects_given_up", out.min_reconnects_given_up) &&
           opt_int("min_throttled_calls", out.min_throttled_calls) && opt_int("min_api_errors", out.min_api_errors) &&
           opt_int("min_start_failures", out.min_start_failures) &&
           parse_rule_counts(e, "min_applied", s, out.min_applied) &&
           parse_rule_counts(e, "max_applied", s, out.max_applied) &&
           opt_int("max_duration_ms", out.max_duration_ms);
  }

  bool parse(const json& doc, std::optional<std::string_view> expected_name, Scenario& s) {
    if (!doc.is_object()) return fail("", "a scenario must be a JSON object");
    if (!check_fields(doc, kScenarioFields, "")) return false;
    if (!doc.contains("name")) return fail("name", "is required");
    if (!get_string(doc, "name", "name", s.name)) return false;
    if (s.name.empty() || !std::all_of(s.name.begin(), s.name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        }))
      return fail("name", "must be lower-case letters, digits and '_'");
    if (expected_name && s.name != *expected_name)
      return fail("name", "must equal the file name without .json (\"" + std::string(*expected_name) + "\")");
    if (!doc.contains("description")) return fail("description", "is required");
    if (!get_string(doc, "description", "description", s.description)) return false;
    if (s.description.empty() || s.description.size() > kMaxDescription ||
        s.description.find('\n') != std::string::npos || s.description.back() != '.')
      return fail("description", "must be one sentence on one line, ending with '.', at most 300 characters");
    if (!doc.contains("seed")) return fail("seed", "is required");
    if (auto it = doc.find("seed"); !(it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() >= 0)))
      return fail("seed", "must be a non-negative integer");
    s.seed = doc["seed"].get<std::uint64_t>();
    if (auto rules = doc.find("rules"); rules != doc.end()) {
      if (!rules->is_array()) return fail("rules", "must be an array of rules");
      std::set<std::string> names;
      for (std::size_t i = 0; i < rules->size(); ++i) {
        Rule r;
        if (!parse_rule((*rules)[i], i, r)) return false;
        if (!names.insert(r.name).second) {
          error.rule = i;
          error.rule_name = r.name;
          return fail("name", "is used by an earlier rule: rule names must be unique");
        }
        s.rules.push_back(std::move(r));
      }
    }
    if (auto t = doc.find("timeline"); t != doc.end()) {
      if (!parse_timeline(*t, s, s.timeline)) return false;
    }
    if (auto w = doc.find("workload"); w != doc.end()) {
      Workload wl;
      if (!parse_workload(*w, wl)) return false;
      s.workload = std::move(wl);
    }
    if (auto e = doc.find("expect"); e != doc.end()) {
      if (!parse_expect(*e, s, s.expect)) return false;
    }
    return true;
  }
};

ojson attr_json(const AttrValue& v) {
  return std::visit([](const auto& x) { return ojson(x); }, v);
}

ojson strings_json(const std::vector<std::string>& v) { return ojson(v); }

}  // namespace

// ---- Attributes ----------------------------------------------------------------------------

void Attributes::set(std::string name, AttrValue value) {
  for (auto& [k, v] : items_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(name), std::move(value));
}

const AttrValue* Attributes::find(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (k == name) return &v;
  return nullptr;
}

bool Attributes::has(std::string_view name) const { return find(name) != nullptr; }

std::int64_t Attributes::integer(std::string_view name) const {
  const AttrValue* v = find(name);
  if (!v) return 0;
  if (auto* i = std::get_if<std::int64_t>(v)) return *i;
  if (auto* d = std::get_if<double>(v)) return static_cast<std::int64_t>(*d);
  return 0;
}

double Attributes::number(std::string_view name) const {
  const AttrValue* v = find(name);
  if (!v) return 0;
  if (auto* d = std::get_if<double>(v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  return 0;
}

bool Attributes::boolean(std::string_view name) const {
  const AttrValue* v = find(name);
  auto* b = v ? std::get_if<bool>(v) : nullptr;
  return b && *b;
}

std::string Attributes::text(std::string_view name) const {
  const AttrValue* v = find(name);
  auto* s = v ? std::get_if<std::string>(v) : nullptr;
  return s ? *s : std::string();
}

// ---- names -----------------------------------------------------------------------------------

std::string_view to_string(DirectionSet d) {
  switch (d) {
    case DirectionSet::both: return "both";
    case DirectionSet::client_to_agent: return "client_to_agent";
    case DirectionSet::agent_to_client: return "agent_to_client";
  }
  return "both";
}

std::string_view to_string(ActionKind k) {
  switch (k) {
    case ActionKind::agent_disconnect: return "agent_disconnect";
    case ActionKind::agent_reconnect: return "agent_reconnect";
    case ActionKind::instance_offline: return "instance_offline";
    case ActionKind::instance_online: return "instance_online";
    case ActionKind::enable_rule: return "enable_rule";
    case ActionKind::disable_rule: return "disable_rule";
    case ActionKind::drop_clients: return "drop_clients";
    case ActionKind::terminate_sessions: return "terminate_sessions";
  }
  return "drop_clients";
}

std::optional<ActionKind> parse_action_kind(std::string_view text) {
  for (ActionKind k : {ActionKind::agent_disconnect, ActionKind::agent_reconnect, ActionKind::instance_offline,
                       ActionKind::instance_online, ActionKind::enable_rule, ActionKind::disable_rule,
                       ActionKind::drop_clients, ActionKind::terminate_sessions})
    if (to_string(k) == text) return k;
  return std::nullopt;
}

std::string_view to_string(WorkloadStep::Kind k) {
  switch (k) {
    case WorkloadStep::Kind::expect: return "expect";
    case WorkloadStep::Kind::send: return "send";
    case WorkloadStep::Kind::sleep: return "sleep_ms";
    case WorkloadStep::Kind::output_lines: return "output_lines";
    case WorkloadStep::Kind::input_bytes: return "input_bytes";
    case WorkloadStep::Kind::api: return "api";
    case WorkloadStep::Kind::exit: return "exit";
    case WorkloadStep::Kind::wait_end: return "wait_end";
  }
  return "expect";
}

Workload default_workload() {
  // A shell session that checks both directions and ends itself.
  Workload w;
  const auto timeout = std::chrono::milliseconds(20000);
  w.steps.push_back({WorkloadStep::Kind::expect, "$ ", 0, {}, timeout});
  w.steps.push_back({WorkloadStep::Kind::output_lines, "", 2000, {}, timeout});
  w.steps.push_back({WorkloadStep::Kind::input_bytes, "", 1000, {}, timeout});
  w.steps.push_back({WorkloadStep::Kind::exit, "", 0, {}, timeout});
  return w;
}

bool Expectations::empty() const {
  return !all_sessions_completed && !sessions_completed && !no_data_lost && !all_sessions_ended &&
         !min_retransmissions && !min_retransmissions_client_to_agent && !min_retransmissions_agent_to_client &&
         !min_reconnects && !min_resume_calls && !min_reconnects_given_up && !min_throttled_calls &&
         !min_api_errors && !min_start_failures && min_applied.empty() && max_applied.empty() && !max_duration_ms;
}

const Rule* Scenario::find_rule(std::string_view rule_name) const {
  for (const auto& r : rules)
    if (r.name == rule_name) return &r;
  return nullptr;
}

std::string LoadError::to_string() const {
  std::string out = file.empty() ? std::string("scenario") : file;
  out += ": ";
  if (rule) {
    out += "rules[" + std::to_string(*rule) + "]";
    if (!rule_name.empty()) out += " (\"" + rule_name + "\")";
    out += ": ";
  }
  if (!field.empty()) out += "field \"" + field + "\": ";
  out += message;
  return out;
}

// ---- loading ---------------------------------------------------------------------------------

LoadResult<Scenario> parse_scenario(std::string_view text, std::string_view source,
                                    std::optional<std::string_view> expected_name) {
  Parser p(source);
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    p.fail("", "not valid JSON");
    return p.error;
  }
  Scenario s;
  if (!p.parse(doc, expected_name, s)) return p.error;
  return s;
}

LoadResult<Scenario> load_scenario_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadError e;
    e.file = path.string();
    e.message = "cannot be read";
    return e;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string stem = path.stem().string();
  return parse_scenario(text.str(), path.string(), std::string_view(stem));
}

std::string to_json(const Scenario& s) {
  ojson j = ojson::object();
  j["name"] = s.name;
  j["description"] = s.description;
  j["seed"] = s.seed;
  j["rules"] = ojson::array();
  for (const auto& r : s.rules) {
    ojson rj = ojson::object();
    rj["name"] = r.name;
    rj["type"] = r.type;
    const FaultType* type = find_fault_type(r.type);
    if (type && (type->directional || type->fixed_direction)) rj["direction"] = std::string(to_string(r.direction));
    rj["enabled"] = r.enabled;
    rj["probability"] = r.probability;
    ojson m = ojson::object();
    const Match& mt = r.match;
    if (!mt.session_ids.empty()) m["session_ids"] = strings_json(mt.session_ids);
    if (!mt.targets.empty()) m["targets"] = strings_json(mt.targets);
    if (!mt.message_types.empty()) m["message_types"] = strings_json(mt.message_types);
    if (!mt.payload_types.empty()) m["payload_types"] = mt.payload_types;
    if (mt.sequence_min) m["sequence_min"] = *mt.sequence_min;
    if (mt.sequence_max) m["sequence_max"] = *mt.sequence_max;
    if (!mt.operations.empty()) m["operations"] = strings_json(mt.operations);
    if (!mt.access_keys.empty()) m["access_keys"] = strings_json(mt.access_keys);
    if (mt.nth) m["nth"] = mt.nth;
    if (mt.every_nth) m["every_nth"] = mt.every_nth;
    if (mt.limit) m["limit"] = mt.limit;
    rj["match"] = std::move(m);
    ojson a = ojson::object();
    for (const auto& [k, v] : r.attributes.items()) a[k] = attr_json(v);
    rj["attributes"] = std::move(a);
    j["rules"].push_back(std::move(rj));
  }
  if (!s.timeline.empty()) {
    j["timeline"] = ojson::array();
    for (const auto& st : s.timeline) {
      ojson sj = ojson::object();
      sj["after"] = st.after;
      sj["at_ms"] = st.at.count();
      sj["action"] = std::string(to_string(st.action));
      if (!st.target.empty()) sj["target"] = st.target;
      if (!st.rule.empty()) sj["rule"] = st.rule;
      j["timeline"].push_back(std::move(sj));
    }
  }
  if (s.workload) {
    const Workload& w = *s.workload;
    ojson wj = ojson::object();
    wj["sessions"] = w.sessions;
    if (!w.target.empty()) wj["target"] = w.target;
    if (!w.document_name.empty()) wj["document_name"] = w.document_name;
    wj["start_interval_ms"] = w.start_interval.count();
    wj["keep_input_while_disconnected"] = w.keep_input_while_disconnected;
    wj["time_limit_ms"] = w.time_limit.count();
    wj["steps"] = ojson::array();
    for (const auto& st : w.steps) {
      ojson sj = ojson::object();
      switch (st.kind) {
        case WorkloadStep::Kind::expect: sj["expect"] = st.text; break;
        case WorkloadStep::Kind::send: sj["send"] = st.text; break;
        case WorkloadStep::Kind::sleep: sj["sleep_ms"] = st.duration.count(); break;
        case WorkloadStep::Kind::output_lines: sj["output_lines"] = st.count; break;
        case WorkloadStep::Kind::input_bytes: sj["input_bytes"] = st.count; break;
        case WorkloadStep::Kind::api: sj["api"] = st.text; break;
        case WorkloadStep::Kind::exit: sj["exit"] = true; break;
        case WorkloadStep::Kind::wait_end: sj["wait_end"] = true; break;
      }
      sj["timeout_ms"] = st.timeout.count();
      wj["steps"].push_back(std::move(sj));
    }
    j["workload"] = std::move(wj);
  }
  if (!s.expect.empty()) {
    const Expectations& e = s.expect;
    ojson ej = ojson::object();
    if (e.all_sessions_completed) ej["all_sessions_completed"] = *e.all_sessions_completed;
    if (e.sessions_completed) ej["sessions_completed"] = *e.sessions_completed;
    if (e.no_data_lost) ej["no_data_lost"] = *e.no_data_lost;
    if (e.all_sessions_ended) ej["all_sessions_ended"] = *e.all_sessions_ended;
    if (e.min_retransmissions) ej["min_retransmissions"] = *e.min_retransmissions;
    if (e.min_retransmissions_client_to_agent)
      ej["min_retransmissions_client_to_agent"] = *e.min_retransmissions_client_to_agent;
    if (e.min_retransmissions_agent_to_client)
      ej["min_retransmissions_agent_to_client"] = *e.min_retransmissions_agent_to_client;
    if (e.min_reconnects) ej["min_reconnects"] = *e.min_reconnects;
    if (e.min_resume_calls) ej["min_resume_calls"] = *e.min_resume_calls;
    if (e.min_reconnects_given_up) ej["min_reconnects_given_up"] = *e.min_reconnects_given_up;
    if (e.min_throttled_calls) ej["min_throttled_calls"] = *e.min_throttled_calls;
    if (e.min_api_errors) ej["min_api_errors"] = *e.min_api_errors;
    if (e.min_start_failures) ej["min_start_failures"] = *e.min_start_failures;
    auto counts = [](const std::vector<std::pair<std::string, std::int64_t>>& v) {
      ojson o = ojson::object();
      for (const auto& [k, n] : v) o[k] = n;
      return o;
    };
    if (!e.min_applied.empty()) ej["min_applied"] = counts(e.min_applied);
    if (!e.max_applied.empty()) ej["max_applied"] = counts(e.max_applied);
    if (e.max_duration_ms) ej["max_duration_ms"] = *e.max_duration_ms;
    j["expect"] = std::move(ej);
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace);
}

const std::vector<std::string_view>& known_fields(std::string_view kind) {
  static const std::vector<std::string_view> none;
  if (kind == "scenario") return kScenarioFields;
  if (kind == "rule") return kRuleFields;
  if (kind == "match") return kMatchFields;
  if (kind == "timeline") return kTimelineFields;
  if (kind == "workload") return kWorkloadFields;
  if (kind == "workload_step") return kWorkloadStepFields;
  if (kind == "expect") return kExpectFields;
  return none;
}

std::uint64_t derive_seed(std::uint64_t seed, std::string_view salt, std::uint64_t extra) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64
  for (unsigned char c : salt) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  std::uint64_t x = seed ^ h ^ (extra * 0x9e3779b97f4a7c15ULL);
  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace mocksvc::fault
