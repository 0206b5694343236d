#include <gtest/gtest.h>

#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::wire {
namespace {

TEST(Payloads, OpenDataChannelClientMatchesTheOfficialClientBytes) {
  OpenDataChannel o;
  o.request_id = "11111111-2222-4333-8444-555555555555";
  o.token_value = "tok";
  o.client_id = "66666666-7777-4888-9999-aaaaaaaaaaaa";
  o.client_version = "1.2.677.0";
  EXPECT_EQ(o.to_json(),
            R"({"MessageSchemaVersion":"1.0","RequestId":"11111111-2222-4333-8444-555555555555","TokenValue":"tok","ClientId":"66666666-7777-4888-9999-aaaaaaaaaaaa","ClientVersion":"1.2.677.0"})");
  auto back = parse_open_data_channel(o.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->variant, OpenDataChannel::Variant::client);
  EXPECT_EQ(back->client_version, "1.2.677.0");
}

TEST(Payloads, OpenDataChannelAgentVariantCarriesClientInstanceId) {
  OpenDataChannel o;
  o.variant = OpenDataChannel::Variant::agent;
  o.request_id = "r";
  o.token_value = "t";
  o.client_instance_id = "mi-0123456789abcdef0";
  EXPECT_EQ(o.to_json(),
            R"({"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t","ClientInstanceId":"mi-0123456789abcdef0","ClientId":""})");
  auto back = parse_open_data_channel(o.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->variant, OpenDataChannel::Variant::agent);
  EXPECT_EQ(back->client_id, "");
}

TEST(Payloads, OpenDataChannelAcceptsTheThreeFieldThirdPartyForm) {
  auto o = parse_open_data_channel(R"({"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t"})");
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->client_id);
  EXPECT_EQ(o->token_value, "t");
}

TEST(Payloads, OpenControlChannelHasNullCookieFirst) {
  OpenControlChannel o{"1.0", "r", "t", "3.3.0.0", "linux"};
  EXPECT_EQ(o.to_json(),
            R"({"Cookie":null,"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"t","AgentVersion":"3.3.0.0","PlatformType":"linux"})");
  auto back = parse_open_control_channel(o.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->agent_version, "3.3.0.0");
}

TEST(Payloads, AcknowledgeFieldOrder) {
  Acknowledge a{"input_stream_data", "aab6886b-3925-401a-be5e-337b6fa403ba", 12, true};
  EXPECT_EQ(a.to_json(),
            R"({"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"aab6886b-3925-401a-be5e-337b6fa403ba","AcknowledgedMessageSequenceNumber":12,"IsSequentialMessage":true})");
  auto back = parse_acknowledge(a.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->acknowledged_message_sequence_number, 12);
}

TEST(Payloads, HandshakeRequestForPortCarriesProperties) {
  HandshakeRequest h;
  h.agent_version = "3.3.987.0";
  h.requested_client_actions.push_back(
      {"SessionType", session_type_action_parameters(
                          "Port", R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"8080"})")});
  EXPECT_EQ(h.to_json(),
            R"({"AgentVersion":"3.3.987.0","RequestedClientActions":[{"ActionType":"SessionType","ActionParameters":{"SessionType":"Port","Properties":{"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"8080"}}}]})");
  auto back = parse_handshake_request(h.to_json());
  ASSERT_TRUE(back);
  ASSERT_EQ(back->requested_client_actions.size(), 1u);
  EXPECT_EQ(back->requested_client_actions[0].action_type, "SessionType");
}

TEST(Payloads, HandshakeRequestShellPropertiesAreNull) {
  EXPECT_EQ(session_type_action_parameters("Standard_Stream", ""),
            R"({"SessionType":"Standard_Stream","Properties":null})");
}

TEST(Payloads, HandshakeResponseMatchesTheObservedBytes) {
  HandshakeResponse r;
  r.client_version = "1.2.0.0";
  r.processed_client_actions.push_back({"SessionType", 1, "null", ""});
  const std::string observed =
      R"({"ClientVersion":"1.2.0.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null})";
  EXPECT_EQ(r.to_json(), observed);
  auto back = parse_handshake_response(observed);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->processed_client_actions[0].action_status, 1);
  EXPECT_EQ(back->to_json(), observed);
}

TEST(Payloads, HandshakeCompleteAndChallenge) {
  HandshakeComplete c{123456789, ""};
  EXPECT_EQ(c.to_json(), R"({"HandshakeTimeToComplete":123456789,"CustomerMessage":""})");
  EXPECT_EQ(parse_handshake_complete(c.to_json())->handshake_time_to_complete_ns, 123456789);
  EncChallenge e{"AAAA"};
  EXPECT_EQ(e.to_json(), R"({"Challenge":"AAAA"})");
  EXPECT_EQ(parse_enc_challenge(e.to_json())->challenge, "AAAA");
}

TEST(Payloads, ChannelClosedFieldOrder) {
  ChannelClosed c{"m", "2026-11-24T06:06:26.226Z", "i-0123", "s-1", 1, "bye"};
  EXPECT_EQ(c.to_json(),
            R"({"MessageId":"m","CreatedDate":"2026-11-24T06:06:26.226Z","DestinationId":"i-0123","SessionId":"s-1","MessageType":"channel_closed","SchemaVersion":1,"Output":"bye"})");
  EXPECT_EQ(parse_channel_closed(c.to_json())->output, "bye");
}

TEST(Payloads, AgentSessionState) {
  AgentSessionState s{1, "Connected", "s-1"};
  EXPECT_EQ(s.to_json(), R"({"SchemaVersion":1,"SessionState":"Connected","SessionId":"s-1"})");
  EXPECT_EQ(parse_agent_session_state(s.to_json())->session_state, "Connected");
}

TEST(Payloads, InteractiveShellIsTwoLevelWithContentAsString) {
  InteractiveShellTask t;
  t.session_id = "s-1";
  t.document_name = "SSM-SessionManagerRunShell";
  t.session_owner = "arn:aws:iam::123456789012:user/tester";
  t.document_content_json = R"({"schemaVersion":"1.0","sessionType":"Standard_Stream"})";
  MgsPayload env{t.to_json(), "s-1", "aws.ssm.startSession", 1};
  std::string wire = env.to_json();
  EXPECT_NE(wire.find(R"("Content":"{\"SessionId\":\"s-1\")"), std::string::npos) << wire;
  auto e = parse_mgs_payload(wire);
  ASSERT_TRUE(e);
  auto inner = parse_interactive_shell_task(e->content);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->session_id, "s-1");
  EXPECT_EQ(inner->document_content_json, R"({"schemaVersion":"1.0","sessionType":"Standard_Stream"})");
}

TEST(Payloads, InteractiveShellTaskKeysAreCaseInsensitive) {
  auto t = parse_interactive_shell_task(R"({"sessionId":"s-2","documentname":"D","Unknown":1})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->session_id, "s-2");
  EXPECT_EQ(t->document_name, "D");
}

TEST(Payloads, AgentTaskCompleteAndAcknowledge) {
  AgentTaskComplete c;
  c.task_id = "s-1";
  c.final_task_status = "Success";
  c.instance_id = "mi-1";
  EXPECT_EQ(c.to_json(),
            R"({"SchemaVersion":1,"TaskId":"s-1","Topic":"agent_task_complete","FinalTaskStatus":"Success","IsRoutingFailure":false,"AwsAccountId":"","InstanceId":"mi-1","Output":"","S3Bucket":"","S3UrlSuffix":"","CwlGroup":"","CwlStream":"","RetryNumber":1})");
  EXPECT_EQ(parse_agent_task_complete(c.to_json())->final_task_status, "Success");
  AgentTaskAcknowledge a{1, "m", "s-1", "agent_task_complete"};
  EXPECT_EQ(a.to_json(), R"({"SchemaVersion":1,"MessageId":"m","TaskId":"s-1","Topic":"agent_task_complete"})");
  EXPECT_EQ(parse_agent_task_acknowledge(a.to_json())->message_id, "m");
}

TEST(Payloads, SizeFlagAndExitCode) {
  EXPECT_EQ((SizeData{300, 100}).to_json(), R"({"cols":300,"rows":100})");
  EXPECT_EQ(parse_size(R"({"cols":80,"rows":24})")->cols, 80u);
  EXPECT_EQ(encode_flag(3), std::string("\0\0\0\3", 4));
  EXPECT_EQ(*decode_flag(encode_flag(0x01020304)), 0x01020304u);
  EXPECT_EQ(encode_exit_code(42), "EXIT_CODE: 42");
  EXPECT_EQ(*decode_exit_code("EXIT_CODE: 42"), 42);
  EXPECT_EQ(*decode_exit_code("EXIT_CODE: -1\n"), -1);
}

TEST(Payloads, MalformedJsonGetsTypedErrors) {
  EXPECT_EQ(parse_acknowledge("{").error(), make_error_code(Error::payload_not_json));
  EXPECT_EQ(parse_acknowledge("[]").error(), make_error_code(Error::payload_wrong_type));
  EXPECT_EQ(parse_acknowledge("{}").error(), make_error_code(Error::payload_missing_field));
  EXPECT_EQ(parse_acknowledge(R"({"AcknowledgedMessageSequenceNumber":"3"})").error(),
            make_error_code(Error::payload_wrong_type));
  EXPECT_EQ(parse_size(R"({"cols":-1,"rows":2})").error(), make_error_code(Error::payload_bad_value));
  EXPECT_EQ(decode_flag("abc").error(), make_error_code(Error::payload_bad_value));
  EXPECT_EQ(decode_exit_code("EXIT: 1").error(), make_error_code(Error::payload_bad_value));
  EXPECT_EQ(parse_mgs_payload(R"({"Content":{}})").error(), make_error_code(Error::payload_wrong_type));
  EXPECT_EQ(parse_open_data_channel(R"({"RequestId":"r"})").error(),
            make_error_code(Error::payload_missing_field));
}

}  // namespace
}  // namespace mocksvc::wire
