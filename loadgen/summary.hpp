// What a load run reports: the figures of one run as plain values (sessions, setup and round-trip
// latency distributions, throughput each way, retransmissions, errors by kind, the service's
// memory, the same-run baseline and the ratios to it), the thresholds a CI job gates on, and the
// two renderings: the JSON summary (--json) and the human table printed at the end.
//
// Plain data and pure functions; no I/O beyond the strings they return.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loadgen/histogram.hpp"

namespace ssmh::loadgen {

// A latency distribution in milliseconds, from a Histogram of nanoseconds.
struct LatencyStats {
  std::uint64_t count = 0;
  double min_ms = 0, mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;

  static LatencyStats of(const Histogram& nanoseconds);
};

// Messages and bytes each way over `seconds`: sent is client -> instance, received the echo.
struct Traffic {
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  double seconds = 0;

  double per_second(std::uint64_t n) const { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }
};

// What was asked for, echoed into the summary so a JSON file explains itself.
struct RunDescription {
  std::string mode;          // closed | open
  std::string workload;      // port | shell
  std::string target;        // in_process | process | external
  std::string endpoint;
  bool tls = false;
  std::uint64_t sessions = 0;  // closed: kept in flight; open: the cap on open sessions
  std::uint64_t messages_per_session = 0;
  std::uint64_t message_bytes = 0;
  std::uint64_t pipeline = 1;
  double session_rate = 0;  // open loop: arrivals/s
  double message_rate = 0;  // per session; 0 = back to back
  double ramp_up_s = 0;
  double hold_s = 0;
  double duration_s = 0;
  double max_time_s = 0;
  std::uint64_t max_sessions = 0;
  std::uint64_t agents = 0;  // simulated agents (0: the service's virtual instances)
  unsigned client_threads = 0;
  unsigned service_threads = 0;
};

struct SessionCounts {
  std::uint64_t started = 0;    // StartSession called
  std::uint64_t setup = 0;      // reached the echo phase (first output seen)
  std::uint64_t completed = 0;  // every round trip done, terminated, closed cleanly
  std::uint64_t failed = 0;
  std::uint64_t peak_open = 0;  // most sessions open at once
};

struct SetupLatency {
  LatencyStats api_call;        // StartSession, from send to response
  LatencyStats websocket_open;  // from the StreamUrl dial to the upgrade's 101
  LatencyStats handshake;       // from the WebSocket open to HandshakeComplete
  LatencyStats first_output;    // from HandshakeComplete to the first output (prompt or echo)
  LatencyStats total;           // from the intended start to the first output
};

struct Retransmissions {
  std::uint64_t client_resent = 0;        // the client engine's head resends
  std::uint64_t duplicates_received = 0;  // service/agent resends that reached the client twice
  std::uint64_t reconnects = 0;           // data channels re-opened through ResumeSession
  std::uint64_t api_retries = 0;          // SSM API attempts beyond the first
};

struct MemoryFigures {
  bool available = false;
  std::int64_t pid = 0;
  bool includes_loadgen = false;  // in-process: the process also holds the load generator
  std::uint64_t rss_start_bytes = 0;
  std::uint64_t rss_end_bytes = 0;
  std::uint64_t rss_peak_bytes = 0;          // VmHWM
  std::uint64_t rss_at_peak_open_bytes = 0;  // VmRSS when most sessions were open
  std::uint64_t open_at_sample = 0;
  double rss_per_open_session_bytes = 0;     // (at peak open - start) / open sessions then
};

struct BaselineFigures {
  std::string placement;  // in_process | process
  std::uint64_t connections = 0;
  double connects_per_second = 0;
  LatencyStats connect;
  LatencyStats rtt;
  Traffic traffic;
  std::uint64_t errors = 0;
};

struct Ratios {
  std::optional<double> rtt_p50;           // mocksvc / baseline (>1: slower)
  std::optional<double> rtt_p99;
  std::optional<double> messages_per_second;  // mocksvc / baseline (<1: less)
  std::optional<double> bytes_per_second;
  std::optional<double> setups_per_connect;   // setups/s over plain WebSocket connects/s
};

struct AgentFigures {
  std::uint64_t count = 0;
  std::uint64_t ready = 0;
  double ready_seconds = 0;
};

struct MachineFigures {
  unsigned cpus = 0;
  std::array<double, 3> load_average_start{};
  std::array<double, 3> load_average_end{};
  std::uint64_t open_files_limit = 0;
};

struct ThresholdResult {
  std::string name;  // the flag, e.g. "max-p99-ms"
  double limit = 0;
  double value = 0;
  bool passed = true;
};

struct Summary {
  RunDescription run;
  MachineFigures machine;
  double elapsed_s = 0;
  SessionCounts sessions;
  double setups_per_second = 0;
  SetupLatency setup;
  LatencyStats rtt;
  Traffic traffic;
  Retransmissions retransmissions;
  std::map<std::string, std::uint64_t> errors;  // by kind
  std::optional<AgentFigures> agents;
  MemoryFigures mocksvc;
  std::optional<BaselineFigures> baseline;
  Ratios ratios;
  std::vector<ThresholdResult> thresholds;

  std::uint64_t errors_total() const;
  // Failed sessions over started ones (0 when none started).
  double error_rate() const;
  bool passed() const;
};

// Limits a run must meet; unset ones are not checked. Each is named after its flag.
struct Thresholds {
  std::optional<double> max_p99_ms;
  std::optional<double> max_p999_ms;
  std::optional<double> max_setup_p99_ms;
  std::optional<double> max_error_rate;
  std::optional<double> max_errors;
  std::optional<double> min_setups_per_second;
  std::optional<double> min_messages_per_second;
  std::optional<double> min_throughput_ratio;  // mocksvc msgs/s over the baseline's
  std::optional<double> max_rss_per_session_kib;
};

// Fills the ratios from the run's figures and the baseline (absent figures stay unset).
void compute_ratios(Summary& s);
// Checks every set threshold against the summary; a ratio threshold without a baseline fails.
std::vector<ThresholdResult> evaluate(const Summary& s, const Thresholds& t);

// The JSON summary (--json): one object, snake_case keys with units.
std::string to_json(const Summary& s);
// The table printed at the end of a run.
std::string render_table(const Summary& s);

}  // namespace ssmh::loadgen
