#include "loadgen/summary.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ssmh::loadgen {
namespace {

using json = nlohmann::json;

LatencyStats stats(double p50, double p99) {
  LatencyStats l;
  l.count = 10;
  l.p50_ms = p50;
  l.p90_ms = p50;
  l.p99_ms = p99;
  l.p999_ms = p99;
  l.max_ms = p99;
  return l;
}

Summary example() {
  Summary s;
  s.run.mode = "closed";
  s.run.workload = "port";
  s.run.target = "in_process";
  s.run.sessions = 200;
  s.elapsed_s = 4;
  s.sessions = {200, 200, 198, 2, 200};
  s.setups_per_second = 500;
  s.setup.api_call = stats(1, 2);
  s.setup.total = stats(5, 9);
  s.rtt = stats(2, 8);
  s.traffic = {2000, 2000, 128000, 128000, 2.0};
  s.errors = {{"timeout: echo", 2}};
  BaselineFigures b;
  b.placement = "in_process";
  b.connections = 200;
  b.connects_per_second = 2000;
  b.rtt = stats(0.5, 2);
  b.traffic = {4000, 4000, 256000, 256000, 2.0};
  s.baseline = b;
  s.agents = AgentFigures{4, 4, 1.5};
  s.mocksvc.available = true;
  s.mocksvc.rss_per_open_session_bytes = 20 * 1024;
  s.mocksvc.open_at_sample = 200;
  compute_ratios(s);
  return s;
}

TEST(Summary, JsonHoldsEveryReportedField) {
  const json j = json::parse(to_json(example()));
  for (const char* pointer :
       {"/run/mode", "/run/workload", "/run/message_bytes", "/machine/cpus", "/machine/load_average_start",
        "/elapsed_s", "/sessions/started", "/sessions/completed", "/sessions/failed", "/sessions/peak_open",
        "/setups_per_second", "/setup_latency_ms/api_call/p50", "/setup_latency_ms/websocket_open/p99",
        "/setup_latency_ms/handshake/p90", "/setup_latency_ms/first_output/p99_9", "/setup_latency_ms/total/max",
        "/rtt_ms/p50", "/rtt_ms/p90", "/rtt_ms/p99", "/rtt_ms/p99_9", "/rtt_ms/max",
        "/throughput/messages_per_second_sent", "/throughput/messages_per_second_received",
        "/throughput/bytes_per_second_sent", "/throughput/bytes_per_second_received",
        "/retransmissions/client_resent", "/retransmissions/duplicates_received", "/errors/total", "/errors/rate",
        "/errors/by_kind", "/mocksvc_memory/rss_peak_bytes", "/mocksvc_memory/rss_per_open_session_bytes",
        "/baseline/rtt_ms/p99", "/baseline/throughput/messages_per_second_received", "/baseline/connects_per_second",
        "/ratios_to_baseline/rtt_p99", "/ratios_to_baseline/messages_per_second", "/agents/count", "/thresholds",
        "/passed"}) {
    EXPECT_TRUE(j.contains(json::json_pointer(pointer))) << pointer;
  }
  EXPECT_EQ(j["errors"]["by_kind"]["timeout: echo"], 2);
  EXPECT_EQ(j["sessions"]["failed"], 2);
}

TEST(Summary, JsonWithoutBaselineSaysNull) {
  Summary s = example();
  s.baseline.reset();
  s.agents.reset();
  compute_ratios(s);
  const json j = json::parse(to_json(s));
  EXPECT_TRUE(j["baseline"].is_null());
  EXPECT_TRUE(j["agents"].is_null());
  EXPECT_TRUE(j["ratios_to_baseline"]["rtt_p99"].is_null());
}

TEST(Summary, RatiosCompareWithTheBaseline) {
  const Summary s = example();
  ASSERT_TRUE(s.ratios.rtt_p50);
  EXPECT_DOUBLE_EQ(*s.ratios.rtt_p50, 4.0);
  EXPECT_DOUBLE_EQ(*s.ratios.rtt_p99, 4.0);
  EXPECT_DOUBLE_EQ(*s.ratios.messages_per_second, 0.5);
  EXPECT_DOUBLE_EQ(*s.ratios.setups_per_connect, 0.25);
}

TEST(Summary, ErrorRateIsFailedOverStarted) {
  const Summary s = example();
  EXPECT_DOUBLE_EQ(s.error_rate(), 0.01);
  EXPECT_EQ(s.errors_total(), 2u);
  EXPECT_DOUBLE_EQ(Summary{}.error_rate(), 0.0);
}

TEST(Summary, ThresholdsPassWhenMet) {
  Thresholds t;
  t.max_p99_ms = 10;
  t.max_error_rate = 0.05;
  t.min_setups_per_second = 100;
  t.min_throughput_ratio = 0.5;
  t.max_rss_per_session_kib = 32;
  Summary s = example();
  s.thresholds = evaluate(s, t);
  ASSERT_EQ(s.thresholds.size(), 5u);
  EXPECT_TRUE(s.passed());
}

TEST(Summary, ThresholdsFailWhenMissed) {
  Thresholds t;
  t.max_p99_ms = 5;
  t.max_errors = 0;
  Summary s = example();
  s.thresholds = evaluate(s, t);
  ASSERT_EQ(s.thresholds.size(), 2u);
  EXPECT_FALSE(s.thresholds[0].passed);
  EXPECT_EQ(s.thresholds[0].name, "max-p99-ms");
  EXPECT_DOUBLE_EQ(s.thresholds[0].value, 8.0);
  EXPECT_FALSE(s.thresholds[1].passed);
  EXPECT_FALSE(s.passed());
}

TEST(Summary, RatioThresholdFailsWithoutABaseline) {
  Thresholds t;
  t.min_throughput_ratio = 0.1;
  Summary s = example();
  s.baseline.reset();
  compute_ratios(s);
  s.thresholds = evaluate(s, t);
  ASSERT_EQ(s.thresholds.size(), 1u);
  EXPECT_FALSE(s.thresholds[0].passed);
}

TEST(Summary, LatencyThresholdFailsWithoutSamples) {
  Thresholds t;
  t.max_p99_ms = 10;
  Summary s = example();
  s.rtt = LatencyStats{};
  s.thresholds = evaluate(s, t);
  ASSERT_EQ(s.thresholds.size(), 1u);
  EXPECT_FALSE(s.thresholds[0].passed);
}

TEST(Summary, LatencyStatsConvertNanosecondsToMilliseconds) {
  Histogram h(2);
  h.record(2'000'000);
  h.record(4'000'000);
  const LatencyStats l = LatencyStats::of(h);
  EXPECT_EQ(l.count, 2u);
  EXPECT_DOUBLE_EQ(l.min_ms, 2.0);
  EXPECT_DOUBLE_EQ(l.max_ms, 4.0);
  EXPECT_DOUBLE_EQ(l.mean_ms, 3.0);
  EXPECT_NEAR(l.p50_ms, 2.0, 0.02);
}

TEST(Summary, TableNamesEveryFigure) {
  Summary s = example();
  Thresholds t;
  t.max_p99_ms = 1;
  s.thresholds = evaluate(s, t);
  const std::string table = render_table(s);
  for (const char* text : {"setup: api call", "setup: websocket open", "setup: handshake", "setup: first output",
                           "echo round trip", "baseline round trip", "ratio to baseline", "msgs/s sent",
                           "retransmissions", "timeout: echo", "mocksvc memory", "FAILED", "agents: 4"}) {
    EXPECT_NE(table.find(text), std::string::npos) << text << "\n" << table;
  }
}

}  // namespace
}  // namespace ssmh::loadgen
