// Agent and instance faults, the timeline and the counters' exposition: the injector's own strand
// runs the actions against a recording ServiceControl.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "mocksvc/fault/injector.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/fault/harness.hpp"

namespace mocksvc::fault::testing {
namespace {

class RecordingControl final : public ServiceControl {
 public:
  std::vector<std::string> log;
  bool disconnect_agent(const std::string& id) override { return note("disconnect " + id); }
  bool reconnect_agent(const std::string& id) override { return note("reconnect " + id); }
  bool set_instance_online(const std::string& id, bool online) override {
    return note((online ? "online " : "offline ") + id);
  }
  std::vector<std::string> instance_ids() override { return {"i-0000000000000000a", "i-0000000000000000b"}; }
  std::size_t drop_clients(const std::string& t) override {
    note("drop " + t);
    return 1;
  }
  std::size_t terminate_sessions(const std::string& t) override {
    note("terminate " + t);
    return 1;
  }

 private:
  bool note(std::string s) {
    log.push_back(std::move(s));
    return true;
  }
};

struct ActionRig {
  explicit ActionRig(std::string_view doc) : injector(io.get_executor()) {
    injector.set_service_control(&control);
    injector.activate(scenario_from(doc));
  }
  // Runs the injector's strand until `n` actions ran, or 5 s passed.
  bool run_until(std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (control.log.size() < n && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();
      io.run_one_for(50ms);
    }
    return control.log.size() >= n;
  }
  boost::asio::io_context io;
  RecordingControl control;
  Injector injector;
};

TEST(AgentDisconnect, DropsAndBringsBackTheAgentOnTime) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,"rules":[{"name":"a","type":"agent_disconnect",
      "match":{"targets":"i-0000000000000000a"},"attributes":{"at_ms":20,"duration_ms":30}}]})");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.run_until(2));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  EXPECT_EQ(r.control.log, (std::vector<std::string>{"disconnect i-0000000000000000a", "reconnect i-0000000000000000a"}));
  EXPECT_EQ(r.injector.stats().rule("a")->applied, 2u);
}

TEST(AgentReconnect, ActsOnEveryInstanceWithoutTargets) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,"rules":[{"name":"a","type":"agent_reconnect"}]})");
  ASSERT_TRUE(r.run_until(2));
  EXPECT_EQ(r.control.log, (std::vector<std::string>{"reconnect i-0000000000000000a", "reconnect i-0000000000000000b"}));
}

TEST(InstanceOffline, GatesTheInstancesSessionsUntilItIsBack) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,"rules":[{"name":"o","type":"instance_offline",
      "match":{"targets":"i-0000000000000000a"},"attributes":{"duration_ms":100}}]})");
  broker::SessionFacts f;
  f.session_id = "s";
  f.target = "i-0000000000000000a";
  PipelineHarness h(r.injector.stage_factory(), f);
  ASSERT_TRUE(r.run_until(1));
  EXPECT_EQ(r.control.log.at(0), "offline i-0000000000000000a");
  EXPECT_EQ(r.injector.stats().offline_targets, std::vector<std::string>{"i-0000000000000000a"});
  h.send(Direction::client_to_agent, data(Direction::client_to_agent, 0));
  h.send(Direction::agent_to_client, data(Direction::agent_to_client, 0));
  EXPECT_TRUE(h.out[0].empty());
  ASSERT_EQ(h.out[1].size(), 1u);
  EXPECT_EQ(h.out[1][0].message.message_type, wire::msg::kPausePublication);
  ASSERT_TRUE(r.run_until(2));
  EXPECT_EQ(r.control.log.at(1), "online i-0000000000000000a");
  h.send(Direction::agent_to_client, data(Direction::agent_to_client, 1));
  ASSERT_EQ(h.out[1].size(), 3u);
  EXPECT_EQ(h.out[1][1].message.message_type, wire::msg::kStartPublication);
  EXPECT_EQ(h.out[1][2].message.sequence_number, 1);
}

TEST(Timeline, WaitsForItsEventAndSwitchesRules) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,
      "rules":[{"name":"d","type":"drop","enabled":false}],
      "timeline":[{"after":"sessions_connected","at_ms":10,"action":"enable_rule","rule":"d"},
                  {"after":"sessions_connected","at_ms":20,"action":"terminate_sessions"},
                  {"at_ms":0,"action":"drop_clients","target":"i-0000000000000000b"}]})");
  ASSERT_TRUE(r.run_until(1));
  EXPECT_EQ(r.control.log.at(0), "drop i-0000000000000000b");
  EXPECT_FALSE(r.injector.scenario()->rules[0].enabled);
  r.injector.notify(kEventSessionsConnected);
  r.injector.notify(kEventSessionsConnected);  // announced once
  ASSERT_TRUE(r.run_until(2));
  EXPECT_EQ(r.control.log.at(1), "terminate ");
  EXPECT_TRUE(r.injector.scenario()->rules[0].enabled);
  EXPECT_EQ(r.control.log.size(), 2u);
}

TEST(Timeline, ClearingTheScenarioCancelsPendingActions) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,
      "timeline":[{"at_ms":50,"action":"drop_clients"}]})");
  r.injector.clear();
  r.io.run_for(150ms);
  EXPECT_TRUE(r.control.log.empty());
}

TEST(Counters, ExposeRulesSessionsAndApiInPrometheusText) {
  ActionRig r(R"({"name":"t","description":"A test.","seed":1,"rules":[
      {"name":"d","type":"drop","match":{"nth":1}},
      {"name":"t","type":"throttle","attributes":{"rate_per_second":1}}]})");
  broker::SessionFacts f;
  f.session_id = "sess-\"1\"";
  f.target = "i-0000000000000000a";
  PipelineHarness h(r.injector.stage_factory(), f);
  h.send(Direction::agent_to_client, data(Direction::agent_to_client, 0));
  h.send(Direction::agent_to_client, data(Direction::agent_to_client, 0));
  const auto now = Clock::now();
  r.injector.before_api_call(ApiCall{"StartSession", "AKIA", "", "", now});
  r.injector.before_api_call(ApiCall{"StartSession", "AKIA", "", "", now});
  const std::string text = r.injector.metrics_text();
  EXPECT_NE(text.find("# TYPE mocksvc_fault_rule_applied_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("mocksvc_fault_rule_applied_total{scenario=\"t\",rule=\"d\",type=\"drop\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("mocksvc_session_fault_actions_total{session_id=\"sess-\\\"1\\\"\",target=\"i-0000000000000000a\","
                      "action=\"dropped\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("direction=\"agent_to_client\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("mocksvc_api_fault_errors_total{code=\"ThrottlingException\"} 1\n"), std::string::npos);
  for (std::size_t at = 0; (at = text.find("# HELP ", at)) != std::string::npos; ++at) {
    const auto name_end = text.find(' ', at + 7);
    const std::string name = text.substr(at + 7, name_end - at - 7);
    EXPECT_TRUE(name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0) << name;
    EXPECT_NE(text.find("# TYPE " + name + " counter"), std::string::npos) << name;
  }
  const std::string json = r.injector.stats_json();
  EXPECT_NE(json.find("\"scenario\":\"t\""), std::string::npos);
  EXPECT_NE(json.find("\"throttled\":1"), std::string::npos);

  r.injector.reset();
  auto s = r.injector.stats();
  EXPECT_FALSE(s.scenario);
  EXPECT_EQ(s.throttled(), 0u);
  ASSERT_EQ(s.sessions.size(), 1u);  // the session is live: its record stays, zeroed
  EXPECT_EQ(s.sessions[0].count("dropped"), 0u);
  EXPECT_EQ(s.sessions[0].retransmitted_agent_to_client, 0u);
}

}  // namespace
}  // namespace mocksvc::fault::testing
