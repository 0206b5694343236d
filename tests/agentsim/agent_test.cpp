// The simulated agent against a stand-in service over loopback sockets: what it sends, in what
// order, signed how; sessions from interactive_shell to agent_task_complete; reconnects and
// registration.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agentsim/simulator.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/agentsim/fake_service.hpp"
#include "tests/agentsim/test_util.hpp"

namespace ssmh::agentsim {
namespace {

namespace wire = mocksvc::wire;
using namespace std::chrono_literals;
using testing::FakeService;
using json = nlohmann::json;

constexpr const char* kInstance = "mi-00000000000000001";

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // AGENTSIM_TEST_LOG=debug shows what the agents do.
    if (const char* level = std::getenv("AGENTSIM_TEST_LOG")) mocksvc::base::set_log_level(level);
    io_.start();
  }
  SimConfig config(std::vector<std::string> ids = {kInstance}) {
    SimConfig c;
    c.endpoint = fake_.endpoint();
    c.region = "us-east-1";
    c.identity.credentials = mocksvc::auth::Credentials{testing::kAccessKey, testing::kSecretKey, ""};
    c.identity.instance_ids = std::move(ids);
    // The real constants a hundred times faster; task_complete resends stay slow enough that a
    // loopback acknowledgement always wins.
    c.timing = Timing{}.scaled(0.01);
    c.timing.task_complete_resend = 300ms;
    c.timing.request_timeout = 5s;
    c.timing.websocket_handshake_timeout = 5s;
    c.timing.flush_before_close = 500ms;
    c.seed = 11;
    return c;
  }

  void start(SimConfig c) {
    sim_ = std::make_unique<Simulator>(io_.executor(), std::move(c));
    SimEvents e;
    e.ready = [this](const std::vector<std::string>& ids) {
      std::lock_guard lock(mu_);
      ready_ids_ = ids;
      ready_ = true;
      cv_.notify_all();
    };
    e.failed = [this](const AgentStatus& s) {
      std::lock_guard lock(mu_);
      failures_.push_back(s.last_error);
      cv_.notify_all();
    };
    e.session_ended = [this](const AgentStatus&, const std::string& id, const SessionResult& r) {
      std::lock_guard lock(mu_);
      ended_[id] = r.final_status;
      cv_.notify_all();
    };
    auto started = sim_->start(std::move(e));
    ASSERT_TRUE(started) << started.error();
  }

  bool wait_ready() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return ready_; });
  }
  bool wait_ended(const std::string& id) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return ended_.count(id) > 0; });
  }
  // Waits for a condition on the agent's status.
  bool wait_status(const std::function<bool(const AgentStatus&)>& pred, const std::string& id = kInstance) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = sim_->agent(id);
      if (s && pred(*s)) return true;
      // Status changes come with traffic the fake sees: wait for any of it.
      fake_.wait([] { return false; }, 20ms);
    }
    return false;
  }

  // The agent counts its channel open once OpenControlChannel is written; the service has it
  // once that frame arrived.
  bool wait_control_open(std::size_t i = 0) {
    return fake_.wait([&] { return fake_.control_count() > i && !fake_.control(i).texts.empty(); });
  }

  // Starts one agent, waits for its control channel and sends it a session.
  void start_session(const std::string& session_id, const std::string& document) {
    start(config());
    ASSERT_TRUE(wait_ready());
    ASSERT_TRUE(wait_control_open());
    fake_.send_control(0, testing::interactive_shell_frame(session_id, document));
    ASSERT_TRUE(fake_.wait([&] { return fake_.data_count() >= 1 && !fake_.data(0).texts.empty(); }));
  }

  void TearDown() override {
    if (sim_) {
      EXPECT_TRUE(sim_->stop(5s));
    }
    io_.stop();
  }

  FakeService fake_;
  mocksvc::runtime::IoThreads io_{2};
  std::unique_ptr<Simulator> sim_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::vector<std::string> ready_ids_;
  std::vector<std::string> failures_;
  std::map<std::string, std::string> ended_;
};

std::string signed_headers(const mocksvc::auth::HttpRequest& r) {
  auto a = std::string(r.header("Authorization").value_or(""));
  auto at = a.find("SignedHeaders=");
  if (at == std::string::npos) return {};
  auto end = a.find(',', at);
  return a.substr(at + 14, end - at - 14);
}

TEST_F(AgentTest, ReportsHealthThenOpensASignedControlChannel) {
  start(config());
  ASSERT_TRUE(wait_ready());
  EXPECT_EQ(ready_ids_, std::vector<std::string>{kInstance});
  auto reqs = fake_.requests();
  ASSERT_GE(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].what, "AmazonSSM.UpdateInstanceInformation");
  EXPECT_EQ(reqs[0].request.body,
            R"({"AgentName":"amazon-ssm-agent","AgentVersion":"3.3.987.0","InstanceId":"mi-00000000000000001","PlatformType":"Linux"})");
  EXPECT_EQ(signed_headers(reqs[0].request), "content-length;content-type;host;x-amz-date;x-amz-target");
  EXPECT_NE(std::string(reqs[0].request.header("User-Agent").value_or("")).find("amazon-ssm-agent/3.3.987.0"),
            std::string::npos);
  EXPECT_EQ(reqs[1].what, "AmazonSSM.UpdateInstanceInformation");
  EXPECT_NE(reqs[1].request.body.find(R"("SSMConnectionChannel":"")"), std::string::npos);
  EXPECT_EQ(reqs[2].what, "CreateControlChannel");
  EXPECT_EQ(reqs[2].request.target, std::string("/v1/control-channel/") + kInstance);
  EXPECT_EQ(reqs[2].request.header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(signed_headers(reqs[2].request), "content-type;host;x-amz-date");
  auto body = json::parse(reqs[2].request.body);
  EXPECT_EQ(body["MessageSchemaVersion"], "1.0");
  EXPECT_EQ(body["RequestId"].get<std::string>().size(), 36u);
  EXPECT_EQ(reqs[3].what, "ws control");
  EXPECT_EQ(reqs[3].request.target, std::string("/v1/control-channel/") + kInstance + "?role=subscribe&stream=input");
  EXPECT_EQ(signed_headers(reqs[3].request), "host;x-amz-date");
  EXPECT_EQ(reqs[3].request.header("User-Agent").value_or(""), "Go-http-client/1.1");
  for (const auto& r : reqs) EXPECT_TRUE(r.signature_ok) << r.what << ": " << r.verify_error;

  ASSERT_TRUE(fake_.wait([&] { return !fake_.control(0).texts.empty(); }));
  const std::string open = fake_.control(0).texts[0];
  EXPECT_EQ(open.rfind(R"({"Cookie":null,"MessageSchemaVersion":"1.0",)", 0), 0u) << open;
  auto parsed = wire::parse_open_control_channel(open);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->token_value, "cc-token-1");
  EXPECT_EQ(parsed->agent_version, "3.3.987.0");
  EXPECT_EQ(parsed->platform_type, "linux");

  // Associations are polled and the "connected" health report names ssmmessages (agent.md §7).
  ASSERT_TRUE(fake_.wait([&] { return fake_.count("AmazonSSM.ListInstanceAssociations") >= 2; }));
  ASSERT_TRUE(fake_.wait([&] {
    for (const auto& r : fake_.requests())
      if (r.request.body.find(R"("SSMConnectionChannel":"ssmmessages")") != std::string::npos) return true;
    return false;
  }));
}

TEST_F(AgentTest, RunsAShellSessionToItsTaskComplete) {
  start_session("s-shell", testing::session_document("Standard_Stream"));
  auto reqs = fake_.requests();
  auto create = std::find_if(reqs.begin(), reqs.end(), [](const auto& r) { return r.what == "CreateDataChannel"; });
  ASSERT_NE(create, reqs.end());
  EXPECT_EQ(create->request.target, "/v1/data-channel/s-shell");
  auto body = json::parse(create->request.body);
  EXPECT_EQ(body["ClientId"], "");
  EXPECT_EQ(fake_.data(0).path, "/v1/data-channel/s-shell?role=publish_subscribe");
  auto open = wire::parse_open_data_channel(fake_.data(0).texts[0]);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->variant, wire::OpenDataChannel::Variant::agent);
  EXPECT_EQ(open->client_instance_id, kInstance);
  EXPECT_EQ(open->client_id, "");
  EXPECT_EQ(open->token_value.rfind("dc-token-", 0), 0u);

  ASSERT_TRUE(fake_.wait([&] { return !testing::session_states(fake_.data(0)).empty(); }));
  EXPECT_EQ(testing::session_states(fake_.data(0))[0], "Connected");
  fake_.send_data(0, testing::input_frame(0, wire::PayloadType::size, R"({"cols":80,"rows":24})"));
  fake_.send_data(0, testing::input_frame(1, wire::PayloadType::output, "echo hello-agentsim\n"));
  ASSERT_TRUE(fake_.wait([&] { return testing::output_text(fake_.data(0)).find("hello-agentsim\r\n") != std::string::npos; }));
  fake_.send_data(0, testing::input_frame(2, wire::PayloadType::output, "exit\n"));

  ASSERT_TRUE(fake_.wait([&] { return fake_.data(0).closed && !testing::task_completes(fake_.control(0)).empty(); }));
  EXPECT_FALSE(fake_.data(0).clean);  // no close frame, as the real agent
  EXPECT_EQ(testing::session_states(fake_.data(0)).back(), "Terminating");
  auto done = json::parse(testing::task_completes(fake_.control(0))[0]);
  EXPECT_EQ(done["TaskId"], "s-shell");
  EXPECT_EQ(done["FinalTaskStatus"], "Success");
  EXPECT_EQ(done["InstanceId"], kInstance);
  EXPECT_EQ(done["RetryNumber"], 1);
  ASSERT_TRUE(wait_ended("s-shell"));
  ASSERT_TRUE(wait_status([](const AgentStatus& s) { return s.task_completes_acked == 1; }));
  EXPECT_EQ(sim_->agent(kInstance)->task_completes_sent, 1u);
  for (const auto& r : fake_.requests()) EXPECT_TRUE(r.signature_ok) << r.what << ": " << r.verify_error;
}

TEST_F(AgentTest, ResendsAnUnacknowledgedTaskCompleteThreeTimes) {
  fake_.set_ack_task_complete(false);
  start_session("s-resend", testing::session_document("Standard_Stream"));
  fake_.send_data(0, testing::input_frame(0, wire::PayloadType::output, "exit\n"));
  ASSERT_TRUE(fake_.wait([&] { return testing::task_completes(fake_.control(0)).size() >= 3; }));
  // A fourth would come one resend period after the third.
  EXPECT_FALSE(fake_.wait([&] { return testing::task_completes(fake_.control(0)).size() > 3; }, 900ms));
  std::vector<std::string> ids;
  std::vector<int> retries;
  for (const auto& m : fake_.control(0).frames) {
    if (m.message_type != wire::msg::kAgentTaskComplete) continue;
    ids.push_back(m.message_id.to_string());
    retries.push_back(json::parse(m.payload_text())["RetryNumber"].get<int>());
  }
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_EQ(ids[1], ids[2]);
  EXPECT_EQ(retries, (std::vector<int>{1, 2, 3}));
}

TEST_F(AgentTest, ChannelClosedEndsTheSessionWithoutTerminating) {
  start_session("s-cancel", testing::session_document("Standard_Stream"));
  ASSERT_TRUE(fake_.wait([&] { return !testing::session_states(fake_.data(0)).empty(); }));
  fake_.send_control(0, testing::channel_closed_frame("s-cancel", kInstance));
  ASSERT_TRUE(fake_.wait([&] { return fake_.data(0).closed && !testing::task_completes(fake_.control(0)).empty(); }));
  EXPECT_FALSE(fake_.data(0).clean);
  EXPECT_EQ(testing::session_states(fake_.data(0)), std::vector<std::string>{"Connected"});
  EXPECT_EQ(json::parse(testing::task_completes(fake_.control(0))[0])["FinalTaskStatus"], "Success");
}

TEST_F(AgentTest, DropsADocumentWithAnotherSchemaVersionSilently) {
  start(config());
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_control_open());
  fake_.send_control(0, testing::interactive_shell_frame("s-v2", testing::session_document("Standard_Stream", "{}", "2.0")));
  fake_.send_control(0, testing::interactive_shell_frame("s-ok", testing::session_document("Standard_Stream")));
  ASSERT_TRUE(fake_.wait([&] { return fake_.count("CreateDataChannel") >= 1; }));
  for (const auto& r : fake_.requests()) EXPECT_NE(r.request.target, "/v1/data-channel/s-v2");
  EXPECT_GE(sim_->agent(kInstance)->ignored_messages, 1u);
}

TEST_F(AgentTest, RetriesCreateControlChannelWithBackoff) {
  fake_.fail_control_channel_creates(3, 400, "<AccessDeniedException><Message>no</Message></AccessDeniedException>");
  const auto t0 = std::chrono::steady_clock::now();
  start(config());
  ASSERT_TRUE(wait_ready());
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(fake_.count("CreateControlChannel"), 4u);
  auto s = sim_->agent(kInstance);
  EXPECT_EQ(s->control_channel_failures, 3u);
  // Scaled by 0.01: retries after >= initial (50 ms) x 1, 2, 4.
  EXPECT_GE(took, 350ms);
}

TEST_F(AgentTest, ReconnectsWhenTheServiceDropsTheControlChannel) {
  start(config());
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_control_open());
  fake_.close_control(0);
  ASSERT_TRUE(fake_.wait([&] { return fake_.control_count() == 2 && !fake_.control(1).texts.empty(); }));
  EXPECT_EQ(fake_.count("CreateControlChannel"), 2u);
  auto open = wire::parse_open_control_channel(fake_.control(1).texts[0]);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token_value, "cc-token-2");
  // The new channel carries sessions.
  fake_.send_control(1, testing::interactive_shell_frame("s-after", testing::session_document("Standard_Stream")));
  ASSERT_TRUE(fake_.wait([&] { return fake_.data_count() == 1; }));
  ASSERT_TRUE(wait_status([](const AgentStatus& s) { return s.control_channel_opens == 2 && s.control_channel_open; }));
}

TEST_F(AgentTest, DataChannelReconnectsAndTheSessionGoesOn) {
  start_session("s-redial", testing::session_document("Standard_Stream"));
  fake_.send_data(0, testing::input_frame(0, wire::PayloadType::output, "echo one\n"));
  ASSERT_TRUE(fake_.wait([&] { return testing::output_text(fake_.data(0)).find("one\r\n") != std::string::npos; }));
  fake_.close_data(0);
  ASSERT_TRUE(fake_.wait([&] { return fake_.data_count() == 2 && !fake_.data(1).texts.empty(); }));
  EXPECT_EQ(fake_.count("CreateDataChannel"), 2u);
  fake_.send_data(1, testing::input_frame(1, wire::PayloadType::output, "echo two\n"));
  ASSERT_TRUE(fake_.wait([&] { return testing::output_text(fake_.data(1)).find("two\r\n") != std::string::npos; }));
}

TEST_F(AgentTest, DataChannelReconnectStopsAtOnceWhenTheSessionIsTerminated) {
  start_session("s-gone", testing::session_document("Standard_Stream"));
  fake_.fail_data_channel_creates(
      10, 400, "<BadRequest>\n<ClientErrorMessage>Session is already terminated</ClientErrorMessage>\n</BadRequest>");
  fake_.close_data(0);
  ASSERT_TRUE(wait_ended("s-gone"));
  EXPECT_EQ(fake_.count("CreateDataChannel"), 2u);  // the first open, then one refused reconnect
  ASSERT_TRUE(fake_.wait([&] { return !testing::task_completes(fake_.control(0)).empty(); }));
  auto done = json::parse(testing::task_completes(fake_.control(0))[0]);
  EXPECT_EQ(done["FinalTaskStatus"], "Failed");
  EXPECT_NE(done["Output"].get<std::string>().find("Session is already terminated"), std::string::npos);
}

TEST_F(AgentTest, ADataChannelThatNeverOpensFailsTheTask) {
  fake_.fail_data_channel_creates(100, 500, "<InternalServerError/>");
  start(config());
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_control_open());
  fake_.send_control(0, testing::interactive_shell_frame("s-never", testing::session_document("Standard_Stream")));
  ASSERT_TRUE(wait_ended("s-never"));
  EXPECT_EQ(fake_.count("CreateDataChannel"), 6u);  // one try and five retries
  ASSERT_TRUE(fake_.wait([&] { return !testing::task_completes(fake_.control(0)).empty(); }));
  auto done = json::parse(testing::task_completes(fake_.control(0))[0]);
  EXPECT_EQ(done["FinalTaskStatus"], "Failed");
  EXPECT_EQ(done["Output"].get<std::string>().rfind("Setting up data channel with id s-never failed: ", 0), 0u);
}

TEST_F(AgentTest, RegistersWithAnActivationAndSignsWithRoleTokens) {
  fake_.set_update_key_pair(true);
  fake_.set_token_lifetime(2s);  // refreshed after about 1 s
  auto c = config({});
  c.identity.credentials.reset();
  c.identity.activation = Activation{"ACTIVATIONCODE0123456789", "11111111-2222-4333-8444-555555555555"};
  start(c);
  ASSERT_TRUE(wait_ready());
  const std::string id = fake_.registered_instance();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(ready_ids_, std::vector<std::string>{id});
  ASSERT_TRUE(fake_.wait([&] { return fake_.count("AmazonSSM.RequestManagedInstanceRoleToken") >= 2; }));
  auto reqs = fake_.requests();
  EXPECT_EQ(reqs[0].what, "AmazonSSM.RegisterManagedInstance");
  EXPECT_FALSE(reqs[0].request.header("Authorization"));
  auto reg = json::parse(reqs[0].request.body);
  EXPECT_EQ(reg["PublicKeyType"], "Rsa");
  EXPECT_GE(reg["PublicKey"].get<std::string>().size(), 392u);
  EXPECT_EQ(reqs[1].what, "AmazonSSM.RequestManagedInstanceRoleToken");
  EXPECT_EQ(reqs[2].what, "AmazonSSM.UpdateManagedInstancePublicKey");
  EXPECT_NE(std::string(reqs[1].request.header("Authorization").value_or("")).find("Credential=" + id + "/"),
            std::string::npos);
  for (const auto& r : reqs) EXPECT_TRUE(r.signature_ok) << r.what << ": " << r.verify_error;
  // Everything after the role token is signed with the temporary keys and their session token.
  bool saw_control = false;
  for (const auto& r : reqs) {
    if (r.what != "CreateControlChannel" && r.what != "ws control") continue;
    saw_control = true;
    EXPECT_NE(std::string(r.request.header("Authorization").value_or("")).find("Credential=ASIAFAKE"), std::string::npos);
    EXPECT_TRUE(r.request.header("X-Amz-Security-Token"));
  }
  EXPECT_TRUE(saw_control);
  ASSERT_TRUE(wait_status([](const AgentStatus& s) { return s.key_rotations == 1 && s.credential_refreshes >= 2; }, id));
}

TEST_F(AgentTest, ARefusedRegistrationFailsTheAgent) {
  auto c = config({});
  c.identity.credentials.reset();
  c.identity.activation = Activation{"short", "11111111-2222-4333-8444-555555555555"};
  start(c);
  std::unique_lock lock(mu_);
  ASSERT_TRUE(cv_.wait_for(lock, 10s, [&] { return !failures_.empty(); }));
  EXPECT_NE(failures_[0].find("ActivationCode"), std::string::npos);
}

TEST_F(AgentTest, AnOfflineAgentStaysAwayUntilBackOnline) {
  start(config());
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(sim_->set_offline(kInstance, true));
  ASSERT_TRUE(fake_.wait([&] { return fake_.control(0).closed; }));
  EXPECT_FALSE(fake_.wait([&] { return fake_.control_count() > 1; }, 500ms));
  ASSERT_TRUE(sim_->set_offline(kInstance, false));
  ASSERT_TRUE(fake_.wait([&] { return fake_.control_count() == 2 && !fake_.control(1).texts.empty(); }));
}

TEST_F(AgentTest, DroppedControlChannelReconnectsOnItsOwn) {
  start(config());
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(sim_->drop_control_channel(kInstance));
  ASSERT_TRUE(fake_.wait([&] { return fake_.control(0).closed; }));
  EXPECT_FALSE(fake_.control(0).clean);
  ASSERT_TRUE(fake_.wait([&] { return fake_.control_count() == 2; }));
}

TEST_F(AgentTest, StopClosesEveryChannel) {
  start_session("s-stop", testing::session_document("Standard_Stream"));
  EXPECT_TRUE(sim_->stop(5s));
  ASSERT_TRUE(fake_.wait([&] { return fake_.control(0).closed && fake_.data(0).closed; }));
}

TEST_F(AgentTest, AFleetSharesTheProcess) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 40; ++i) ids.push_back(prefixed_instance_id("mi-", i));
  start(config(ids));
  ASSERT_TRUE(wait_ready());
  EXPECT_EQ(ready_ids_, ids);
  EXPECT_TRUE(fake_.wait([&] { return fake_.control_count() == 40u; }));
  for (const auto& s : sim_->agents()) EXPECT_TRUE(s.control_channel_open) << s.instance_id;
}

}  // namespace
}  // namespace ssmh::agentsim
