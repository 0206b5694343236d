// Scenarios in a running service, over HTTP on loopback: the admin routes that activate, show and
// clear them, the Prometheus endpoint, and API faults answered the way AWS answers.
#include <gtest/gtest.h>

#include <future>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/app/service.hpp"
#include "mocksvc/fault/injector.hpp"
#include "mocksvc/fault/scenario.hpp"
#include "mocksvc/net/http_client.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "plugin/ssm_call.hpp"

namespace mocksvc::app {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace asio = boost::asio;

constexpr auto kWait = 20s;

struct Running {
  Running() : io(1) {
    ServiceConfig c = default_config();
    c.listen_port = 0;
    c.tls = false;
    c.threads = 2;
    c.log_level = "warn";
    c.audit_log = "-";
    c.state_dir = std::filesystem::temp_directory_path() / ("mocksvc-scenario-test-" + std::to_string(::getpid()));
    service = std::make_unique<Service>(c);
    auto started = service->start();
    EXPECT_TRUE(started.has_value()) << (started ? "" : started.error());
    info = *started;
    io.start();
  }
  ~Running() {
    service->stop();
    io.stop();
    std::error_code ec;
    std::filesystem::remove_all(service->config().state_dir, ec);
  }

  api::HttpResponse admin(std::string method, std::string path, std::string body = "") {
    auth::HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(path);
    r.body = std::move(body);
    auto fut = asio::co_spawn(
        io.executor(),
        [this, r]() -> asio::awaitable<boost::system::result<api::HttpResponse, std::string>> {
          net::HttpClient client(co_await asio::this_coro::executor, info.endpoint);
          auto res = co_await client.send(r);
          co_return res;
        },
        asio::use_future);
    EXPECT_EQ(fut.wait_for(kWait), std::future_status::ready);
    auto res = fut.get();
    EXPECT_TRUE(res.has_value());
    return res ? *res : api::HttpResponse{};
  }

  ssmh::plugin::SsmResult ssm(std::string op, std::string body) {
    ssmh::plugin::SsmEndpoint e;
    e.url = info.endpoint;
    e.region = info.region;
    const auth::Credentials creds{info.access_key_id, info.secret_access_key, ""};
    e.credentials = [creds] { return std::optional<auth::Credentials>(creds); };
    e.retry.max_retries = 0;
    auto fut = asio::co_spawn(io.executor(), ssmh::plugin::call_ssm(io.executor(), e, std::move(op), std::move(body)),
                              asio::use_future);
    EXPECT_EQ(fut.wait_for(kWait), std::future_status::ready);
    return fut.get();
  }

  runtime::IoThreads io;
  std::unique_ptr<Service> service;
  ServiceInfo info;
};

constexpr std::string_view kScenario = R"({"name":"t","description":"A test.","seed":4,
  "rules":[{"name":"slow","type":"delay","direction":"agent_to_client"}]})";

TEST(ScenarioAdmin, ActivatesShowsAndClearsAScenario) {
  Running s;
  EXPECT_EQ(s.admin("GET", "/_mock/scenario").status, 404);

  auto bad = s.admin("PUT", "/_mock/scenario",
                     R"({"name":"t","description":"A test.","seed":1,"rules":[{"name":"x","type":"delay",
                        "attributes":{"latency_ms":"soon"}}]})");
  EXPECT_EQ(bad.status, 400);
  auto err = json::parse(bad.body);
  EXPECT_EQ(err["error"], "invalid_scenario");
  EXPECT_EQ(err["message"], "scenario: rules[0] (\"x\"): field \"attributes.latency_ms\": must be an integer between "
                            "0 and 86400000");

  auto put = s.admin("PUT", "/_mock/scenario", std::string(kScenario));
  ASSERT_EQ(put.status, 200) << put.body;
  auto shown = json::parse(s.admin("GET", "/_mock/scenario").body);
  EXPECT_EQ(shown["name"], "t");
  EXPECT_EQ(shown["rules"][0]["attributes"]["latency_ms"], 100);
  EXPECT_EQ(shown["rules"][0]["direction"], "agent_to_client");

  auto stats = json::parse(s.admin("GET", "/_mock/stats").body);
  EXPECT_EQ(stats["faults"]["scenario"], "t");
  EXPECT_EQ(stats["faults"]["rules"][0]["name"], "slow");

  auto cleared = json::parse(s.admin("DELETE", "/_mock/scenario").body);
  EXPECT_EQ(cleared["cleared"], true);
  EXPECT_EQ(s.admin("GET", "/_mock/scenario").status, 404);
  EXPECT_EQ(s.admin("POST", "/_mock/scenario").status, 405);
}

TEST(ScenarioAdmin, ResetClearsTheScenario) {
  Running s;
  ASSERT_EQ(s.admin("PUT", "/_mock/scenario", std::string(kScenario)).status, 200);
  EXPECT_EQ(s.admin("POST", "/_mock/reset").status, 200);
  EXPECT_EQ(s.admin("GET", "/_mock/scenario").status, 404);
  EXPECT_FALSE(s.service->faults().scenario());
}

TEST(ScenarioAdmin, ServesPrometheusText) {
  Running s;
  auto m = s.admin("GET", "/_mock/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type").value_or(""), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("# TYPE mocksvc_sessions_started_total counter\nmocksvc_sessions_started_total 0\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("# TYPE mocksvc_relay_frames_total counter"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE mocksvc_fault_rule_applied_total counter"), std::string::npos);
}

TEST(ScenarioApi, ThrottleAnswersLikeTheRealService) {
  Running s;
  auto sc = fault::parse_scenario(R"({"name":"t","description":"A test.","seed":1,"rules":[{"name":"b",
      "type":"throttle","match":{"operations":"DescribeSessions"},"attributes":{"rate_per_second":0.001}}]})",
                                  "inline");
  ASSERT_TRUE(sc.has_value());
  s.service->set_scenario(*sc);
  EXPECT_EQ(s.ssm("DescribeSessions", R"({"State":"Active"})").status, 200);
  auto throttled = s.ssm("DescribeSessions", R"({"State":"Active"})");
  EXPECT_EQ(throttled.status, 400);
  EXPECT_EQ(throttled.error, "ThrottlingException");
  auto body = json::parse(throttled.body);
  EXPECT_EQ(body["__type"], "ThrottlingException");
  EXPECT_EQ(body["message"], "Rate exceeded");
  EXPECT_EQ(s.ssm("GetConnectionStatus", R"({"Target":"i-0123456789abcdef0"})").status, 200);
  EXPECT_EQ(s.service->faults().stats().throttled(), 1u);
  auto audit = json::parse(s.admin("GET", "/_mock/audit").body);
  bool audited = false;
  for (const auto& e : audit["events"]) audited = audited || e.dump().find("ThrottlingException") != std::string::npos;
  EXPECT_TRUE(audited);
}

TEST(ScenarioApi, ErrorsAndLatencyReachTheCaller) {
  Running s;
  auto sc = fault::parse_scenario(R"({"name":"t","description":"A test.","seed":1,"rules":[
      {"name":"slow","type":"latency","match":{"operations":"GetConnectionStatus"},"attributes":{"latency_ms":300}},
      {"name":"gone","type":"target_not_connected"},
      {"name":"deny","type":"error","match":{"operations":"ResumeSession"},
       "attributes":{"code":"AccessDeniedException","http_status":403}}]})",
                                  "inline");
  ASSERT_TRUE(sc.has_value());
  s.service->set_scenario(*sc);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.ssm("GetConnectionStatus", R"({"Target":"i-0123456789abcdef0"})").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 290ms);  // 10 ms tolerance for timer rounding
  auto start = s.ssm("StartSession", R"({"Target":"i-0123456789abcdef0"})");
  EXPECT_EQ(start.status, 400);
  EXPECT_EQ(start.error, "TargetNotConnected");
  auto resume = s.ssm("ResumeSession", R"({"SessionId":"nobody-0123456789abcdef0"})");
  EXPECT_EQ(resume.status, 403);
  EXPECT_EQ(resume.error, "AccessDeniedException");
}

TEST(ScenarioService, AScenarioSetBeforeStartIsActiveOnceStarted) {
  ServiceConfig c = default_config();
  c.listen_port = 0;
  c.tls = false;
  c.audit_log = "-";
  c.log_level = "warn";
  c.state_dir = std::filesystem::temp_directory_path() / ("mocksvc-scenario-early-" + std::to_string(::getpid()));
  Service service(c);
  ASSERT_TRUE(service.load_scenario(std::filesystem::path(SSMH_SCENARIOS_DIR) / "lost_acks.json").has_value());
  auto bad = service.load_scenario(std::filesystem::path(SSMH_SCENARIOS_DIR) / "missing.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("missing.json: cannot be read"), std::string::npos);
  ASSERT_TRUE(service.start().has_value());
  ASSERT_TRUE(service.faults().scenario());
  EXPECT_EQ(service.faults().scenario()->name, "lost_acks");
  service.stop();
  std::error_code ec;
  std::filesystem::remove_all(c.state_dir, ec);
}

}  // namespace
}  // namespace mocksvc::app
