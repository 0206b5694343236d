#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr std::string_view kWeb = "i-0123456789abcdef0";
constexpr std::string_view kDown = "i-0aaaaaaaaaaaaaaaa";
constexpr std::string_view kAgent = "mi-0123456789abcdef0";
constexpr std::string_view kEu = "i-0bbbbbbbbbbbbbbbb";

struct ManualClock {
  std::shared_ptr<TimePoint> t = std::make_shared<TimePoint>(from_epoch_millis(1795499663000));
  ClockFn fn() const {
    auto p = t;
    return [p] { return *p; };
  }
  void advance(Clock::duration d) { *t += d; }
  TimePoint now() const { return *t; }
};

DescribeSessionsRequest of_state(std::string state) {
  DescribeSessionsRequest r;
  r.state = std::move(state);
  return r;
}

InstanceSpec instance(std::string_view id) {
  InstanceSpec s;
  s.instance_id = std::string(id);
  return s;
}

BackendConfig test_config() {
  BackendConfig c;
  c.seed = 42;
  c.accounts.push_back({"AKIDALICE", "alice-secret", "", "111122223333", "alice", ""});
  c.accounts.push_back({"AKIDBOB", "bob-secret", "", "444455556666", "", ""});
  InstanceSpec web = instance(kWeb);
  web.account_id = "111122223333";
  web.name = "web";
  web.tags = {{"Env", "prod"}, {"Team", "core"}};
  web.virtual_options.port_targets[80] = "127.0.0.1:8080";
  InstanceSpec down = instance(kDown);
  down.account_id = "111122223333";
  down.ping_status = PingStatus::connection_lost;
  down.platform_type = "Windows";
  down.tags = {{"Env", "dev"}};
  InstanceSpec agent = instance(kAgent);
  agent.account_id = "111122223333";
  agent.kind = InstanceKind::agent;
  InstanceSpec eu = instance(kEu);
  eu.account_id = "111122223333";
  eu.region = "eu-west-1";
  c.instances = {web, down, agent, eu};
  return c;
}

struct Recorder : SessionObserver {
  Backend* call_back = nullptr;  // when set, reacts like a broker would
  std::vector<SessionStart> started;
  std::vector<std::pair<std::string, std::string>> terminate;
  void on_session_started(const SessionStart& s) override {
    started.push_back(s);
    if (call_back) call_back->set_session_status(s.session_id, SessionStatus::connected);
  }
  void on_session_terminate_requested(const std::string& id, const std::string& reason) override {
    terminate.emplace_back(id, reason);
    if (call_back) call_back->session_ended(id, SessionStatus::terminated, "bye");
  }
};

class BackendTest : public ::testing::Test {
 protected:
  BackendTest() : backend(test_config(), clock.fn()) { backend.set_observer(&recorder); }
  ~BackendTest() override { backend.set_observer(nullptr); }

  Caller alice(std::string_view region = "us-east-1") {
    return backend.caller_for("AKIDALICE", region);
  }

  SessionCredentials start(std::string_view target = kWeb, const Caller* who = nullptr) {
    StartSessionRequest req;
    req.target = std::string(target);
    auto r = backend.start_session(who ? *who : alice(), req, endpoint);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : SessionCredentials{};
  }

  AwsError start_error(const StartSessionRequest& req, const Caller& who) {
    auto r = backend.start_session(who, req, endpoint);
    EXPECT_FALSE(r);
    return r ? AwsError{} : r.error();
  }

  SessionPage describe(const DescribeSessionsRequest& req, const Caller& who) {
    auto r = backend.describe_sessions(who, req);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : SessionPage{};
  }

  ManualClock clock;
  Backend backend;
  Recorder recorder;
  StreamEndpoint endpoint{true, "ssm.example:8443"};
};

TEST_F(BackendTest, CallerComesFromTheConfiguredAccount) {
  Caller a = alice();
  EXPECT_EQ(a.account_id, "111122223333");
  EXPECT_EQ(a.principal_name, "alice");
  EXPECT_EQ(a.arn, "arn:aws:iam::111122223333:user/alice");
  Caller b = backend.caller_for("AKIDBOB", "us-west-2");
  EXPECT_EQ(b.principal_name, "AKIDBOB");
  EXPECT_EQ(b.region, "us-west-2");
  Caller anon = backend.caller_for("AKIDNOBODY", "");
  EXPECT_EQ(anon.account_id, "123456789012");
  EXPECT_EQ(anon.region, "us-east-1");
}

TEST_F(BackendTest, StartSessionReturnsIdTokenAndStreamUrl) {
  auto c = start();
  EXPECT_TRUE(std::regex_match(c.session_id, std::regex("alice-[0-9a-f]{17}"))) << c.session_id;
  EXPECT_FALSE(c.token_value.empty());
  EXPECT_LE(c.token_value.size(), 300u);
  EXPECT_TRUE(std::regex_match(c.token_value, std::regex("[A-Za-z0-9_-]+")));
  EXPECT_TRUE(std::regex_match(
      c.stream_url, std::regex("wss://ssm\\.example:8443/v1/data-channel/" + c.session_id +
                               "\\?role=publish_subscribe&cell-number=AAEAA[A-Za-z0-9_-]+")))
      << c.stream_url;
  endpoint = {false, "127.0.0.1:18080"};
  EXPECT_EQ(start().stream_url.rfind("ws://127.0.0.1:18080/v1/data-channel/", 0), 0u);

  auto info = backend.find_session(c.session_id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->status, SessionStatus::connecting);
  EXPECT_EQ(info->document_name, "SSM-SessionManagerRunShell");
  EXPECT_EQ(info->owner, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(info->start_date, clock.now());
}

TEST_F(BackendTest, StartSessionHandsTheAgentTaskToTheObserver) {
  StartSessionRequest req;
  req.target = std::string(kWeb);
  req.document_name = "AWS-StartPortForwardingSession";
  req.parameters = {{"portNumber", {"80"}}, {"localPortNumber", {"9999"}}};
  req.reason = "debugging";
  auto c = backend.start_session(alice(), req, endpoint);
  ASSERT_TRUE(c);
  ASSERT_EQ(recorder.started.size(), 1u);
  const SessionStart& s = recorder.started[0];
  EXPECT_EQ(s.session_id, c->session_id);
  EXPECT_EQ(s.account_id, "111122223333");
  EXPECT_EQ(s.region, "us-east-1");
  EXPECT_EQ(s.target, kWeb);
  EXPECT_EQ(s.kind, InstanceKind::virtual_instance);
  EXPECT_EQ(s.virtual_options.port_targets.at(80), "127.0.0.1:8080");
  EXPECT_EQ(s.session_type, "Port");
  EXPECT_EQ(s.properties_json,
            R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"9999"})");
  EXPECT_EQ(s.task.session_id, c->session_id);
  EXPECT_EQ(s.task.document_name, "AWS-StartPortForwardingSession");
  EXPECT_EQ(s.task.session_owner, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(s.task.run_as_user, "");
  EXPECT_EQ(json::parse(s.task.parameters_json),
            json::parse(R"({"portNumber":"80","localPortNumber":"9999"})"));
  json content = json::parse(s.task.document_content_json);
  EXPECT_EQ(content["schemaVersion"], "1.0");
  EXPECT_EQ(content["properties"]["localPortNumber"], "9999");
  EXPECT_EQ(s.idle_timeout_minutes, 20);
  EXPECT_EQ(s.max_session_duration_minutes, 0);
  EXPECT_EQ(backend.find_session(c->session_id)->reason, "debugging");
}

TEST_F(BackendTest, ObserverMayCallBackIntoTheBackend) {
  recorder.call_back = &backend;
  auto c = start();
  EXPECT_EQ(backend.find_session(c.session_id)->status, SessionStatus::connected);
  ASSERT_TRUE(backend.terminate_session(alice(), c.session_id));
  EXPECT_EQ(backend.find_session(c.session_id)->status, SessionStatus::terminated);
  EXPECT_EQ(backend.find_session(c.session_id)->output, "bye");
}

TEST_F(BackendTest, TargetsThatAreNotOnlineAreNotConnected) {
  StartSessionRequest req;
  for (std::string_view t :
       {kDown, kAgent, std::string_view("i-00000000000000000"), std::string_view("not-an-id")}) {
    req.target = std::string(t);
    AwsError e = start_error(req, alice());
    EXPECT_EQ(e.code, "TargetNotConnected");
    EXPECT_EQ(e.http_status, 400);
    EXPECT_EQ(e.message, std::string(t) + " is not connected.");
  }
  req.target = std::string(kEu);  // exists, but in another region
  EXPECT_EQ(start_error(req, alice()).code, "TargetNotConnected");
  EXPECT_TRUE(backend.start_session(alice("eu-west-1"), req, endpoint));
  Caller bob = backend.caller_for("AKIDBOB", "us-east-1");  // another account
  req.target = std::string(kWeb);
  EXPECT_EQ(start_error(req, bob).code, "TargetNotConnected");
  EXPECT_TRUE(recorder.started.size() == 1);
}

TEST_F(BackendTest, DocumentErrorsComeFromStartSession) {
  StartSessionRequest req;
  req.target = std::string(kWeb);
  req.document_name = "Nope";
  EXPECT_EQ(start_error(req, alice()).code, "InvalidDocument");
  req.document_name = "AWS-StartSSHSession";
  req.parameters = {{"portNumber", {"0"}}};
  EXPECT_EQ(start_error(req, alice()).code, "InvalidParameters");
  EXPECT_TRUE(recorder.started.empty());
}

TEST_F(BackendTest, SessionIdPrefixIsSanitizedPrincipal) {
  Caller weird = backend.caller_for("AKID/WITH SPACE", "us-east-1");
  weird.account_id = "111122223333";
  auto c = start(kWeb, &weird);
  EXPECT_TRUE(std::regex_match(c.session_id, std::regex("AKID-WITH-SPACE-[0-9a-f]{17}")))
      << c.session_id;
  Caller long_name = alice();
  long_name.principal_name = std::string(200, 'x');
  auto d = start(kWeb, &long_name);
  EXPECT_EQ(d.session_id.size(), 96u);
}

TEST_F(BackendTest, TerminateMovesThroughTerminatingIntoHistory) {
  auto c = start();
  auto t = backend.terminate_session(alice(), c.session_id);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, c.session_id);
  EXPECT_EQ(backend.find_session(c.session_id)->status, SessionStatus::terminating);
  ASSERT_EQ(recorder.terminate.size(), 1u);
  EXPECT_EQ(recorder.terminate[0], std::make_pair(c.session_id, std::string("TerminateSession")));
  // A second TerminateSession does not ask again.
  EXPECT_TRUE(backend.terminate_session(alice(), c.session_id));
  EXPECT_EQ(recorder.terminate.size(), 1u);
  // Terminating is still Active.
  EXPECT_EQ(describe(of_state("Active"), alice()).sessions.size(), 1u);

  clock.advance(5s);
  EXPECT_TRUE(backend.session_ended(c.session_id, SessionStatus::terminated, ""));
  EXPECT_FALSE(backend.session_ended(c.session_id, SessionStatus::failed, ""));
  auto info = backend.find_session(c.session_id);
  EXPECT_EQ(info->status, SessionStatus::terminated);
  EXPECT_EQ(info->end_date, clock.now());
  EXPECT_TRUE(describe(of_state("Active"), alice()).sessions.empty());
  auto history = describe(of_state("History"), alice()).sessions;
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].session_id, c.session_id);
}

TEST_F(BackendTest, TerminateOfAnUnknownSessionSucceeds) {
  auto t = backend.terminate_session(alice(), "nobody-00000000000000000");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "nobody-00000000000000000");
  EXPECT_TRUE(recorder.terminate.empty());
}

TEST_F(BackendTest, ResumeIssuesAFreshTokenForALiveSessionOnly) {
  auto c = start();
  auto r = backend.resume_session(alice(), c.session_id, endpoint);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->session_id, c.session_id);
  EXPECT_NE(r->token_value, c.token_value);
  EXPECT_EQ(r->stream_url, c.stream_url);
  EXPECT_TRUE(backend.check_data_channel_token(c.session_id, r->token_value));
  EXPECT_TRUE(backend.check_data_channel_token(c.session_id, c.token_value));

  auto other_region = backend.resume_session(alice("eu-west-1"), c.session_id, endpoint);
  ASSERT_FALSE(other_region);
  EXPECT_EQ(other_region.error().code, "DoesNotExistException");

  ASSERT_TRUE(backend.terminate_session(alice(), c.session_id));
  auto terminating = backend.resume_session(alice(), c.session_id, endpoint);
  ASSERT_FALSE(terminating);
  EXPECT_EQ(terminating.error().code, "DoesNotExistException");
  backend.session_ended(c.session_id, SessionStatus::terminated, "");
  auto ended = backend.resume_session(alice(), c.session_id, endpoint);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, "DoesNotExistException");
  EXPECT_EQ(ended.error().http_status, 400);
  EXPECT_EQ(ended.error().message,
            "Session with id " + c.session_id + " does not exist or is already terminated.");
}

TEST_F(BackendTest, DataChannelTokensAreCheckedPerSession) {
  auto a = start();
  auto b = start();
  auto g = backend.check_data_channel_token(a.session_id, a.token_value);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->session_id, a.session_id);
  EXPECT_EQ(g->target, kWeb);
  EXPECT_EQ(g->kind, InstanceKind::virtual_instance);
  EXPECT_EQ(g->session_type, "Standard_Stream");
  EXPECT_EQ(g->token_expires_at, clock.now() + 60min);

  EXPECT_EQ(backend.check_data_channel_token("nope", a.token_value).error(),
            TokenError::unknown_session);
  EXPECT_EQ(backend.check_data_channel_token(a.session_id, b.token_value).error(),
            TokenError::bad_token);
  EXPECT_EQ(backend.check_data_channel_token(a.session_id, "").error(), TokenError::bad_token);

  EXPECT_TRUE(backend.check_data_channel_token(a.session_id, a.token_value, clock.now() + 59min));
  EXPECT_EQ(
      backend.check_data_channel_token(a.session_id, a.token_value, clock.now() + 60min).error(),
      TokenError::expired);
  clock.advance(61min);
  EXPECT_EQ(backend.check_data_channel_token(a.session_id, a.token_value).error(),
            TokenError::expired);
  // A resumed session gets a token that is good from now on.
  auto r = backend.resume_session(alice(), a.session_id, endpoint);
  ASSERT_TRUE(r);
  EXPECT_TRUE(backend.check_data_channel_token(a.session_id, r->token_value));

  backend.terminate_session(alice(), b.session_id);
  EXPECT_EQ(backend.check_data_channel_token(b.session_id, b.token_value).error(),
            TokenError::session_terminated);
  EXPECT_EQ(to_string(TokenError::session_terminated), "Session is already terminated");
}

TEST_F(BackendTest, TokenLifetimeIsConfigurable) {
  BackendConfig cfg = test_config();
  cfg.token_ttl = 2min;
  Backend b(cfg, clock.fn());
  StartSessionRequest req;
  req.target = std::string(kWeb);
  auto c = b.start_session(b.caller_for("AKIDALICE", "us-east-1"), req, endpoint);
  ASSERT_TRUE(c);
  EXPECT_TRUE(b.check_data_channel_token(c->session_id, c->token_value, clock.now() + 119s));
  EXPECT_FALSE(b.check_data_channel_token(c->session_id, c->token_value, clock.now() + 120s));
}

TEST_F(BackendTest, SessionStatusMovesOnlyWithinActive) {
  auto c = start();
  EXPECT_TRUE(backend.set_session_status(c.session_id, SessionStatus::connected));
  EXPECT_TRUE(backend.set_session_status(c.session_id, SessionStatus::disconnected));
  EXPECT_FALSE(backend.set_session_status(c.session_id, SessionStatus::terminated));
  EXPECT_EQ(backend.find_session(c.session_id)->status, SessionStatus::disconnected);
  EXPECT_TRUE(backend.set_session_status(c.session_id, SessionStatus::terminating));
  EXPECT_FALSE(backend.set_session_status(c.session_id, SessionStatus::connected));
  EXPECT_FALSE(backend.set_session_status("unknown", SessionStatus::connected));
  EXPECT_FALSE(backend.session_ended(c.session_id, SessionStatus::connected, ""));
  EXPECT_TRUE(backend.session_ended(c.session_id, SessionStatus::failed, "agent went away"));
  EXPECT_FALSE(backend.set_session_status(c.session_id, SessionStatus::connected));
  EXPECT_EQ(backend.find_session(c.session_id)->output, "agent went away");
}

TEST_F(BackendTest, DescribeSessionsPagesNewestFirstWithoutGapsOrRepeats) {
  std::vector<std::string> started;
  for (int i = 0; i < 45; ++i) {
    started.push_back(start().session_id);
    if (i % 3 == 0) clock.advance(1s);  // several sessions share a start time
  }
  std::vector<SessionInfo> all;
  std::string token;
  int pages = 0;
  do {
    DescribeSessionsRequest req{"Active", 10, token, {}};
    auto page = describe(req, alice());
    EXPECT_LE(page.sessions.size(), 10u);
    all.insert(all.end(), page.sessions.begin(), page.sessions.end());
    token = page.next_token;
    ++pages;
  } while (!token.empty() && pages < 100);
  EXPECT_EQ(pages, 5);
  ASSERT_EQ(all.size(), 45u);
  std::set<std::string> ids;
  for (const auto& s : all) ids.insert(s.session_id);
  EXPECT_EQ(ids, std::set<std::string>(started.begin(), started.end()));
  EXPECT_TRUE(std::is_sorted(
      all.begin(), all.end(),
      [](const SessionInfo& a, const SessionInfo& b) { return a.start_date > b.start_date; }));
  // Without MaxResults a page holds 20.
  EXPECT_EQ(describe(of_state("Active"), alice()).sessions.size(), 20u);
}

TEST_F(BackendTest, GarbledNextTokenIsInvalidNextToken) {
  for (int i = 0; i < 3; ++i) start();
  auto page = describe({"Active", 1, "", {}}, alice());
  ASSERT_FALSE(page.next_token.empty());
  std::string garbled = page.next_token;
  garbled[garbled.size() / 2] = garbled[garbled.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {garbled, std::string("not a token"), std::string("AAAA"),
                                 page.next_token.substr(0, page.next_token.size() - 2)}) {
    auto r = backend.describe_sessions(alice(), {"Active", 1, bad, {}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "InvalidNextToken");
    EXPECT_EQ(r.error().http_status, 400);
  }
  // A DescribeInstanceInformation token is not a DescribeSessions token.
  DescribeInstancesRequest ireq;
  ireq.max_results = 5;
  BackendConfig cfg = test_config();
  for (int i = 0; i < 7; ++i) {
    InstanceSpec s = instance("i-000000000000000" + std::to_string(10 + i));
    s.account_id = "111122223333";
    cfg.instances.push_back(s);
  }
  Backend many(cfg, clock.fn());
  auto ipage = many.describe_instance_information(alice(), ireq);
  ASSERT_TRUE(ipage);
  ASSERT_FALSE(ipage->next_token.empty());
  EXPECT_EQ(many.describe_sessions(alice(), {"Active", 5, ipage->next_token, {}}).error().code,
            "InvalidNextToken");
}

TEST_F(BackendTest, DescribeSessionsFilters) {
  auto first = start();
  clock.advance(10min);
  TimePoint middle = clock.now();
  auto second = start();
  Caller eu = alice("eu-west-1");
  StartSessionRequest req;
  req.target = std::string(kEu);
  ASSERT_TRUE(backend.start_session(eu, req, endpoint));
  backend.set_session_status(second.session_id, SessionStatus::connected);

  auto ids = [&](std::vector<SessionFilter> filters) {
    std::vector<std::string> out;
    for (const auto& s : describe({"Active", std::nullopt, "", filters}, alice()).sessions)
      out.push_back(s.session_id);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({}), (V{second.session_id, first.session_id}));
  EXPECT_EQ(ids({{"Target", std::string(kWeb)}}).size(), 2u);
  EXPECT_EQ(ids({{"Target", std::string(kEu)}}), V{});
  EXPECT_EQ(ids({{"Status", "Connected"}}), V{second.session_id});
  EXPECT_EQ(ids({{"Status", "Connecting"}}), V{first.session_id});
  EXPECT_EQ(ids({{"SessionId", first.session_id}}), V{first.session_id});
  EXPECT_EQ(ids({{"Owner", "arn:aws:iam::111122223333:user/alice"}}).size(), 2u);
  EXPECT_EQ(ids({{"Owner", "alice"}}).size(), 2u);
  EXPECT_EQ(ids({{"Owner", "bob"}}), V{});
  EXPECT_EQ(ids({{"InvokedAfter", format_iso8601(middle)}}), V{second.session_id});
  EXPECT_EQ(ids({{"InvokedBefore", format_iso8601(middle)}}), V{first.session_id});
  EXPECT_EQ(ids({{"InvokedAfter", std::to_string(epoch_millis(middle) / 1000)}}),
            V{second.session_id});
  EXPECT_EQ(ids({{"AccessType", "Standard"}}).size(), 2u);
  EXPECT_EQ(ids({{"AccessType", "JustInTime"}}), V{});
  EXPECT_EQ(ids({{"Target", std::string(kWeb)}, {"Status", "Connected"}}), V{second.session_id});

  auto bad_time =
      backend.describe_sessions(alice(), {"Active", std::nullopt, "", {{"InvokedAfter", "soon"}}});
  EXPECT_EQ(bad_time.error().code, "ValidationException");
  auto bad_status =
      backend.describe_sessions(alice(), {"Active", std::nullopt, "", {{"Status", "Gone"}}});
  EXPECT_EQ(bad_status.error().code, "ValidationException");
  auto bad_key =
      backend.describe_sessions(alice(), {"Active", std::nullopt, "", {{"Color", "red"}}});
  EXPECT_EQ(bad_key.error().code, "InvalidFilterKey");
  auto bad_state = backend.describe_sessions(alice(), {"Bogus", std::nullopt, "", {}});
  EXPECT_EQ(bad_state.error().message,
            "1 validation error detected: Value 'Bogus' at 'state' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Active, History]");
}

TEST_F(BackendTest, DescribeInstancesShowsTheCallersRegionSortedById) {
  auto page = backend.describe_instance_information(alice(), {});
  ASSERT_TRUE(page);
  std::vector<std::string> ids;
  for (const auto& i : page->instances) ids.push_back(i.spec.instance_id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{std::string(kWeb), std::string(kDown), std::string(kAgent)}));
  EXPECT_TRUE(page->next_token.empty());
  const InstanceInfo& web = page->instances[0];
  EXPECT_EQ(web.ping_status, PingStatus::online);
  EXPECT_EQ(web.last_ping, clock.now());
  EXPECT_EQ(web.resource_type, "EC2Instance");
  EXPECT_EQ(web.source_type, "AWS::EC2::Instance");
  EXPECT_EQ(web.spec.computer_name, "ip-127-0-0-1.mock.internal");
  EXPECT_EQ(web.spec.virtual_options.hostname, "ip-127-0-0-1.mock.internal");
  EXPECT_TRUE(web.is_latest_version);
  const InstanceInfo& agent = page->instances[2];
  EXPECT_EQ(agent.resource_type, "ManagedInstance");
  EXPECT_EQ(agent.ping_status, PingStatus::connection_lost);

  auto eu = backend.describe_instance_information(alice("eu-west-1"), {});
  ASSERT_EQ(eu->instances.size(), 1u);
  EXPECT_EQ(eu->instances[0].spec.instance_id, kEu);
  EXPECT_TRUE(backend.describe_instance_information(backend.caller_for("AKIDBOB", "us-east-1"), {})
                  ->instances.empty());
}

TEST_F(BackendTest, DescribeInstancesPaginates) {
  BackendConfig cfg;
  cfg.seed = 1;
  for (int i = 0; i < 23; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "i-%017x", static_cast<unsigned>(i * 7919));
    cfg.instances.push_back(instance(id));
  }
  Backend b(cfg, clock.fn());
  Caller c = b.caller_for("", "");
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    DescribeInstancesRequest req;
    req.max_results = 5;
    req.next_token = token;
    auto page = b.describe_instance_information(c, req);
    ASSERT_TRUE(page);
    EXPECT_LE(page->instances.size(), 5u);
    for (const auto& i : page->instances) seen.push_back(i.spec.instance_id);
    token = page->next_token;
    ++pages;
  } while (!token.empty() && pages < 100);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(seen.size(), 23u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 23u);
  EXPECT_EQ(b.describe_instance_information(c, {{}, {}, std::nullopt, ""})->instances.size(), 23u);
  EXPECT_EQ(b.describe_instance_information(c, {{}, {}, std::nullopt, "garbage"}).error().code,
            "InvalidNextToken");
}

TEST_F(BackendTest, DescribeInstancesFilters) {
  auto ids = [&](std::vector<InstanceFilter> list, std::vector<InstanceFilter> filters) {
    DescribeInstancesRequest req;
    req.instance_information_filter_list = std::move(list);
    req.filters = std::move(filters);
    auto page = backend.describe_instance_information(alice(), req);
    EXPECT_TRUE(page) << (page ? "" : page.error().message);
    std::vector<std::string> out;
    if (page) {
      for (const auto& i : page->instances) out.push_back(i.spec.instance_id);
    }
    return out;
  };
  using V = std::vector<std::string>;
  const std::string web(kWeb), down(kDown), agent(kAgent);
  EXPECT_EQ(ids({{"PingStatus", {"Online"}}}, {}), V{web});
  EXPECT_EQ(ids({}, {{"PingStatus", {"ConnectionLost", "Inactive"}}}), (V{down, agent}));
  EXPECT_EQ(ids({{"PlatformTypes", {"Windows"}}}, {}), V{down});
  EXPECT_EQ(ids({}, {{"ResourceType", {"ManagedInstance"}}}), V{agent});
  EXPECT_EQ(ids({{"InstanceIds", {down, web}}}, {}), (V{web, down}));
  EXPECT_EQ(ids({}, {{"AgentVersion", {"3.3.0.0"}}}).size(), 3u);
  EXPECT_EQ(ids({}, {{"tag:Env", {"prod"}}}), V{web});
  EXPECT_EQ(ids({}, {{"tag:Env", {"prod", "dev"}}}), (V{web, down}));
  EXPECT_EQ(ids({}, {{"tag-key", {"Team"}}}), V{web});
  EXPECT_EQ(ids({}, {{"SourceTypes", {"AWS::SSM::ManagedInstance"}}}), V{agent});
  EXPECT_EQ(ids({}, {{"tag:Env", {"prod"}}, {"PingStatus", {"ConnectionLost"}}}), V{});

  auto err = [&](std::vector<InstanceFilter> list, std::vector<InstanceFilter> filters) {
    auto r = backend.describe_instance_information(alice(), {list, filters, std::nullopt, ""});
    EXPECT_FALSE(r);
    return r ? AwsError{} : r.error();
  };
  EXPECT_EQ(err({{"InstanceIds", {"i-0000000000000000f"}}}, {}).code, "InvalidInstanceId");
  EXPECT_EQ(err({}, {{"InstanceIds", {"bogus"}}}).code, "InvalidInstanceId");
  EXPECT_EQ(err({{"InstanceIds", {std::string(kEu)}}}, {}).code, "InvalidInstanceId");
  AwsError v = err({{"PingStatus", {"Sleeping"}}}, {});
  EXPECT_EQ(v.code, "InvalidInstanceInformationFilterValue");
  EXPECT_EQ(v.message, "The filter value Sleeping is not valid for the filter key PingStatus.");
  EXPECT_EQ(err({}, {{"PlatformTypes", {"BeOS"}}}).code, "InvalidInstanceInformationFilterValue");
  EXPECT_EQ(err({}, {{"Color", {"red"}}}).code, "InvalidFilterKey");
  EXPECT_EQ(err({{"tag:Env", {"prod"}}}, {}).code, "InvalidFilterKey");
}

TEST_F(BackendTest, AgentInstanceIsOnlineOnlyWhileConnected) {
  Caller a = alice();
  EXPECT_EQ(backend.get_connection_status(a, kAgent), ConnectionStatus::not_connected);
  clock.advance(1min);
  EXPECT_TRUE(backend.set_agent_connected(kAgent, true));
  EXPECT_EQ(backend.get_connection_status(a, kAgent), ConnectionStatus::connected);
  auto info = backend.find_instance(kAgent);
  EXPECT_EQ(info->ping_status, PingStatus::online);
  EXPECT_TRUE(info->agent_connected);
  EXPECT_EQ(info->last_ping, clock.now());
  auto c = start(kAgent);
  ASSERT_EQ(recorder.started.size(), 1u);
  EXPECT_EQ(recorder.started[0].kind, InstanceKind::agent);

  // The admin can still take a connected agent offline.
  ASSERT_TRUE(backend.set_ping_status(kAgent, PingStatus::connection_lost));
  EXPECT_EQ(backend.get_connection_status(a, kAgent), ConnectionStatus::not_connected);
  ASSERT_TRUE(backend.set_ping_status(kAgent, PingStatus::online));
  EXPECT_TRUE(backend.set_agent_connected(kAgent, false));
  EXPECT_EQ(backend.find_instance(kAgent)->ping_status, PingStatus::connection_lost);
  EXPECT_FALSE(backend.set_agent_connected("mi-00000000000000000", true));

  EXPECT_EQ(to_string(backend.get_connection_status(a, kWeb)), "Connected");
  EXPECT_EQ(to_string(backend.get_connection_status(a, kDown)), "NotConnected");
  EXPECT_EQ(backend.get_connection_status(a, kEu), ConnectionStatus::not_connected);
}

TEST_F(BackendTest, UpdateInstanceInformationRecordsTheAgentReport) {
  InstanceReport r;
  r.instance_id = std::string(kAgent);
  r.agent_version = "3.3.987.0";
  r.agent_status = "Active";
  r.platform_name = "Debian GNU/Linux";
  r.platform_version = "12";
  r.ip_address = "10.1.2.3";
  r.computer_name = "box";
  r.ssm_connection_channel = "ssmmessages";
  clock.advance(30s);
  ASSERT_TRUE(backend.update_instance_information(alice(), r));
  auto info = backend.find_instance(kAgent);
  EXPECT_EQ(info->spec.agent_version, "3.3.987.0");
  EXPECT_EQ(info->spec.platform_name, "Debian GNU/Linux");
  EXPECT_EQ(info->spec.platform_version, "12");
  EXPECT_EQ(info->spec.platform_type, "Linux");
  EXPECT_EQ(info->spec.ip_address, "10.1.2.3");
  EXPECT_EQ(info->spec.computer_name, "box");
  EXPECT_EQ(info->ssm_connection_channel, "ssmmessages");
  EXPECT_EQ(info->last_ping, clock.now());

  // Unknown well-formed ids are adopted as agents (managed_agents_test.cpp); malformed ones are not.
  r.instance_id = "bogus";
  auto e = backend.update_instance_information(alice(), r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "InvalidInstanceId");
  r.instance_id = std::string(kAgent);
  EXPECT_FALSE(backend.update_instance_information(alice("eu-west-1"), r));
}

TEST_F(BackendTest, AdminAddsRemovesAndSetsPingStatus) {
  InstanceSpec s;
  s.name = "new";
  auto added = backend.add_instance(s);
  ASSERT_TRUE(added);
  EXPECT_TRUE(is_valid_instance_id(added->spec.instance_id));
  EXPECT_EQ(added->spec.account_id, "123456789012");
  EXPECT_EQ(added->spec.region, "us-east-1");
  EXPECT_EQ(added->registration_date, clock.now());

  auto dup = backend.add_instance(instance(kWeb));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().http_status, 409);
  auto bad = backend.add_instance(instance("i-XYZ"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_instance");
  EXPECT_EQ(bad.error().http_status, 400);
  InstanceSpec bad_port = instance("i-00000000000000001");
  bad_port.virtual_options.port_targets[22] = "nohost";
  EXPECT_EQ(backend.add_instance(bad_port).error().code, "invalid_instance");
  InstanceSpec bad_shell = instance("i-00000000000000001");
  bad_shell.virtual_options.shell = "bash";
  EXPECT_EQ(backend.add_instance(bad_shell).error().code, "invalid_instance");

  auto c = start();
  clock.advance(1min);
  auto lost = backend.set_ping_status(kWeb, PingStatus::connection_lost);
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->ping_status, PingStatus::connection_lost);
  EXPECT_EQ(lost->last_ping, clock.now());
  clock.advance(1min);
  EXPECT_EQ(backend.find_instance(kWeb)->last_ping, clock.now() - 1min);
  StartSessionRequest req;
  req.target = std::string(kWeb);
  EXPECT_EQ(start_error(req, alice()).code, "TargetNotConnected");

  ASSERT_TRUE(backend.remove_instance(kWeb));
  ASSERT_EQ(recorder.terminate.size(), 1u);
  EXPECT_EQ(recorder.terminate[0].first, c.session_id);
  EXPECT_EQ(backend.find_session(c.session_id)->status, SessionStatus::terminating);
  EXPECT_FALSE(backend.find_instance(kWeb));
  EXPECT_EQ(backend.remove_instance(kWeb).error().http_status, 404);
  EXPECT_EQ(backend.set_ping_status(kWeb, PingStatus::online).error().code, "not_found");
}

TEST_F(BackendTest, RequestTerminationIsTheAdminTerminate) {
  auto c = start();
  auto r = backend.request_termination(c.session_id, "admin");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, SessionStatus::terminating);
  ASSERT_EQ(recorder.terminate.size(), 1u);
  EXPECT_EQ(recorder.terminate[0].second, "admin");
  EXPECT_EQ(backend.request_termination("nope", "admin").error().http_status, 404);
}

TEST_F(BackendTest, ResetReturnsToTheConfiguredState) {
  auto c = start();
  backend.add_instance(instance("i-00000000000000009"));
  backend.remove_instance(kDown);
  SessionPreferences p;
  p.idle_timeout_minutes = 3;
  ASSERT_TRUE(backend.set_preferences(p));
  backend.record_audit(AuditEvent{});
  recorder.terminate.clear();

  backend.reset();
  EXPECT_EQ(recorder.terminate.size(), 1u);
  EXPECT_EQ(recorder.terminate[0].first, c.session_id);
  EXPECT_FALSE(backend.find_session(c.session_id));
  EXPECT_FALSE(backend.find_instance("i-00000000000000009"));
  EXPECT_TRUE(backend.find_instance(kDown));
  EXPECT_EQ(backend.preferences().idle_timeout_minutes, 20);
  EXPECT_TRUE(backend.audit_lines(10).empty());
  BackendStats s = backend.stats();
  EXPECT_EQ(s.instances, 4u);
  EXPECT_EQ(s.sessions_active, 0u);
  EXPECT_EQ(s.sessions_started, 0u);
}

TEST_F(BackendTest, PreferencesAreValidatedAndApplyToNewSessions) {
  SessionPreferences p;
  p.idle_timeout_minutes = 0;
  EXPECT_EQ(backend.set_preferences(p).error().code, "invalid_preferences");
  p.idle_timeout_minutes = 61;
  EXPECT_FALSE(backend.set_preferences(p));
  p.idle_timeout_minutes = 5;
  p.max_session_duration_minutes = 1441;
  EXPECT_FALSE(backend.set_preferences(p));
  p.max_session_duration_minutes = 30;
  ASSERT_TRUE(backend.set_preferences(p));
  auto c = start();
  EXPECT_EQ(backend.find_session(c.session_id)->idle_timeout_minutes, 5);
  EXPECT_EQ(backend.find_session(c.session_id)->max_session_duration_minutes, 30);
  EXPECT_EQ(recorder.started.back().max_session_duration_minutes, 30);
  EXPECT_EQ(json::parse(
                recorder.started.back().task.document_content_json)["inputs"]["maxSessionDuration"],
            "30");
}

TEST_F(BackendTest, HistoryKeepsOnlyTheConfiguredNumberOfEndedSessions) {
  BackendConfig cfg = test_config();
  cfg.history_capacity = 3;
  Backend b(cfg, clock.fn());
  Caller a = b.caller_for("AKIDALICE", "us-east-1");
  StartSessionRequest req;
  req.target = std::string(kWeb);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto c = b.start_session(a, req, endpoint);
    ASSERT_TRUE(c);
    ids.push_back(c->session_id);
    b.session_ended(c->session_id, SessionStatus::terminated, "");
    clock.advance(1s);
  }
  EXPECT_FALSE(b.find_session(ids[0]));
  EXPECT_FALSE(b.find_session(ids[1]));
  EXPECT_TRUE(b.find_session(ids[2]));
  EXPECT_EQ(b.stats().sessions_history, 3u);
}

TEST_F(BackendTest, SeededBackendsAreReproducible) {
  Backend a(test_config(), clock.fn());
  Backend b(test_config(), clock.fn());
  StartSessionRequest req;
  req.target = std::string(kWeb);
  Caller c = a.caller_for("AKIDALICE", "us-east-1");
  auto x = a.start_session(c, req, endpoint);
  auto y = b.start_session(c, req, endpoint);
  ASSERT_TRUE(x && y);
  EXPECT_EQ(x->session_id, y->session_id);
  EXPECT_EQ(x->token_value, y->token_value);
}

TEST(BackendConfigCheck, ValidateConfigNamesTheProblem) {
  BackendConfig cfg = test_config();
  EXPECT_TRUE(validate_config(cfg));
  cfg.instances.push_back(cfg.instances.front());
  auto dup = validate_config(cfg);
  ASSERT_FALSE(dup);
  EXPECT_NE(dup.error().message.find("configured twice"), std::string::npos);
  cfg = test_config();
  cfg.instances[0].platform_type = "Solaris";
  EXPECT_EQ(validate_config(cfg).error().code, "invalid_instance");
  cfg = test_config();
  cfg.preferences.idle_timeout_minutes = 100;
  EXPECT_EQ(validate_config(cfg).error().code, "invalid_preferences");
  cfg = test_config();
  cfg.accounts.push_back({"", "x", "", "1", "", ""});
  EXPECT_FALSE(validate_config(cfg));
}

TEST(BackendConfigCheck, InstanceIdShapes) {
  EXPECT_TRUE(is_valid_instance_id("i-0123456789abcdef0"));
  EXPECT_TRUE(is_valid_instance_id("i-01234567"));
  EXPECT_TRUE(is_valid_instance_id("mi-0123456789abcdef0"));
  EXPECT_FALSE(is_valid_instance_id("mi-01234567"));
  EXPECT_FALSE(is_valid_instance_id("i-0123456789ABCDEF0"));
  EXPECT_FALSE(is_valid_instance_id("i-0123456789abcdef"));
  EXPECT_FALSE(is_valid_instance_id(""));
  EXPECT_TRUE(is_agent_version("3.3.0.0"));
  EXPECT_TRUE(is_agent_version("2.3.68"));
  EXPECT_FALSE(is_agent_version("3.3"));
  EXPECT_FALSE(is_agent_version("3.3.0.0.1"));
  EXPECT_FALSE(is_agent_version("3..0.0"));
  EXPECT_FALSE(is_agent_version("1234567.0.0"));
  EXPECT_FALSE(is_agent_version("3.3.0.0-beta"));
}

TEST(BackendConcurrency, ParallelCallersKeepCountsConsistent) {
  ManualClock clock;
  Backend b(test_config(), clock.fn());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&b] {
      Caller c = b.caller_for("AKIDALICE", "us-east-1");
      StartSessionRequest req;
      req.target = std::string(kWeb);
      for (int i = 0; i < kPerThread; ++i) {
        auto s = b.start_session(c, req, {});
        if (!s) continue;
        b.set_session_status(s->session_id, SessionStatus::connected);
        b.describe_sessions(c, {"Active", 5, "", {}});
        if (i % 2 == 0) b.session_ended(s->session_id, SessionStatus::terminated, "");
      }
    });
  }
  for (auto& t : threads) t.join();
  BackendStats s = b.stats();
  EXPECT_EQ(s.sessions_started, static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(s.sessions_active, static_cast<std::size_t>(kThreads * kPerThread / 2));
  EXPECT_EQ(s.sessions_history, static_cast<std::size_t>(kThreads * kPerThread / 2));
}

}  // namespace
}  // namespace mocksvc::backend
