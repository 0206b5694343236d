#include "loadgen/summary.hpp"

#include <cmath>
#include <cstdio>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ssmh::loadgen {
namespace {

using ojson = nlohmann::ordered_json;

double to_ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// Milliseconds kept to the microsecond: the histogram holds 2-3 significant digits anyway.
double round_us(double ms) { return std::round(ms * 1000.0) / 1000.0; }
double round2(double v) { return std::round(v * 100.0) / 100.0; }

ojson latency_json(const LatencyStats& l) {
  ojson j;
  j["count"] = l.count;
  j["min"] = round_us(l.min_ms);
  j["mean"] = round_us(l.mean_ms);
  j["p50"] = round_us(l.p50_ms);
  j["p90"] = round_us(l.p90_ms);
  j["p99"] = round_us(l.p99_ms);
  j["p99_9"] = round_us(l.p999_ms);
  j["max"] = round_us(l.max_ms);
  return j;
}

ojson traffic_json(const Traffic& t) {
  ojson j;
  j["seconds"] = round_us(t.seconds);
  j["messages_sent"] = t.messages_sent;
  j["messages_received"] = t.messages_received;
  j["bytes_sent"] = t.bytes_sent;
  j["bytes_received"] = t.bytes_received;
  j["messages_per_second_sent"] = round2(t.per_second(t.messages_sent));
  j["messages_per_second_received"] = round2(t.per_second(t.messages_received));
  j["bytes_per_second_sent"] = round2(t.per_second(t.bytes_sent));
  j["bytes_per_second_received"] = round2(t.per_second(t.bytes_received));
  return j;
}

ojson optional_json(const std::optional<double>& v) { return v ? ojson(std::round(*v * 1000.0) / 1000.0) : ojson(nullptr); }

ojson load_json(const std::array<double, 3>& l) { return ojson::array({l[0], l[1], l[2]}); }

std::optional<double> ratio(double a, double b) {
  if (!(b > 0) || !std::isfinite(a) || !std::isfinite(b)) return std::nullopt;
  return a / b;
}

// printf into a std::string.
template <typename... Args>
std::string fmt(const char* format, Args... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, format, args...);
  return n < 0 ? std::string() : std::string(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

std::string latency_row(std::string_view name, const LatencyStats& l) {
  if (l.count == 0) return fmt("  %-22.*s %10s\n", static_cast<int>(name.size()), name.data(), "-");
  return fmt("  %-22.*s %10.3f %10.3f %10.3f %10.3f %10.3f %10llu\n", static_cast<int>(name.size()), name.data(),
             l.p50_ms, l.p90_ms, l.p99_ms, l.p999_ms, l.max_ms, static_cast<unsigned long long>(l.count));
}

std::string mib(std::uint64_t bytes) { return fmt("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0)); }

std::string ratio_text(const std::optional<double>& r) { return r ? fmt("%.2f", *r) : std::string("-"); }

}  // namespace

LatencyStats LatencyStats::of(const Histogram& h) {
  LatencyStats l;
  l.count = h.count();
  if (l.count == 0) return l;
  l.min_ms = to_ms(h.min());
  l.mean_ms = h.mean() / 1e6;
  l.p50_ms = to_ms(h.percentile(50));
  l.p90_ms = to_ms(h.percentile(90));
  l.p99_ms = to_ms(h.percentile(99));
  l.p999_ms = to_ms(h.percentile(99.9));
  l.max_ms = to_ms(h.max());
  return l;
}

std::uint64_t Summary::errors_total() const {
  std::uint64_t n = 0;
  for (const auto& [kind, count] : errors) n += count;
  return n;
}

double Summary::error_rate() const {
  return sessions.started ? static_cast<double>(sessions.failed) / static_cast<double>(sessions.started) : 0.0;
}

bool Summary::passed() const {
  for (const auto& t : thresholds)
    if (!t.passed) return false;
  return true;
}

void compute_ratios(Summary& s) {
  s.ratios = Ratios{};
  if (!s.baseline) return;
  const BaselineFigures& b = *s.baseline;
  if (s.rtt.count && b.rtt.count) {
    s.ratios.rtt_p50 = ratio(s.rtt.p50_ms, b.rtt.p50_ms);
    s.ratios.rtt_p99 = ratio(s.rtt.p99_ms, b.rtt.p99_ms);
  }
  s.ratios.messages_per_second = ratio(s.traffic.per_second(s.traffic.messages_received),
                                       b.traffic.per_second(b.traffic.messages_received));
  s.ratios.bytes_per_second =
      ratio(s.traffic.per_second(s.traffic.bytes_received), b.traffic.per_second(b.traffic.bytes_received));
  s.ratios.setups_per_connect = ratio(s.setups_per_second, b.connects_per_second);
}

std::vector<ThresholdResult> evaluate(const Summary& s, const Thresholds& t) {
  std::vector<ThresholdResult> out;
  auto at_most = [&](const char* name, const std::optional<double>& limit, double value) {
    if (limit) out.push_back({name, *limit, value, value <= *limit});
  };
  auto at_least = [&](const char* name, const std::optional<double>& limit, double value) {
    if (limit) out.push_back({name, *limit, value, value >= *limit});
  };
  at_most("max-p99-ms", t.max_p99_ms, s.rtt.p99_ms);
  at_most("max-p999-ms", t.max_p999_ms, s.rtt.p999_ms);
  at_most("max-setup-p99-ms", t.max_setup_p99_ms, s.setup.total.p99_ms);
  at_most("max-error-rate", t.max_error_rate, s.error_rate());
  at_most("max-errors", t.max_errors, static_cast<double>(s.errors_total()));
  at_least("min-setups-per-second", t.min_setups_per_second, s.setups_per_second);
  at_least("min-messages-per-second", t.min_messages_per_second, s.traffic.per_second(s.traffic.messages_received));
  if (t.min_throughput_ratio) {
    const auto r = s.ratios.messages_per_second;
    out.push_back({"min-throughput-ratio", *t.min_throughput_ratio, r.value_or(0.0),
                   r.has_value() && *r >= *t.min_throughput_ratio});
  }
  if (t.max_rss_per_session_kib) {
    const double kib = s.mocksvc.rss_per_open_session_bytes / 1024.0;
    out.push_back({"max-rss-per-session-kib", *t.max_rss_per_session_kib, kib,
                   s.mocksvc.available && s.mocksvc.open_at_sample > 0 && kib <= *t.max_rss_per_session_kib});
  }
  // Ratios of a run with no latency samples are never a pass by accident.
  if ((t.max_p99_ms || t.max_p999_ms) && s.rtt.count == 0)
    for (auto& r : out)
      if (r.name == "max-p99-ms" || r.name == "max-p999-ms") r.passed = false;
  return out;
}

std::string to_json(const Summary& s) {
  ojson j;
  j["schema"] = "ssmh-loadgen/1";
  const RunDescription& r = s.run;
  ojson run;
  run["mode"] = r.mode;
  run["workload"] = r.workload;
  run["target"] = r.target;
  run["endpoint"] = r.endpoint;
  run["tls"] = r.tls;
  run["sessions"] = r.sessions;
  run["messages_per_session"] = r.messages_per_session;
  run["message_bytes"] = r.message_bytes;
  run["pipeline"] = r.pipeline;
  run["session_rate_per_s"] = r.session_rate;
  run["message_rate_per_s"] = r.message_rate;
  run["ramp_up_s"] = r.ramp_up_s;
  run["hold_s"] = r.hold_s;
  run["duration_s"] = r.duration_s;
  run["max_time_s"] = r.max_time_s;
  run["max_sessions"] = r.max_sessions;
  run["agents"] = r.agents;
  run["client_threads"] = r.client_threads;
  run["service_threads"] = r.service_threads;
  j["run"] = std::move(run);

  ojson m;
  m["cpus"] = s.machine.cpus;
  m["load_average_start"] = load_json(s.machine.load_average_start);
  m["load_average_end"] = load_json(s.machine.load_average_end);
  m["open_files_limit"] = s.machine.open_files_limit;
  j["machine"] = std::move(m);

  j["elapsed_s"] = round_us(s.elapsed_s);
  ojson sessions;
  sessions["started"] = s.sessions.started;
  sessions["setup"] = s.sessions.setup;
  sessions["completed"] = s.sessions.completed;
  sessions["failed"] = s.sessions.failed;
  sessions["peak_open"] = s.sessions.peak_open;
  j["sessions"] = std::move(sessions);
  j["setups_per_second"] = round2(s.setups_per_second);

  ojson setup;
  setup["api_call"] = latency_json(s.setup.api_call);
  setup["websocket_open"] = latency_json(s.setup.websocket_open);
  setup["handshake"] = latency_json(s.setup.handshake);
  setup["first_output"] = latency_json(s.setup.first_output);
  setup["total"] = latency_json(s.setup.total);
  j["setup_latency_ms"] = std::move(setup);
  j["rtt_ms"] = latency_json(s.rtt);
  j["throughput"] = traffic_json(s.traffic);

  ojson re;
  re["client_resent"] = s.retransmissions.client_resent;
  re["duplicates_received"] = s.retransmissions.duplicates_received;
  re["reconnects"] = s.retransmissions.reconnects;
  re["api_retries"] = s.retransmissions.api_retries;
  j["retransmissions"] = std::move(re);

  ojson errors;
  errors["total"] = s.errors_total();
  errors["rate"] = s.error_rate();
  ojson kinds = ojson::object();
  for (const auto& [kind, n] : s.errors) kinds[kind] = n;
  errors["by_kind"] = std::move(kinds);
  j["errors"] = std::move(errors);

  if (s.agents) {
    ojson a;
    a["count"] = s.agents->count;
    a["ready"] = s.agents->ready;
    a["ready_s"] = round_us(s.agents->ready_seconds);
    j["agents"] = std::move(a);
  } else {
    j["agents"] = nullptr;
  }

  ojson mem;
  mem["available"] = s.mocksvc.available;
  mem["pid"] = s.mocksvc.pid;
  mem["includes_loadgen"] = s.mocksvc.includes_loadgen;
  mem["rss_start_bytes"] = s.mocksvc.rss_start_bytes;
  mem["rss_end_bytes"] = s.mocksvc.rss_end_bytes;
  mem["rss_peak_bytes"] = s.mocksvc.rss_peak_bytes;
  mem["rss_at_peak_open_bytes"] = s.mocksvc.rss_at_peak_open_bytes;
  mem["open_sessions_at_sample"] = s.mocksvc.open_at_sample;
  mem["rss_per_open_session_bytes"] = std::round(s.mocksvc.rss_per_open_session_bytes);
  j["mocksvc_memory"] = std::move(mem);

  if (s.baseline) {
    const BaselineFigures& b = *s.baseline;
    ojson base;
    base["placement"] = b.placement;
    base["connections"] = b.connections;
    base["connects_per_second"] = round2(b.connects_per_second);
    base["connect_ms"] = latency_json(b.connect);
    base["rtt_ms"] = latency_json(b.rtt);
    base["throughput"] = traffic_json(b.traffic);
    base["errors"] = b.errors;
    j["baseline"] = std::move(base);
  } else {
    j["baseline"] = nullptr;
  }
  ojson ratios;
  ratios["rtt_p50"] = optional_json(s.ratios.rtt_p50);
  ratios["rtt_p99"] = optional_json(s.ratios.rtt_p99);
  ratios["messages_per_second"] = optional_json(s.ratios.messages_per_second);
  ratios["bytes_per_second"] = optional_json(s.ratios.bytes_per_second);
  ratios["setups_per_connect"] = optional_json(s.ratios.setups_per_connect);
  j["ratios_to_baseline"] = std::move(ratios);

  ojson th = ojson::array();
  for (const auto& t : s.thresholds) {
    ojson x;
    x["name"] = t.name;
    x["limit"] = t.limit;
    x["value"] = t.value;
    x["passed"] = t.passed;
    th.push_back(std::move(x));
  }
  j["thresholds"] = std::move(th);
  j["passed"] = s.passed();
  return j.dump(2);
}

std::string render_table(const Summary& s) {
  const RunDescription& r = s.run;
  std::string out;
  out += fmt("loadgen: %s echo, %s loop, %llu sessions x %llu messages x %llu B, %s mocksvc over %s\n",
             r.workload.c_str(), r.mode.c_str(), static_cast<unsigned long long>(r.sessions),
             static_cast<unsigned long long>(r.messages_per_session), static_cast<unsigned long long>(r.message_bytes),
             r.target.c_str(), r.tls ? "TLS (wss)" : "plain ws");
  out += fmt("  elapsed %.1f s on %u cpus, load average %.2f at start, %.2f at end\n", s.elapsed_s, s.machine.cpus,
             s.machine.load_average_start[0], s.machine.load_average_end[0]);
  out += "\nsessions\n";
  out += fmt("  started %llu, set up %llu, completed %llu, failed %llu, peak open %llu\n",
             static_cast<unsigned long long>(s.sessions.started), static_cast<unsigned long long>(s.sessions.setup),
             static_cast<unsigned long long>(s.sessions.completed), static_cast<unsigned long long>(s.sessions.failed),
             static_cast<unsigned long long>(s.sessions.peak_open));
  out += fmt("  setups/s %.1f", s.setups_per_second);
  if (s.baseline)
    out += fmt("   (plain WebSocket connects/s %.1f, ratio %s)", s.baseline->connects_per_second,
               ratio_text(s.ratios.setups_per_connect).c_str());
  out += "\n";
  out += fmt("\n%-24s %10s %10s %10s %10s %10s %10s\n", "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "count");
  out += latency_row("setup: api call", s.setup.api_call);
  out += latency_row("setup: websocket open", s.setup.websocket_open);
  out += latency_row("setup: handshake", s.setup.handshake);
  out += latency_row("setup: first output", s.setup.first_output);
  out += latency_row("setup: total", s.setup.total);
  out += latency_row("echo round trip", s.rtt);
  if (s.baseline) {
    out += latency_row("baseline round trip", s.baseline->rtt);
    out += fmt("  %-22s %10s %10s %10s\n", "ratio to baseline", ratio_text(s.ratios.rtt_p50).c_str(), "",
               ratio_text(s.ratios.rtt_p99).c_str());
  }
  out += fmt("\n%-24s %14s %14s %14s %14s\n", "throughput", "msgs/s sent", "msgs/s recv", "MB/s sent", "MB/s recv");
  auto traffic_row = [&](const char* name, const Traffic& t) {
    out += fmt("  %-22s %14.1f %14.1f %14.3f %14.3f\n", name, t.per_second(t.messages_sent),
               t.per_second(t.messages_received), t.per_second(t.bytes_sent) / 1e6, t.per_second(t.bytes_received) / 1e6);
  };
  traffic_row("mocksvc relay", s.traffic);
  if (s.baseline) {
    traffic_row("plain WebSocket echo", s.baseline->traffic);
    out += fmt("  %-22s %14s %14s %14s %14s\n", "ratio to baseline", "", ratio_text(s.ratios.messages_per_second).c_str(),
               "", ratio_text(s.ratios.bytes_per_second).c_str());
  }
  out += fmt("\nretransmissions: client resent %llu, duplicates received %llu, reconnects %llu, api retries %llu\n",
             static_cast<unsigned long long>(s.retransmissions.client_resent),
             static_cast<unsigned long long>(s.retransmissions.duplicates_received),
             static_cast<unsigned long long>(s.retransmissions.reconnects),
             static_cast<unsigned long long>(s.retransmissions.api_retries));
  out += fmt("errors: %llu (session error rate %.4f)\n", static_cast<unsigned long long>(s.errors_total()),
             s.error_rate());
  for (const auto& [kind, n] : s.errors)
    out += fmt("  %-40s %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
  if (s.agents)
    out += fmt("agents: %llu simulated, %llu ready after %.2f s\n", static_cast<unsigned long long>(s.agents->count),
               static_cast<unsigned long long>(s.agents->ready), s.agents->ready_seconds);
  if (s.mocksvc.available) {
    out += fmt("mocksvc memory (pid %lld%s): start %s, peak (VmHWM) %s", static_cast<long long>(s.mocksvc.pid),
               s.mocksvc.includes_loadgen ? ", includes loadgen" : "", mib(s.mocksvc.rss_start_bytes).c_str(),
               mib(s.mocksvc.rss_peak_bytes).c_str());
    if (s.mocksvc.open_at_sample)
      out += fmt(", %s with %llu sessions open (%.1f KiB per session)", mib(s.mocksvc.rss_at_peak_open_bytes).c_str(),
                 static_cast<unsigned long long>(s.mocksvc.open_at_sample), s.mocksvc.rss_per_open_session_bytes / 1024.0);
    out += "\n";
  } else {
    out += "mocksvc memory: not available (give --mocksvc-pid for a separate process)\n";
  }
  if (!s.thresholds.empty()) {
    out += "\nthresholds\n";
    for (const auto& t : s.thresholds)
      out += fmt("  %-26s limit %-12g value %-14g %s\n", t.name.c_str(), t.limit, t.value, t.passed ? "ok" : "FAILED");
  }
  return out;
}

}  // namespace ssmh::loadgen
