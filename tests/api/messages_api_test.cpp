// The ssmmessages REST calls (CreateControlChannel, CreateDataChannel) and the control
// channel's upgrade check, with requests signed the way the agent signs them (agent.md §1, §3).
#include <regex>

#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/wire/channel_xml.hpp"
#include "tests/api/api_fixture.hpp"

namespace mocksvc::api::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAgentBody =
    R"({"MessageSchemaVersion":"1.0","RequestId":"5f0c4e4c-6c0b-4a57-9f47-9d2a0a3c9b1e"})";
constexpr std::string_view kAgentDataBody =
    R"({"MessageSchemaVersion":"1.0","RequestId":"5f0c4e4c-6c0b-4a57-9f47-9d2a0a3c9b1e","ClientId":""})";

backend::BackendConfig agent_config() {
  auto c = api_config();
  for (auto& i : c.instances) {
    if (i.instance_id == kManaged) i.kind = backend::InstanceKind::agent;
  }
  return c;
}

class MessagesApiTest : public ApiTest {
 protected:
  MessagesApiTest() : ApiTest(agent_config()) {}

  // POST as the agent's hand-built REST client sends it: signed headers
  // content-type;host;x-amz-date (agent.md §3).
  auth::HttpRequest channel_request(std::string target, std::string_view body = kAgentBody,
                                    const auth::Credentials& who = kAlice,
                                    std::string_view signing_service = "ssmmessages") {
    auth::HttpRequest r;
    r.method = "POST";
    r.target = std::move(target);
    r.headers = {{"Host", "127.0.0.1:18080"},
                 {"Content-Type", "application/json"},
                 {"User-Agent", "Go-http-client/1.1"},
                 {"Accept-Encoding", "gzip"}};
    r.body = std::string(body);
    auth::SignOptions o;
    o.service = std::string(signing_service);
    o.region = "us-east-1";
    o.now = clock.now();
    o.signed_headers = {"content-type", "host", "x-amz-date"};
    auth::sign_in_place(r, who, o);
    return r;
  }

  std::string agent_session() {
    backend.set_agent_connected(kManaged, true);
    return start_session_id(kManaged);
  }
};

TEST_F(MessagesApiTest, CreateControlChannelAnswers201WithTheTokenInXml) {
  auto r = send(channel_request("/v1/control-channel/" + std::string(kManaged)));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/xml");
  EXPECT_TRUE(r.header("x-amzn-RequestId"));
  std::smatch m;
  ASSERT_TRUE(
      std::regex_match(r.body, m,
                       std::regex("<CreateControlChannelResponse><MessageSchemaVersion>1\\.0</"
                                  "MessageSchemaVersion><TokenValue>([A-Za-z0-9_-]+)</"
                                  "TokenValue></CreateControlChannelResponse>")))
      << r.body;
  EXPECT_TRUE(backend.agents().check_control_channel_token(kManaged, m[1].str()));
  // What the agent's XML reader gets out of it.
  auto reply = wire::parse_channel_token_reply(r.body);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->token_value, m[1].str());
  auto audit = backend.audit_lines(1);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_NE(audit[0].find(R"("eventSource":"ssmmessages.amazonaws.com")"), std::string::npos)
      << audit[0];
  EXPECT_NE(audit[0].find(R"("eventName":"CreateControlChannel")"), std::string::npos);
  EXPECT_EQ(audit[0].find(m[1].str()), std::string::npos) << "tokens stay out of the audit trail";
}

TEST_F(MessagesApiTest, CreateDataChannelAnswers201ForALiveAgentSession) {
  std::string sid = agent_session();
  auto r = send(channel_request("/v1/data-channel/" + sid, kAgentDataBody));
  ASSERT_EQ(r.status, 201) << r.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.body, m,
                               std::regex("<CreateDataChannelResponse><MessageSchemaVersion>1\\.0</"
                                          "MessageSchemaVersion><TokenValue>([A-Za-z0-9_-]+)</"
                                          "TokenValue></CreateDataChannelResponse>")))
      << r.body;
  EXPECT_TRUE(backend.agents().check_data_channel_token(sid, m[1].str(), kManaged));
}

TEST_F(MessagesApiTest, TerminatedSessionGetsTheErrorTheAgentStopsOn) {
  std::string sid = agent_session();
  ASSERT_EQ(call("TerminateSession", R"({"SessionId":")" + sid + R"("})").status, 200);
  auto r = send(channel_request("/v1/data-channel/" + sid, kAgentDataBody));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("Content-Type"), "application/xml");
  EXPECT_EQ(r.body,
            "<BadRequest>\n<ClientErrorMessage>Session is already "
            "terminated</ClientErrorMessage>\n</BadRequest>");
}

TEST_F(MessagesApiTest, AuthenticationFailuresAreAccessDeniedInXml) {
  auto expect_denied = [](const HttpResponse& r) {
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_EQ(r.header("x-amzn-ErrorType"), "AccessDeniedException");
    EXPECT_EQ(r.body.rfind("<AccessDeniedException><Message>", 0), 0u) << r.body;
    const std::string tail = "</Message></AccessDeniedException>";
    ASSERT_GE(r.body.size(), tail.size());
    EXPECT_EQ(r.body.substr(r.body.size() - tail.size()), tail);
  };
  const std::string path = "/v1/control-channel/" + std::string(kManaged);
  expect_denied(send(channel_request(path, kAgentBody, {"AKIDALICE", "wrong-secret", ""})));
  expect_denied(send(channel_request(path, kAgentBody, {"AKIDNOBODY", "secret", ""})));
  expect_denied(send(channel_request(path, kAgentBody, kAlice, "ssm")));  // wrong service scope
  auto unsigned_request = channel_request(path);
  unsigned_request.remove_header("Authorization");
  expect_denied(send(unsigned_request));
  auto tampered = channel_request(path);
  tampered.body = R"({"MessageSchemaVersion":"1.0","RequestId":"another-request-id-0000"})";
  expect_denied(send(tampered));
  // A session token credential signs like the agent with AWS_SESSION_TOKEN set.
  EXPECT_EQ(send(channel_request(path, kAgentBody, kTemp)).status, 201);
}

TEST_F(MessagesApiTest, InstancesTheCallerMayNotUseAreAccessDenied) {
  auto virt = send(channel_request("/v1/control-channel/" + std::string(kWeb)));
  EXPECT_EQ(virt.status, 403);
  EXPECT_NE(virt.body.find("built-in agent"), std::string::npos) << virt.body;
  auto eu = send(channel_request("/v1/control-channel/" + std::string(kEu)));
  EXPECT_EQ(eu.status, 403);
}

TEST_F(MessagesApiTest, AnUnknownWellFormedIdShowsUpAsAnAgentInstance) {
  auto r = send(channel_request("/v1/control-channel/mi-0ccccccccccccccc1"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto list = call(
      "DescribeInstanceInformation",
      R"({"InstanceInformationFilterList":[{"key":"InstanceIds","valueSet":["mi-0ccccccccccccccc1"]}]})");
  ASSERT_EQ(list.status, 200) << list.body;
  auto j = body_of(list)["InstanceInformationList"];
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["PingStatus"], "ConnectionLost");
  EXPECT_EQ(j[0]["ResourceType"], "ManagedInstance");
}

TEST_F(MessagesApiTest, MalformedRequestsAreBadRequests) {
  const std::string path = "/v1/control-channel/" + std::string(kManaged);
  for (std::string_view body :
       {std::string_view("not json"), std::string_view("[]"),
        std::string_view(R"({"RequestId":"x"})"),
        std::string_view(R"({"MessageSchemaVersion":1,"RequestId":"x"})"),
        std::string_view(R"({"MessageSchemaVersion":"1.0","RequestId":"x","ClientId":7})")}) {
    auto r = send(channel_request(path, body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body.rfind("<BadRequest>\n<ClientErrorMessage>", 0), 0u) << r.body;
  }
  auto empty_id = send(channel_request("/v1/control-channel/%2F"));
  EXPECT_EQ(empty_id.status, 400);
  auto unknown_session =
      send(channel_request("/v1/data-channel/alice-00000000000000000", kAgentDataBody));
  EXPECT_EQ(unknown_session.status, 400);
  auto get = channel_request(path);
  get.method = "GET";
  EXPECT_EQ(send(get).status, 405);
}

TEST_F(MessagesApiTest, ControlChannelUpgradeIsCheckedWithItsQueryInTheCanonicalRequest) {
  auto upgrade = [&](const auth::Credentials& who) {
    auth::HttpRequest r;
    r.method = "GET";
    r.target = "/v1/control-channel/" + std::string(kManaged) + "?role=subscribe&stream=input";
    r.headers = {{"Host", "127.0.0.1:18080"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
    auth::SignOptions o;
    o.service = "ssmmessages";
    o.region = "us-east-1";
    o.now = clock.now();
    o.signed_headers = {"host", "x-amz-date"};
    auth::sign_in_place(r, who, o);
    return r;
  };
  EXPECT_FALSE(service.messages().check_control_channel_upgrade(upgrade(kAlice)));
  auto bad = service.messages().check_control_channel_upgrade(upgrade({"AKIDALICE", "nope", ""}));
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 403);
  EXPECT_EQ(bad->body.rfind("<AccessDeniedException>", 0), 0u);
  auto changed_query = upgrade(kAlice);
  changed_query.target =
      "/v1/control-channel/" + std::string(kManaged) + "?role=publish_subscribe&stream=input";
  EXPECT_TRUE(service.messages().check_control_channel_upgrade(changed_query));
  auto unsigned_upgrade = upgrade(kAlice);
  unsigned_upgrade.remove_header("Authorization");
  EXPECT_TRUE(service.messages().check_control_channel_upgrade(unsigned_upgrade));
}

TEST_F(MessagesApiTest, PathHelpersFindTheIdAfterThePrefix) {
  EXPECT_TRUE(is_messages_path("/v1/control-channel/mi-1"));
  EXPECT_TRUE(is_messages_path("/v1/data-channel/s-1"));
  EXPECT_FALSE(is_messages_path("/v1/control-channel/"));
  EXPECT_FALSE(is_messages_path("/"));
  EXPECT_EQ(channel_id("/v1/data-channel/a%2Db", kDataChannelPath), "a-b");
  EXPECT_FALSE(channel_id("/v1/data-channel/a/b", kDataChannelPath));
  EXPECT_FALSE(channel_id("/v1/control-channel/x", kDataChannelPath));
}

}  // namespace
}  // namespace mocksvc::api::testing
