#include <regex>
#include <set>

#include "tests/api/api_fixture.hpp"

namespace mocksvc::api::testing {
namespace {

using V = std::vector<std::string>;
using namespace std::chrono_literals;

// ---- Success shapes ----

TEST_F(ApiTest, StartSessionAnswersWithTheThreeFieldsAndJson11Headers) {
  auto r = call(
      "StartSession",
      R"({"Target": "i-0123456789abcdef0", "DocumentName": "AWS-StartPortForwardingSession",)"
      R"( "Parameters": {"portNumber": ["80"], "localPortNumber": ["8080"]}, "Reason": "test"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/x-amz-json-1.1");
  auto rid = r.header("x-amzn-RequestId");
  ASSERT_TRUE(rid);
  EXPECT_TRUE(std::regex_match(
      std::string(*rid),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_FALSE(r.header("x-amzn-ErrorType"));
  EXPECT_EQ(keys(r.body), (V{"SessionId", "TokenValue", "StreamUrl"}));
  json j = body_of(r);
  std::string id = j["SessionId"];
  EXPECT_TRUE(std::regex_match(id, std::regex("alice-[0-9a-f]{17}")));
  EXPECT_EQ(j["StreamUrl"].get<std::string>().rfind("wss://ssm.example:8443/v1/data-channel/" + id +
                                                        "?role=publish_subscribe&cell-number=",
                                                    0),
            0u);
  auto info = backend.find_session(id);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->reason, "test");
  EXPECT_EQ(info->document_name, "AWS-StartPortForwardingSession");
  EXPECT_EQ(json::parse(info->parameters_json)["localPortNumber"], "8080");
}

TEST_F(ApiTest, StreamUrlFollowsHowTheRequestArrived) {
  context = {"127.0.0.1", false, ""};  // plain HTTP, no Host known to net: use the header
  auto r = call("StartSession", R"({"Target":"i-0123456789abcdef0"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(
      body_of(r)["StreamUrl"].get<std::string>().rfind("ws://127.0.0.1:18080/v1/data-channel/", 0),
      0u);
}

TEST_F(ApiTest, ResumeAndTerminateSessionShapes) {
  std::string id = start_session_id();
  auto resumed = call("ResumeSession", R"({"SessionId":")" + id + R"("})");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(keys(resumed.body), (V{"SessionId", "TokenValue", "StreamUrl"}));
  EXPECT_EQ(body_of(resumed)["SessionId"], id);

  auto terminated = call("TerminateSession", R"({"SessionId":")" + id + R"("})");
  ASSERT_EQ(terminated.status, 200);
  EXPECT_EQ(terminated.body, R"({"SessionId":")" + id + R"("})");
  EXPECT_EQ(backend.find_session(id)->status, backend::SessionStatus::terminating);
  backend.session_ended(id, backend::SessionStatus::terminated, "");

  auto gone = call("ResumeSession", R"({"SessionId":")" + id + R"("})");
  EXPECT_EQ(expect_error(gone, "DoesNotExistException"),
            "Session with id " + id + " does not exist or is already terminated.");
}

TEST_F(ApiTest, DescribeSessionsShapeForActiveAndHistory) {
  std::string id = start_session_id();
  auto active = call("DescribeSessions", R"({"State":"Active"})");
  ASSERT_EQ(active.status, 200) << active.body;
  EXPECT_EQ(keys(active.body), V{"Sessions"});
  ojson s = ojson::parse(active.body)["Sessions"][0];
  EXPECT_EQ(keys_of(s), (V{"SessionId", "Target", "Status", "StartDate", "DocumentName", "Owner",
                           "OutputUrl", "AccessType"}));
  EXPECT_EQ(s["SessionId"], id);
  EXPECT_EQ(s["Target"], kWeb);
  EXPECT_EQ(s["Status"], "Connecting");
  EXPECT_TRUE(s["StartDate"].is_number());
  EXPECT_DOUBLE_EQ(s["StartDate"].get<double>(), 1795499663.0);
  EXPECT_EQ(s["DocumentName"], "SSM-SessionManagerRunShell");
  EXPECT_EQ(s["Owner"], "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(s["OutputUrl"], ojson::object());

  clock.advance(90500ms);
  backend.session_ended(id, backend::SessionStatus::terminated, "");
  auto history = call("DescribeSessions", R"({"State":"History"})");
  ojson h = ojson::parse(history.body)["Sessions"][0];
  EXPECT_EQ(keys_of(h), (V{"SessionId", "Target", "Status", "StartDate", "EndDate", "DocumentName",
                           "Owner", "OutputUrl", "AccessType"}));
  EXPECT_EQ(h["Status"], "Terminated");
  EXPECT_DOUBLE_EQ(h["EndDate"].get<double>(), 1795499753.5);
  EXPECT_EQ(body_of(call("DescribeSessions", R"({"State":"Active"})"))["Sessions"], json::array());
}

TEST_F(ApiTest, DescribeSessionsShowsReasonAndMaxSessionDuration) {
  backend::SessionPreferences p;
  p.max_session_duration_minutes = 60;
  ASSERT_TRUE(backend.set_preferences(p));
  ASSERT_EQ(call("StartSession", R"({"Target":"i-0123456789abcdef0","Reason":"on call"})").status,
            200);
  json s = body_of(call("DescribeSessions", R"({"State":"Active"})"))["Sessions"][0];
  EXPECT_EQ(s["Reason"], "on call");
  EXPECT_EQ(s["MaxSessionDuration"], "60");
}

TEST_F(ApiTest, DescribeSessionsPaginationRoundTrips) {
  std::set<std::string> started;
  for (int i = 0; i < 12; ++i) {
    started.insert(start_session_id());
    clock.advance(1s);
  }
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    json req = {{"State", "Active"}, {"MaxResults", 5}};
    if (!token.empty()) req["NextToken"] = token;
    auto r = call("DescribeSessions", req.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    json j = body_of(r);
    for (const auto& s : j["Sessions"]) seen.insert(s["SessionId"].get<std::string>());
    token = j.value("NextToken", std::string());
    ++pages;
  } while (!token.empty() && pages < 50);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, started);

  auto bad = call("DescribeSessions", R"({"State":"Active","NextToken":"Zm9vYmFy"})");
  expect_error(bad, "InvalidNextToken");
}

TEST_F(ApiTest, DescribeSessionsFiltersGoThroughToTheBackend) {
  std::string id = start_session_id();
  start_session_id();
  auto r = call("DescribeSessions",
                R"({"State":"Active","Filters":[{"key":"SessionId","value":")" + id + R"("}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(body_of(r)["Sessions"].size(), 1u);
  auto bad_time = call("DescribeSessions",
                       R"({"State":"Active","Filters":[{"key":"InvokedAfter","value":"later"}]})");
  expect_error(bad_time, "ValidationException");
}

TEST_F(ApiTest, GetConnectionStatusShape) {
  auto up = call("GetConnectionStatus", R"({"Target":"i-0123456789abcdef0"})");
  EXPECT_EQ(up.body, R"({"Target":"i-0123456789abcdef0","Status":"Connected"})");
  auto down = call("GetConnectionStatus", R"({"Target":"i-0aaaaaaaaaaaaaaaa"})");
  EXPECT_EQ(down.body, R"({"Target":"i-0aaaaaaaaaaaaaaaa","Status":"NotConnected"})");
}

TEST_F(ApiTest, DescribeInstanceInformationShape) {
  auto r = call("DescribeInstanceInformation", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(keys(r.body), V{"InstanceInformationList"});
  ojson list = ojson::parse(r.body)["InstanceInformationList"];
  ASSERT_EQ(list.size(), 3u);
  ojson web = list[0];
  EXPECT_EQ(keys_of(web),
            (V{"InstanceId", "PingStatus", "LastPingDateTime", "AgentVersion", "IsLatestVersion",
               "PlatformType", "PlatformName", "PlatformVersion", "ResourceType", "Name",
               "IPAddress", "ComputerName", "SourceId", "SourceType"}));
  EXPECT_EQ(web["InstanceId"], kWeb);
  EXPECT_EQ(web["PingStatus"], "Online");
  EXPECT_DOUBLE_EQ(web["LastPingDateTime"].get<double>(), 1795499663.0);
  EXPECT_EQ(web["AgentVersion"], "3.3.0.0");
  EXPECT_EQ(web["IsLatestVersion"], true);
  EXPECT_EQ(web["PlatformType"], "Linux");
  EXPECT_EQ(web["ResourceType"], "EC2Instance");
  EXPECT_EQ(web["IPAddress"], "10.0.0.5");
  EXPECT_EQ(web["ComputerName"], "web.internal");
  EXPECT_EQ(web["SourceType"], "AWS::EC2::Instance");
  ojson managed = list[2];
  EXPECT_EQ(keys_of(managed),
            (V{"InstanceId", "PingStatus", "LastPingDateTime", "AgentVersion", "IsLatestVersion",
               "PlatformType", "PlatformName", "PlatformVersion", "ActivationId", "IamRole",
               "RegistrationDate", "ResourceType", "IPAddress", "ComputerName", "SourceId",
               "SourceType"}));
  EXPECT_EQ(managed["ResourceType"], "ManagedInstance");
  EXPECT_EQ(managed["SourceType"], "AWS::SSM::ManagedInstance");
}

TEST_F(ApiTest, DescribeInstanceInformationFiltersAndPages) {
  auto r = call("DescribeInstanceInformation",
                R"({"Filters":[{"Key":"PingStatus","Values":["ConnectionLost"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(body_of(r)["InstanceInformationList"].size(), 1u);
  EXPECT_EQ(body_of(r)["InstanceInformationList"][0]["InstanceId"], kDown);
  auto legacy = call(
      "DescribeInstanceInformation",
      R"({"InstanceInformationFilterList":[{"key":"InstanceIds","valueSet":["mi-0123456789abcdef0"]}]})");
  ASSERT_EQ(body_of(legacy)["InstanceInformationList"].size(), 1u);
  expect_error(
      call("DescribeInstanceInformation", R"({"Filters":[{"Key":"Color","Values":["red"]}]})"),
      "InvalidFilterKey");
  expect_error(call("DescribeInstanceInformation",
                    R"({"Filters":[{"Key":"PingStatus","Values":["Asleep"]}]})"),
               "InvalidInstanceInformationFilterValue");
  expect_error(call("DescribeInstanceInformation",
                    R"({"Filters":[{"Key":"InstanceIds","Values":["i-0ffffffffffffffff"]}]})"),
               "InvalidInstanceId");

  auto page = call("DescribeInstanceInformation", R"({"MaxResults":5})");
  EXPECT_FALSE(body_of(page).contains("NextToken"));
  expect_error(call("DescribeInstanceInformation", R"({"MaxResults":5,"NextToken":"nope"})"),
               "InvalidNextToken");
}

TEST_F(ApiTest, AgentCallsWhileIdle) {
  auto u = call(
      "UpdateInstanceInformation",
      R"({"AgentName":"amazon-ssm-agent","AgentStatus":"Active","AgentVersion":"3.3.0.0",)"
      R"("AvailabilityZone":"","AvailabilityZoneId":"","ComputerName":"box","IPAddress":"10.9.9.9",)"
      R"("InstanceId":"mi-0123456789abcdef0","PlatformName":"Debian GNU/Linux","PlatformType":"Linux",)"
      R"("PlatformVersion":"12","SSMConnectionChannel":""})");
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(u.body, "{}");
  EXPECT_EQ(backend.find_instance(kManaged)->spec.ip_address, "10.9.9.9");
  // An unknown, well-formed id is a real agent's first contact: it is adopted (agent.md §7).
  auto adopted = call("UpdateInstanceInformation", R"({"InstanceId":"mi-0fffffffffffffff0"})");
  ASSERT_EQ(adopted.status, 200) << adopted.body;
  auto fresh = backend.find_instance("mi-0fffffffffffffff0");
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(fresh->spec.kind, backend::InstanceKind::agent);
  EXPECT_EQ(fresh->spec.account_id, "111122223333");
  // One that passes the API pattern but is no hex id is not.
  expect_error(call("UpdateInstanceInformation", R"({"InstanceId":"mi-zzzzzzzzzzzzzzzzz"})"),
               "InvalidInstanceId");
  EXPECT_FALSE(backend.find_instance("mi-zzzzzzzzzzzzzzzzz").has_value());

  auto l =
      call("ListInstanceAssociations", R"({"InstanceId":"mi-0123456789abcdef0","MaxResults":20})");
  ASSERT_EQ(l.status, 200);
  EXPECT_EQ(l.body, R"({"Associations":[]})");

  auto g = json_request(
      "EC2WindowsMessageDeliveryService.GetMessages",
      R"({"Destination":"mi-0123456789abcdef0","MessagesRequestId":"0b6b3b7e-1111-4222-8333-444455556666","VisibilityTimeoutInSeconds":10})");
  sign(g, kAlice, "us-east-1", "ec2messages");
  auto got = send(g);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(
      got.body,
      R"({"Destination":"mi-0123456789abcdef0","Messages":[],"MessagesRequestId":"0b6b3b7e-1111-4222-8333-444455556666"})");
  for (const char* op : {"AcknowledgeMessage", "DeleteMessage"}) {
    auto a = json_request(std::string("EC2WindowsMessageDeliveryService.") + op,
                          R"({"MessageId":"m-1"})");
    sign(a, kAlice, "us-east-1", "ec2messages");
    auto res = send(a);
    EXPECT_EQ(res.status, 200) << op << res.body;
    EXPECT_EQ(res.body, "{}");
  }
  auto audit = json::parse(backend.audit_lines(1).at(0));
  EXPECT_EQ(audit["eventSource"], "ec2messages.amazonaws.com");
}

// ---- Input validation ----

TEST_F(ApiTest, ServerRejectsWhatAwscliDoesNotCheck) {
  auto r = call("DescribeSessions", R"({"State":"Bogus","MaxResults":500})");
  EXPECT_EQ(expect_error(r, "ValidationException"),
            "2 validation errors detected: Value 'Bogus' at 'state' failed to satisfy constraint: "
            "Member must satisfy enum value set: [Active, History]; Value '500' at 'maxResults' "
            "failed to satisfy constraint: Member must have value less than or equal to 200");
}

TEST_F(ApiTest, ValidationMessagesFollowAwsWording) {
  struct Case {
    std::string op;
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"StartSession", "{}",
       "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member "
       "must not be null"},
      {"StartSession", R"({"Target":""})",
       "1 validation error detected: Value '' at 'target' failed to satisfy constraint: Member "
       "must have length greater than or equal to 1"},
      {"StartSession", R"({"Target":")" + std::string(401, 'x') + R"("})",
       "1 validation error detected: Value '" + std::string(401, 'x') +
           "' at 'target' failed to satisfy constraint: Member must have length less than or equal "
           "to 400"},
      {"StartSession", R"({"Target":"i-0123456789abcdef0","DocumentName":"bad name"})",
       "1 validation error detected: Value 'bad name' at 'documentName' failed to satisfy "
       "constraint: "
       "Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$"},
      {"StartSession", R"({"Target":"i-0123456789abcdef0","Reason":"two\nlines"})",
       "1 validation error detected: Value 'two\nlines' at 'reason' failed to satisfy constraint: "
       "Member must satisfy regular expression pattern: ^.{1,256}$"},
      {"StartSession", R"({"Target":"i-0123456789abcdef0","Parameters":{"portNumber":[""]}})",
       "1 validation error detected: Value '{portNumber=[]}' at 'parameters' failed to satisfy "
       "constraint: "
       "Map value must satisfy constraint: [Member must satisfy constraint: [Member must have "
       "length greater than or equal to 1]]"},
      {"DescribeSessions", R"({"State":"Active","MaxResults":0})",
       "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: "
       "Member must have value greater than or equal to 1"},
      {"DescribeSessions", R"({"State":"Active","Filters":[{"key":"Color","value":"red"}]})",
       "1 validation error detected: Value 'Color' at 'filters.1.member.key' failed to satisfy "
       "constraint: "
       "Member must satisfy enum value set: [InvokedAfter, InvokedBefore, Target, Owner, Status, "
       "SessionId, AccessType]"},
      {"DescribeSessions", R"({"State":"Active","Filters":[{"key":"Target"}]})",
       "1 validation error detected: Value null at 'filters.1.member.value' failed to satisfy "
       "constraint: Member must not be null"},
      {"DescribeSessions", R"({"State":"Active","Filters":[]})",
       "1 validation error detected: Value '[]' at 'filters' failed to satisfy constraint: Member "
       "must have length greater than or equal to 1"},
      {"DescribeInstanceInformation", R"({"MaxResults":4})",
       "1 validation error detected: Value '4' at 'maxResults' failed to satisfy constraint: "
       "Member must have value greater than or equal to 5"},
      {"DescribeInstanceInformation", R"({"Filters":[{"Key":"PingStatus","Values":[]}]})",
       "1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy "
       "constraint: Member must have length greater than or equal to 1"},
      {"ResumeSession", R"({"SessionId":")" + std::string(97, 's') + R"("})",
       "1 validation error detected: Value '" + std::string(97, 's') +
           "' at 'sessionId' failed to satisfy constraint: Member must have length less than or "
           "equal to 96"},
      {"UpdateInstanceInformation", R"({"InstanceId":"box"})",
       "1 validation error detected: Value 'box' at 'instanceId' failed to satisfy constraint: "
       "Member must satisfy regular expression pattern: (^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)"},
  };
  for (const auto& c : cases) {
    auto r = call(c.op, c.body);
    EXPECT_EQ(expect_error(r, "ValidationException"), c.message) << c.op << " " << c.body;
  }
  EXPECT_TRUE(backend.list_sessions().empty());
}

TEST_F(ApiTest, SevenFiltersAreTooMany) {
  json filters = json::array();
  for (int i = 0; i < 7; ++i)
    filters.push_back({{"key", "Target"}, {"value", "i-0123456789abcdef0"}});
  auto r = call("DescribeSessions", json{{"State", "Active"}, {"Filters", filters}}.dump());
  std::string msg = expect_error(r, "ValidationException");
  EXPECT_NE(msg.find("at 'filters' failed to satisfy constraint: Member must have length less than "
                     "or equal to 6"),
            std::string::npos)
      << msg;
}

TEST_F(ApiTest, WrongJsonTypesAreSerializationErrors) {
  struct Case {
    std::string op;
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"DescribeSessions", R"({"State":"Active","MaxResults":"5"})",
       "STRING_VALUE can not be converted to an Integer"},
      {"DescribeSessions", R"({"State":"Active","MaxResults":5.5})",
       "NUMBER_VALUE can not be converted to an Integer"},
      {"StartSession", R"({"Target":{"id":1}})",
       "Start of structure or map found where not expected."},
      {"StartSession", R"({"Target":["i-1"]})", "Start of list found where not expected"},
      {"StartSession", R"({"Target":5})", "NUMBER_VALUE can not be converted to a String"},
      {"StartSession", R"({"Target":"i-0123456789abcdef0","Parameters":{"portNumber":"80"}})",
       "STRING_VALUE can not be converted to a List"},
      {"DescribeSessions", "not json", "The request body is not valid JSON."},
      {"DescribeSessions", "[1,2]", "The request body must be a JSON object."},
      {"DescribeSessions", "\"Active\"", "The request body must be a JSON object."},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(expect_error(call(c.op, c.body), "SerializationException"), c.message) << c.body;
  }
}

TEST_F(ApiTest, HostileBodiesAreRefusedWithoutCrashing) {
  std::string deep =
      R"({"State":"Active","Filters":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(expect_error(call("DescribeSessions", deep), "SerializationException"),
            "The request body nests too deeply.");
  // Brackets inside strings do not count.
  std::string quoted = R"({"State":"Active","NextToken":")" + std::string(1000, '[') + R"("})";
  expect_error(call("DescribeSessions", quoted), "InvalidNextToken");
  EXPECT_EQ(
      expect_error(
          call("DescribeSessions", R"({"State":"Active","MaxResults":18446744073709551615})"),
          "ValidationException"),
      "1 validation error detected: Value '18446744073709551615' at 'maxResults' failed to satisfy "
      "constraint: Member must have value less than or equal to 200");
  std::string invalid_utf8 = "{\"Target\":\"i-\xff\xfe\"}";
  expect_error(call("StartSession", invalid_utf8), "SerializationException");
}

TEST_F(ApiTest, AStrangeHostHeaderDoesNotReachTheStreamUrl) {
  context.host = "evil.example/path?x=";
  auto r = call("StartSession", R"({"Target":"i-0123456789abcdef0"})");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["StreamUrl"].get<std::string>().rfind("wss://127.0.0.1/v1/data-channel/", 0),
            0u);
  context.host = "[::1]:8443";
  r = call("StartSession", R"({"Target":"i-0123456789abcdef0"})");
  EXPECT_EQ(
      body_of(r)["StreamUrl"].get<std::string>().rfind("wss://[::1]:8443/v1/data-channel/", 0), 0u);
}

TEST_F(ApiTest, EmptyBodyMeansNoParametersAndNullsAreAbsent) {
  EXPECT_EQ(call("DescribeInstanceInformation", "").status, 200);
  EXPECT_EQ(call("DescribeInstanceInformation", R"({"MaxResults":null,"NextToken":null})").status,
            200);
  EXPECT_EQ(call("DescribeSessions", R"({"State":"Active","Unknown":{"x":1}})").status, 200);
}

// ---- Requests that never reach an operation ----

TEST_F(ApiTest, OperationsWeDoNotServeAreUnknown) {
  expect_error(call("SendCommand", R"({"InstanceIds":["i-0123456789abcdef0"]})"),
               "UnknownOperationException");
  expect_error(call("GetMessages", "{}"), "UnknownOperationException");  // not an AmazonSSM op

  for (const char* target :
       {"", "AmazonSSM", "AmazonSSM.", "DynamoDB_20120810.ListTables", "amazonssm.StartSession"}) {
    auto r = json_request(target, "{}");
    sign(r);
    expect_error(send(r), "UnknownOperationException");
  }
  auto no_header = json_request("x", "{}");
  no_header.remove_header("X-Amz-Target");
  sign(no_header);
  expect_error(send(no_header), "UnknownOperationException");
}

TEST_F(ApiTest, OnlyPostToTheRootIsAnApiCall) {
  auto get = json_request("AmazonSSM.DescribeSessions", "");
  get.method = "GET";
  sign(get);
  expect_error(send(get), "UnknownOperationException");
  auto path = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  path.target = "/v2/sessions";
  sign(path);
  expect_error(send(path), "UnknownOperationException", 404);
}

TEST_F(ApiTest, ContentTypeMustBeJson) {
  auto r = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  r.set_header("Content-Type", "text/plain");
  sign(r);
  expect_error(send(r), "UnknownOperationException");
  for (const char* ok : {"application/x-amz-json-1.0", "application/json",
                         "application/x-amz-json-1.1; charset=utf-8"}) {
    auto a = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
    a.set_header("Content-Type", ok);
    sign(a);
    EXPECT_EQ(send(a).status, 200) << ok;
  }
}

// ---- Authentication ----

TEST_F(ApiTest, UnsignedRequestsAreRefused) {
  auto r = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  EXPECT_EQ(expect_error(send(r), "MissingAuthenticationTokenException"),
            "Missing Authentication Token");
}

TEST_F(ApiTest, UnknownKeysWrongSecretsAndTamperingAreRefused) {
  auto unknown = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(unknown, {"AKIDNOBODY", "whatever", ""});
  EXPECT_EQ(expect_error(send(unknown), "UnrecognizedClientException"),
            "The security token included in the request is invalid.");

  auto wrong = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(wrong, {"AKIDALICE", "not-alices-secret", ""});
  expect_error(send(wrong), "InvalidSignatureException");

  auto tampered = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(tampered);
  tampered.body = R"({"State":"History"})";
  expect_error(send(tampered), "InvalidSignatureException");

  auto wrong_service = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(wrong_service, kAlice, "us-east-1", "ssmmessages");
  expect_error(send(wrong_service), "InvalidSignatureException");

  auto old = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(old);
  clock.advance(20min);
  expect_error(send(old), "InvalidSignatureException");
  EXPECT_TRUE(backend.list_sessions().empty());
}

TEST_F(ApiTest, SessionCredentialsNeedTheirToken) {
  auto ok = json_request("AmazonSSM.StartSession", R"({"Target":"i-0123456789abcdef0"})");
  sign(ok, kTemp);
  auto r = send(ok);
  ASSERT_EQ(r.status, 200) << r.body;
  // Owner and session id prefix come from the configured role session.
  std::string id = body_of(r)["SessionId"];
  EXPECT_EQ(id.rfind("ASIATEMP-", 0), 0u);
  EXPECT_EQ(backend.find_session(id)->owner, "arn:aws:sts::111122223333:assumed-role/Dev/temp");

  auto no_token = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(no_token, {"ASIATEMP", "temp-secret", ""});
  expect_error(send(no_token), "UnrecognizedClientException");
}

TEST_F(ApiTest, RegionComesFromTheCredentialScope) {
  auto eu = call("StartSession", R"({"Target":"i-0bbbbbbbbbbbbbbbb"})", "eu-west-1");
  ASSERT_EQ(eu.status, 200) << eu.body;
  std::string id = body_of(eu)["SessionId"];
  EXPECT_EQ(backend.find_session(id)->region, "eu-west-1");
  EXPECT_EQ(expect_error(call("StartSession", R"({"Target":"i-0bbbbbbbbbbbbbbbb"})"),
                         "TargetNotConnected"),
            "i-0bbbbbbbbbbbbbbbb is not connected.");
  EXPECT_EQ(body_of(call("DescribeSessions", R"({"State":"Active"})"))["Sessions"].size(), 0u);
  EXPECT_EQ(
      body_of(call("DescribeSessions", R"({"State":"Active"})", "eu-west-1"))["Sessions"].size(),
      1u);
  auto list =
      body_of(call("DescribeInstanceInformation", "{}", "eu-west-1"))["InstanceInformationList"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["InstanceId"], kEu);
  expect_error(call("ResumeSession", R"({"SessionId":")" + id + R"("})"), "DoesNotExistException");
}

class NoAutoRegisterTest : public ApiTest {
 protected:
  static backend::BackendConfig config() {
    auto c = api_config();
    c.auto_register_agents = false;
    return c;
  }
  NoAutoRegisterTest() : ApiTest(config()) {}
};

TEST_F(NoAutoRegisterTest, UnknownAgentsAreInvalidInstanceIds) {
  expect_error(call("UpdateInstanceInformation", R"({"InstanceId":"mi-0fffffffffffffff0"})"),
               "InvalidInstanceId");
  EXPECT_FALSE(backend.find_instance("mi-0fffffffffffffff0").has_value());
  auto known = call("UpdateInstanceInformation", R"({"InstanceId":"mi-0123456789abcdef0"})");
  EXPECT_EQ(known.status, 200) << known.body;
}

class AnyCredentialsTest : public ApiTest {
 protected:
  static backend::BackendConfig config() {
    auto c = api_config();
    c.accept_any_credentials = true;
    return c;
  }
  AnyCredentialsTest() : ApiTest(config()) {}
};

TEST_F(AnyCredentialsTest, AnySignatureIsAcceptedButTheScopeStillCounts) {
  auto r = json_request("AmazonSSM.DescribeInstanceInformation", "{}");
  r.set_header("Authorization",
               "AWS4-HMAC-SHA256 Credential=AKIDANYONE/20261124/eu-west-1/ssm/aws4_request, "
               "SignedHeaders=host;x-amz-date, Signature=0000");
  auto res = send(r);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(body_of(res)["InstanceInformationList"].size(), 0u);  // default account, not alice's

  // Alice's key is still alice's account, even with a wrong secret.
  auto alice = json_request("AmazonSSM.StartSession", R"({"Target":"i-0bbbbbbbbbbbbbbbb"})");
  sign(alice, {"AKIDALICE", "wrong", ""}, "eu-west-1");
  auto started = send(alice);
  ASSERT_EQ(started.status, 200) << started.body;

  auto bare = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  EXPECT_EQ(send(bare).status, 200);
  auto audit = json::parse(backend.audit_lines(1).at(0));
  EXPECT_EQ(audit["awsRegion"], "us-east-1");
  EXPECT_EQ(audit["userIdentity"]["accountId"], "123456789012");
}

// ---- Audit ----

TEST_F(ApiTest, EveryCallIsAudited) {
  auto r = call("StartSession", R"({"Target":"i-0123456789abcdef0"})");
  ASSERT_EQ(r.status, 200);
  json a = json::parse(backend.audit_lines(1).at(0));
  EXPECT_EQ(a["eventName"], "StartSession");
  EXPECT_EQ(a["eventSource"], "ssm.amazonaws.com");
  EXPECT_EQ(a["requestID"], std::string(*r.header("x-amzn-RequestId")));
  EXPECT_EQ(a["sourceIPAddress"], "192.0.2.10");
  EXPECT_EQ(a["userAgent"], "aws-cli/2.9.19 Python/3.11.2 command/ssm.test");
  EXPECT_EQ(a["awsRegion"], "us-east-1");
  EXPECT_EQ(a["userIdentity"]["accessKeyId"], "AKIDALICE");
  EXPECT_EQ(a["requestParameters"], json::parse(R"({"target":"i-0123456789abcdef0"})"));
  EXPECT_EQ(a["responseElements"]["sessionId"], body_of(r)["SessionId"]);
  EXPECT_EQ(a["responseElements"]["tokenValue"], "Value hidden due to security reasons.");
  EXPECT_EQ(backend.audit_lines(1).at(0).find(body_of(r)["TokenValue"].get<std::string>()),
            std::string::npos);

  call("StartSession", R"({"Target":"i-0aaaaaaaaaaaaaaaa"})");
  json e = json::parse(backend.audit_lines(1).at(0));
  EXPECT_EQ(e["errorCode"], "TargetNotConnected");
  EXPECT_TRUE(e["responseElements"].is_null());

  auto bad = json_request("AmazonSSM.DescribeSessions", R"({"State":"Active"})");
  sign(bad, {"AKIDNOBODY", "x", ""}, "ap-south-1");
  send(bad);
  json f = json::parse(backend.audit_lines(1).at(0));
  EXPECT_EQ(f["errorCode"], "UnrecognizedClientException");
  EXPECT_EQ(f["userIdentity"]["accessKeyId"], "AKIDNOBODY");
  EXPECT_EQ(f["awsRegion"], "ap-south-1");
  EXPECT_EQ(f["eventName"], "DescribeSessions");
  EXPECT_EQ(backend.stats().audit_events, 3u);
}

}  // namespace
}  // namespace mocksvc::api::testing
