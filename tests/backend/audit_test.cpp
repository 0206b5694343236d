#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

using json = nlohmann::json;

AuditEvent start_session_event() {
  AuditEvent e;
  e.event_name = "StartSession";
  e.region = "us-east-1";
  e.source_ip = "127.0.0.1";
  e.user_agent = "aws-cli/2.9.19";
  e.access_key_id = "AKIDALICE";
  e.arn = "arn:aws:iam::111122223333:user/alice";
  e.account_id = "111122223333";
  e.principal_name = "alice";
  e.request_parameters_json =
      R"({"Target":"i-0123456789abcdef0","Parameters":{"portNumber":["80"]}})";
  e.response_elements_json =
      R"({"SessionId":"alice-0123","TokenValue":"secret","StreamUrl":"wss://x"})";
  e.request_id = "11111111-2222-4333-8444-555555555555";
  return e;
}

TEST(Audit, LineLooksLikeACloudTrailEvent) {
  std::string line = format_audit_line(start_session_event(), from_epoch_millis(1795499663000),
                                       "66666666-7777-4888-9999-aaaaaaaaaaaa");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  json j = json::parse(line);
  EXPECT_EQ(j["eventVersion"], "1.08");
  EXPECT_EQ(j["eventTime"], "2026-11-24T05:54:23Z");
  EXPECT_EQ(j["eventSource"], "ssm.amazonaws.com");
  EXPECT_EQ(j["eventName"], "StartSession");
  EXPECT_EQ(j["awsRegion"], "us-east-1");
  EXPECT_EQ(j["sourceIPAddress"], "127.0.0.1");
  EXPECT_EQ(j["userAgent"], "aws-cli/2.9.19");
  EXPECT_EQ(j["userIdentity"]["type"], "IAMUser");
  EXPECT_EQ(j["userIdentity"]["accessKeyId"], "AKIDALICE");
  EXPECT_EQ(j["userIdentity"]["arn"], "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(j["userIdentity"]["accountId"], "111122223333");
  EXPECT_EQ(j["requestID"], "11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(j["eventID"], "66666666-7777-4888-9999-aaaaaaaaaaaa");
  EXPECT_EQ(j["readOnly"], false);
  EXPECT_EQ(j["recipientAccountId"], "111122223333");
  EXPECT_FALSE(j.contains("errorCode"));
  // CloudTrail's key style: lower camel case, caller-chosen map keys kept, tokens hidden.
  EXPECT_EQ(j["requestParameters"],
            json::parse(R"({"target":"i-0123456789abcdef0","parameters":{"portNumber":["80"]}})"));
  EXPECT_EQ(j["responseElements"]["sessionId"], "alice-0123");
  EXPECT_EQ(j["responseElements"]["tokenValue"], "Value hidden due to security reasons.");
  EXPECT_EQ(line.find("secret"), std::string::npos);
}

TEST(Audit, ErrorsAndReadOnlyCallsRecordNoResponseElements) {
  AuditEvent e = start_session_event();
  e.error_code = "TargetNotConnected";
  e.error_message = "i-0123456789abcdef0 is not connected.";
  json j = json::parse(format_audit_line(e, TimePoint{}, "id"));
  EXPECT_EQ(j["errorCode"], "TargetNotConnected");
  EXPECT_EQ(j["errorMessage"], "i-0123456789abcdef0 is not connected.");
  EXPECT_TRUE(j["responseElements"].is_null());

  AuditEvent d = start_session_event();
  d.event_name = "DescribeSessions";
  d.read_only = true;
  j = json::parse(format_audit_line(d, TimePoint{}, "id"));
  EXPECT_TRUE(j["responseElements"].is_null());
  EXPECT_EQ(j["readOnly"], true);
}

TEST(Audit, UnparsableBodiesBecomeNull) {
  AuditEvent e = start_session_event();
  e.request_parameters_json = "{not json";
  json j = json::parse(format_audit_line(e, TimePoint{}, "id"));
  EXPECT_TRUE(j["requestParameters"].is_null());
}

TEST(Audit, BackendKeepsTheLastLinesAndFeedsTheSinkInOrder) {
  BackendConfig cfg;
  cfg.audit_capacity = 3;
  Backend b(cfg);
  std::vector<std::string> sunk;
  b.set_audit_sink([&](std::string_view line) { sunk.emplace_back(line); });
  for (int i = 0; i < 5; ++i) {
    AuditEvent e;
    e.event_name = "Op" + std::to_string(i);
    b.record_audit(e);
  }
  ASSERT_EQ(sunk.size(), 5u);
  EXPECT_EQ(json::parse(sunk[4])["eventName"], "Op4");
  auto lines = b.audit_lines(100);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(json::parse(lines[0])["eventName"], "Op2");
  EXPECT_EQ(json::parse(lines[2])["eventName"], "Op4");
  auto last = b.audit_lines(1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(json::parse(last[0])["eventName"], "Op4");
  EXPECT_NE(json::parse(lines[0])["eventID"], json::parse(lines[1])["eventID"]);
  EXPECT_EQ(b.stats().audit_events, 5u);
}

}  // namespace
}  // namespace mocksvc::backend
