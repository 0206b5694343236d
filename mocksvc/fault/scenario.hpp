// A scenario: the data in one scenarios/*.json file, parsed and validated. It names itself, seeds
// its randomness, lists ordered fault rules (one envelope each: name, type, direction, match,
// probability, attributes), an optional timeline of actions, an optional workload for the run
// mode's built-in clients, and optional expectations checked at the end of a run.
// Parsing never throws; every error names the file, the rule index and the field.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/system/result.hpp>

namespace mocksvc::fault {

// One attribute value as the file gave it (after defaults): integers stay integers.
using AttrValue = std::variant<std::int64_t, double, bool, std::string>;

// A rule's attributes, every attribute of its type present once defaults are applied
// (catalog.hpp). Getters of a missing name or another type return the type's zero value.
class Attributes {
 public:
  void set(std::string name, AttrValue value);
  bool has(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  double number(std::string_view name) const;  // integers convert
  bool boolean(std::string_view name) const;
  std::string text(std::string_view name) const;
  std::chrono::milliseconds ms(std::string_view name) const { return std::chrono::milliseconds(integer(name)); }
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }

 private:
  const AttrValue* find(std::string_view name) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

enum class DirectionSet { both, client_to_agent, agent_to_client };
std::string_view to_string(DirectionSet d);

// What a rule applies to. Empty lists match anything. Message rules use the session, target,
// message and sequence fields; API rules use operations, access keys, targets and session ids.
struct Match {
  std::vector<std::string> session_ids;
  std::vector<std::string> targets;
  std::vector<std::string> message_types;     // "input_stream_data", "acknowledge", ...
  std::vector<std::uint32_t> payload_types;   // numbers (data-channel.md §5.3)
  // Inclusive range; for acknowledge messages it applies to the acknowledged sequence number.
  std::optional<std::int64_t> sequence_min;
  std::optional<std::int64_t> sequence_max;
  std::vector<std::string> operations;   // "StartSession", ...
  std::vector<std::string> access_keys;
  // Counted over the messages (per session and direction) or calls (per rule) that passed the
  // filters above, from 1: only the nth; every every_nth-th; at most `limit` applications.
  std::uint64_t nth = 0;
  std::uint64_t every_nth = 0;
  std::uint64_t limit = 0;
};

struct Rule {
  std::string name;
  std::string type;  // a catalog name: "drop", "throttle", ...
  DirectionSet direction = DirectionSet::both;
  Match match;
  double probability = 1.0;
  bool enabled = true;
  Attributes attributes;
};

// What a timeline step, or a scheduled agent rule, does to the service.
enum class ActionKind {
  agent_disconnect,
  agent_reconnect,
  instance_offline,
  instance_online,
  enable_rule,
  disable_rule,
  drop_clients,
  terminate_sessions,
};
std::string_view to_string(ActionKind k);
std::optional<ActionKind> parse_action_kind(std::string_view text);

// Events a step may wait for. `activated` is when the scenario became active; the others are
// announced by the run mode (Injector::notify).
inline constexpr std::string_view kEventActivated = "activated";
inline constexpr std::string_view kEventSessionsStarted = "sessions_started";
inline constexpr std::string_view kEventSessionsConnected = "sessions_connected";
inline constexpr std::string_view kEventWorkloadDone = "workload_done";

struct TimelineStep {
  std::string after = std::string(kEventActivated);
  std::chrono::milliseconds at{0};  // after the event
  ActionKind action = ActionKind::drop_clients;
  std::string target;  // instance id; empty: every instance / session
  std::string rule;    // enable_rule / disable_rule
};

// One thing a built-in client does, in order (run mode only).
struct WorkloadStep {
  enum class Kind { expect, send, sleep, output_lines, input_bytes, api, exit, wait_end };
  Kind kind = Kind::expect;
  std::string text;         // expect, send, api (the operation)
  std::int64_t count = 0;   // output_lines, input_bytes
  std::chrono::milliseconds duration{0};  // sleep
  std::chrono::milliseconds timeout{20000};
};
std::string_view to_string(WorkloadStep::Kind k);

struct Workload {
  int sessions = 1;
  std::string target;         // empty: the service's default shell instance
  std::string document_name;  // empty: the default shell document
  std::chrono::milliseconds start_interval{0};
  bool keep_input_while_disconnected = false;
  std::chrono::milliseconds time_limit{60000};
  std::vector<WorkloadStep> steps;  // defaults applied when the file gives none
};
// One shell session that checks 2000 output lines and 1000 input bytes, then exits.
Workload default_workload();

// Expectations checked at the end of a run; absent ones are not checked.
struct Expectations {
  std::optional<bool> all_sessions_completed;
  std::optional<std::int64_t> sessions_completed;
  std::optional<bool> no_data_lost;
  std::optional<bool> all_sessions_ended;
  std::optional<std::int64_t> min_retransmissions;
  std::optional<std::int64_t> min_retransmissions_client_to_agent;
  std::optional<std::int64_t> min_retransmissions_agent_to_client;
  std::optional<std::int64_t> min_reconnects;
  std::optional<std::int64_t> min_resume_calls;
  std::optional<std::int64_t> min_reconnects_given_up;
  std::optional<std::int64_t> min_throttled_calls;
  std::optional<std::int64_t> min_api_errors;
  std::optional<std::int64_t> min_start_failures;
  std::vector<std::pair<std::string, std::int64_t>> min_applied;  // rule name -> count
  std::vector<std::pair<std::string, std::int64_t>> max_applied;
  std::optional<std::int64_t> max_duration_ms;
  bool empty() const;
};

struct Scenario {
  std::string name;
  std::string description;
  std::uint64_t seed = 1;
  std::vector<Rule> rules;
  std::vector<TimelineStep> timeline;
  std::optional<Workload> workload;
  Expectations expect;

  const Rule* find_rule(std::string_view name) const;
};

// Where a scenario failed to load: "<file>: rules[2] (\"name\"): field \"latency_ms\": ...".
struct LoadError {
  std::string file;
  std::optional<std::size_t> rule;
  std::string rule_name;
  std::string field;  // dotted path inside the rule or the document, empty for the whole file
  std::string message;
  std::string to_string() const;
};

template <typename T>
using LoadResult = boost::system::result<T, LoadError>;

// `source` names the document in errors. With `expected_name` set (a file's stem), `name` must
// equal it.
LoadResult<Scenario> parse_scenario(std::string_view json, std::string_view source,
                                    std::optional<std::string_view> expected_name = std::nullopt);
LoadResult<Scenario> load_scenario_file(const std::filesystem::path& path);

// The scenario as JSON with every default filled in (GET /_mock/scenario).
std::string to_json(const Scenario& scenario);

// The field names the loader knows, per object kind ("scenario", "rule", "match", "timeline",
// "workload", "workload_step", "expect"): for tests that hold the JSON Schema to the loader.
const std::vector<std::string_view>& known_fields(std::string_view object_kind);

// Every value of `seed` mixed with `salt` the same way on every platform (FNV-1a + splitmix64):
// per-session randomness derives from the scenario's seed and the session id.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view salt, std::uint64_t extra = 0);

}  // namespace mocksvc::fault
