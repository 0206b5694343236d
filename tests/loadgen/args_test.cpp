#include <gtest/gtest.h>

#include <map>

#include "loadgen/load_session.hpp"
#include "loadgen/options.hpp"
#include "loadgen/runner.hpp"

namespace ssmh::loadgen {
namespace {

ParseResult parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "loadgen");
  return parse_args(args, [env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Args, DefaultsToAClosedLoopPortEchoInProcess) {
  auto r = parse({});
  ASSERT_TRUE(r.options) << r.output;
  const Options& o = *r.options;
  EXPECT_EQ(o.mode, LoopMode::closed);
  EXPECT_EQ(o.workload, Workload::port);
  EXPECT_EQ(o.sessions, 100u);
  EXPECT_EQ(o.messages, 10u);
  EXPECT_EQ(o.size, 64u);
  EXPECT_EQ(o.port, 7u);
  EXPECT_TRUE(o.endpoint.empty());
  EXPECT_EQ(o.baseline, BaselineMode::automatic);
  EXPECT_TRUE(o.progress);
}

TEST(Args, ReadsEveryShapeOfTheRun) {
  auto r = parse({"--mode", "open", "--workload", "shell", "--session-rate", "250", "--message-rate", "1",
                  "--messages", "60", "--size", "1024", "--ramp-up", "5", "--hold", "2", "--duration", "30",
                  "--max-sessions", "9000", "--max-time", "90", "--json", "out.json", "--quiet", "--baseline", "off"});
  ASSERT_TRUE(r.options) << r.output;
  const Options& o = *r.options;
  EXPECT_EQ(o.mode, LoopMode::open);
  EXPECT_EQ(o.workload, Workload::shell);
  EXPECT_DOUBLE_EQ(o.session_rate, 250);
  EXPECT_DOUBLE_EQ(o.message_rate, 1);
  EXPECT_EQ(o.messages, 60u);
  EXPECT_EQ(o.size, 1024u);
  EXPECT_DOUBLE_EQ(o.ramp_up_s, 5);
  EXPECT_DOUBLE_EQ(o.hold_s, 2);
  EXPECT_DOUBLE_EQ(o.duration_s, 30);
  EXPECT_EQ(o.max_sessions, 9000u);
  EXPECT_DOUBLE_EQ(o.max_time_s, 90);
  EXPECT_EQ(o.json_file, "out.json");
  EXPECT_FALSE(o.progress);
  EXPECT_EQ(o.baseline, BaselineMode::off);
}

TEST(Args, ReadsThresholds) {
  auto r = parse({"--max-p99-ms", "10", "--max-error-rate", "0", "--min-setups-per-second", "1000",
                  "--min-throughput-ratio", "0.5", "--max-rss-per-session-kib", "32"});
  ASSERT_TRUE(r.options) << r.output;
  const Thresholds& t = r.options->thresholds;
  EXPECT_EQ(t.max_p99_ms, 10.0);
  EXPECT_EQ(t.max_error_rate, 0.0);
  EXPECT_EQ(t.min_setups_per_second, 1000.0);
  EXPECT_EQ(t.min_throughput_ratio, 0.5);
  EXPECT_EQ(t.max_rss_per_session_kib, 32.0);
  EXPECT_FALSE(t.max_p999_ms);
}

TEST(Args, TakesCredentialsFromTheEnvironmentForAnEndpoint) {
  auto none = parse({"--endpoint", "http://127.0.0.1:8443"});
  EXPECT_FALSE(none.options);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("credentials"), std::string::npos);
  auto r = parse({"--endpoint", "https://127.0.0.1:8443", "--mocksvc-pid", "42"},
                 {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_DEFAULT_REGION", "eu-west-1"},
                  {"AWS_CA_BUNDLE", "/tmp/ca.pem"}});
  ASSERT_TRUE(r.options) << r.output;
  EXPECT_EQ(r.options->access_key_id, "AKID");
  EXPECT_EQ(r.options->region, "eu-west-1");
  EXPECT_EQ(r.options->ca_bundle, "/tmp/ca.pem");
  EXPECT_EQ(r.options->mocksvc_pid, 42);
}

TEST(Args, RefusesContradictions) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--mode", "open"},
           {"--mode", "open", "--session-rate", "10"},
           {"--session-rate", "10"},
           {"--endpoint", "ftp://x"},
           {"--endpoint", "http://x:1", "--mocksvc-bin", "/bin/true"},
           {"--mocksvc-pid", "7"},
           {"--message-rate", "1", "--pipeline", "4"},
           {"--workload", "shell", "--pipeline", "2"},
           {"--workload", "telnet"},
           {"--size", "2"},
           {"--sessions", "0"},
       }) {
    auto r = parse(args);
    EXPECT_FALSE(r.options) << args.front();
    EXPECT_EQ(r.exit_code, 2) << args.front();
    EXPECT_FALSE(r.output.empty());
  }
}

TEST(Args, HelpExitsZero) {
  auto r = parse({"--help"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--max-p99-ms"), std::string::npos);
}

TEST(Args, RecognisesTheEchoServerHelper) {
  auto r = parse({"echo-server", "--threads", "3"});
  ASSERT_TRUE(r.options) << r.output;
  EXPECT_TRUE(r.options->echo_server);
  EXPECT_EQ(r.options->service_threads, 3u);
}

TEST(OpenLoop, ArrivesAtAFixedRate) {
  EXPECT_DOUBLE_EQ(open_loop_arrival(0, 100, 0), 0.0);
  EXPECT_DOUBLE_EQ(open_loop_arrival(100, 100, 0), 1.0);
  EXPECT_DOUBLE_EQ(open_loop_arrival(250, 100, 0), 2.5);
}

TEST(OpenLoop, RampsTheRateUpLinearly) {
  // 100/s reached after 10 s: 500 arrivals during the ramp, the 125th at 5 s (rate then 50/s).
  EXPECT_DOUBLE_EQ(open_loop_arrival(0, 100, 10), 0.0);
  EXPECT_NEAR(open_loop_arrival(125, 100, 10), 5.0, 1e-9);
  EXPECT_NEAR(open_loop_arrival(500, 100, 10), 10.0, 1e-9);
  EXPECT_NEAR(open_loop_arrival(600, 100, 10), 11.0, 1e-9);
  for (std::uint64_t k = 1; k < 2000; ++k) ASSERT_GT(open_loop_arrival(k, 100, 10), open_loop_arrival(k - 1, 100, 10));
}

TEST(ShellWorkload, TypesANoOpLineAndExpectsItsEchoAndThePrompt) {
  EXPECT_EQ(shell_input("abc"), ": abc\r");
  EXPECT_EQ(shell_reply("abc"), ": abc\r\n$ ");
  EXPECT_EQ(shell_input("abc").size(), 3 + kShellOverhead);
}

}  // namespace
}  // namespace ssmh::loadgen
