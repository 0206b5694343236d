// The loadgen program run as CI runs it: a few hundred sessions for a few seconds, against a
// mocksvc in its own process and against a separate mocksvc process. Each run must complete
// with exit code 0, no errors, every session completed, and a JSON summary holding every field
// the report promises. Nothing here asserts on timing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "loadgen/child.hpp"

namespace ssmh::loadgen {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// A run of a few seconds on a busy 2-core machine; well inside the ctest timeout.
constexpr auto kRunLimit = 100s;

struct RunResult {
  std::optional<int> exit_code;
  std::string stdout_text;
  json summary;
};

RunResult run_loadgen(std::vector<std::string> args) {
  const fs::path file = fs::temp_directory_path() /
                        ("loadgen-smoke-" + std::to_string(::getpid()) + "-" +
                         ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json");
  args.insert(args.begin(), LOADGEN_PATH);
  args.insert(args.end(), {"--json", file.string(), "--quiet", "--max-time", "80"});
  RunResult r;
  ChildProcess child;
  if (auto err = child.spawn(args)) {
    ADD_FAILURE() << *err;
    return r;
  }
  r.exit_code = child.wait(kRunLimit);
  r.stdout_text = child.output();
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  r.summary = json::parse(text.str(), nullptr, false);
  std::error_code ec;
  fs::remove(file, ec);
  return r;
}

// Every field the issue asks the summary for, as JSON pointers.
const std::vector<std::string> kSummaryFields = {
    "/sessions/started",
    "/sessions/completed",
    "/sessions/failed",
    "/sessions/peak_open",
    "/setups_per_second",
    "/setup_latency_ms/api_call/p50",
    "/setup_latency_ms/api_call/p99",
    "/setup_latency_ms/websocket_open/p50",
    "/setup_latency_ms/websocket_open/p99",
    "/setup_latency_ms/first_output/p50",
    "/setup_latency_ms/first_output/p99",
    "/setup_latency_ms/handshake/p99",
    "/setup_latency_ms/total/p99",
    "/rtt_ms/p50",
    "/rtt_ms/p90",
    "/rtt_ms/p99",
    "/rtt_ms/p99_9",
    "/rtt_ms/max",
    "/throughput/messages_per_second_sent",
    "/throughput/messages_per_second_received",
    "/throughput/bytes_per_second_sent",
    "/throughput/bytes_per_second_received",
    "/retransmissions/client_resent",
    "/retransmissions/duplicates_received",
    "/errors/total",
    "/errors/by_kind",
    "/mocksvc_memory/rss_peak_bytes",
    "/mocksvc_memory/rss_per_open_session_bytes",
    "/baseline/rtt_ms/p99",
    "/baseline/throughput/messages_per_second_received",
    "/ratios_to_baseline/rtt_p50",
    "/ratios_to_baseline/rtt_p99",
    "/ratios_to_baseline/messages_per_second",
    "/ratios_to_baseline/bytes_per_second",
    "/thresholds",
    "/passed",
};

void expect_clean_run(const RunResult& r, std::uint64_t sessions) {
  ASSERT_EQ(r.exit_code, std::optional<int>(0)) << r.stdout_text;
  ASSERT_TRUE(r.summary.is_object()) << r.stdout_text;
  for (const auto& pointer : kSummaryFields)
    EXPECT_TRUE(r.summary.contains(json::json_pointer(pointer))) << pointer;
  EXPECT_EQ(r.summary["errors"]["total"], 0) << r.summary["errors"].dump();
  EXPECT_EQ(r.summary["sessions"]["started"], sessions);
  EXPECT_EQ(r.summary["sessions"]["completed"], sessions);
  EXPECT_EQ(r.summary["sessions"]["failed"], 0);
  EXPECT_TRUE(r.summary["passed"].get<bool>());
  EXPECT_EQ(r.summary["baseline"]["errors"], 0);
  // Every round trip came back, in both runs.
  EXPECT_EQ(r.summary["throughput"]["messages_sent"], r.summary["throughput"]["messages_received"]);
  EXPECT_EQ(r.summary["baseline"]["throughput"]["messages_sent"],
            r.summary["baseline"]["throughput"]["messages_received"]);
  EXPECT_NE(r.stdout_text.find("echo round trip"), std::string::npos) << r.stdout_text;
}

TEST(LoadgenSmoke, RunsPortEchoSessionsAgainstAnInProcessService) {
  const RunResult r = run_loadgen({"--sessions", "200", "--messages", "10", "--ramp-up", "1"});
  expect_clean_run(r, 200);
  EXPECT_EQ(r.summary["run"]["target"], "in_process");
  EXPECT_EQ(r.summary["throughput"]["messages_received"], 2000);
  EXPECT_EQ(r.summary["throughput"]["bytes_received"], 2000 * 64);
  EXPECT_TRUE(r.summary["mocksvc_memory"]["available"].get<bool>());
}

TEST(LoadgenSmoke, RunsShellSessionsOpenLoopOverTls) {
  const RunResult r = run_loadgen({"--workload", "shell", "--mode", "open", "--session-rate", "100", "--max-sessions",
                             "150", "--messages", "5", "--message-rate", "10", "--tls"});
  expect_clean_run(r, 150);
  EXPECT_TRUE(r.summary["run"]["tls"].get<bool>());
  EXPECT_EQ(r.summary["throughput"]["messages_received"], 750);
}

#ifdef MOCKSVC_PATH
TEST(LoadgenSmoke, RunsAgainstASeparateServiceProcess) {
  const RunResult r = run_loadgen({"--mocksvc-bin", MOCKSVC_PATH, "--sessions", "150", "--messages", "10", "--pipeline",
                             "4", "--size", "1024", "--hold", "0.5"});
  expect_clean_run(r, 150);
  EXPECT_EQ(r.summary["run"]["target"], "process");
  EXPECT_EQ(r.summary["baseline"]["placement"], "process");
  EXPECT_TRUE(r.summary["mocksvc_memory"]["available"].get<bool>());
  EXPECT_FALSE(r.summary["mocksvc_memory"]["includes_loadgen"].get<bool>());
}
#endif

#ifdef LOADGEN_HAS_AGENTS
TEST(LoadgenSmoke, SpreadsSessionsOverSimulatedAgents) {
  const RunResult r = run_loadgen({"--agents", "4", "--sessions", "100", "--messages", "5"});
  expect_clean_run(r, 100);
  EXPECT_EQ(r.summary["agents"]["count"], 4);
  EXPECT_EQ(r.summary["agents"]["ready"], 4);
}
#endif

TEST(LoadgenSmoke, ExitsOneWhenAThresholdFails) {
  // No round trip takes a nanosecond: the threshold fails whatever the machine.
  const RunResult r = run_loadgen({"--sessions", "20", "--messages", "2", "--baseline", "off", "--max-p99-ms", "0.000001"});
  ASSERT_EQ(r.exit_code, std::optional<int>(1)) << r.stdout_text;
  ASSERT_TRUE(r.summary.is_object());
  EXPECT_FALSE(r.summary["passed"].get<bool>());
  EXPECT_EQ(r.summary["thresholds"][0]["name"], "max-p99-ms");
  EXPECT_NE(r.stdout_text.find("FAILED"), std::string::npos);
}

}  // namespace
}  // namespace ssmh::loadgen
