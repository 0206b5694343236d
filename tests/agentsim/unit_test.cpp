// The pure parts of the simulated agent: the RSA-PSS signer, the retry schedules, the request
// bodies, control-channel message handling and the command line.
#include <gtest/gtest.h>

#include <random>

#include "agentsim/args.hpp"
#include "agentsim/backoff.hpp"
#include "agentsim/control_messages.hpp"
#include "agentsim/rsa_key.hpp"
#include "agentsim/settings.hpp"
#include "agentsim/simulator.hpp"
#include "agentsim/ssm_bodies.hpp"
#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/auth/verify.hpp"
#include "tests/agentsim/test_util.hpp"

namespace ssmh::agentsim {
namespace {

namespace auth = mocksvc::auth;
namespace wire = mocksvc::wire;
using namespace std::chrono_literals;

// One key for the suite: generating RSA-2048 keys is slow.
const RsaKey& shared_key() {
  static const RsaKey key = *RsaKey::generate();
  return key;
}

// ---- RSA and base64 ------------------------------------------------------------------------

TEST(RsaKey, PssSignatureVerifiesWithOpenSslAndSalt32) {
  const auto& key = shared_key();
  auto sig = key.sign_pss("AWS4-HMAC-SHA256\n20261125T000000Z\nscope\nhash");
  ASSERT_TRUE(sig) << sig.error();
  EXPECT_EQ(sig->size(), 256u);  // RSA-2048
  EXPECT_TRUE(testing::verify_pss(key.public_key_base64(), "AWS4-HMAC-SHA256\n20261125T000000Z\nscope\nhash", *sig));
  EXPECT_FALSE(testing::verify_pss(key.public_key_base64(), "something else", *sig));
}

TEST(RsaKey, PssSignaturesAreRandomized) {
  const auto& key = shared_key();
  auto a = key.sign_pss("m");
  auto b = key.sign_pss("m");
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);  // a 32-byte random salt each time
}

TEST(RsaKey, PublicKeyIsLongEnoughForTheSdkCheck) {
  // aws-sdk-go refuses a PublicKey under 392 characters; base64 PKIX DER of RSA-2048 is 392.
  EXPECT_GE(shared_key().public_key_base64().size(), 392u);
  EXPECT_TRUE(validate_registration({std::string(20, 'c'), std::string(36, 'i')}, shared_key().public_key_base64()));
}

TEST(RsaKey, PrivateKeyRoundTripsThroughPkcs1) {
  const auto& key = shared_key();
  auto back = RsaKey::from_private_key_base64(key.private_key_base64());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->public_key_base64(), key.public_key_base64());
  EXPECT_FALSE(RsaKey::from_private_key_base64("bm90IGEga2V5"));
  EXPECT_FALSE(RsaKey::from_private_key_base64("%%%"));
}

TEST(Base64, RoundTripsEveryPaddingLength) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!="));
}

TEST(RsaAuthorization, SignsTheSigV4StringToSignWithTheInstanceAsKeyId) {
  auth::HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"Host", "127.0.0.1:8443"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "AmazonSSM.RequestManagedInstanceRoleToken"}};
  r.body = R"({"Fingerprint":"f"})";
  r.set_header("Content-Length", std::to_string(r.body.size()));
  const auto now = auth::Clock::now();
  ASSERT_TRUE(sign_with_rsa(r, shared_key(), "mi-0123456789abcdef0", "us-east-1", now));

  auto parsed = auth::parse_authorization(*r.header("Authorization"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->access_key_id, "mi-0123456789abcdef0");
  EXPECT_EQ(parsed->service, "ssm");
  EXPECT_EQ(parsed->region, "us-east-1");
  EXPECT_EQ(auth::join_signed_headers(parsed->signed_headers),
            "content-length;content-type;host;x-amz-date;x-amz-target");
  EXPECT_EQ(*r.header("X-Amz-Date"), auth::format_amz_date(now));

  // What a verifier recomputes (the service's RSA check uses the same string to sign).
  auth::VerifyOptions vo;
  vo.now = now;
  vo.check_signature = false;
  auto identity = auth::verify(r, {}, vo);
  ASSERT_TRUE(identity) << identity.error().message;
  auto sig = base64_decode(parsed->signature);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(testing::verify_pss(shared_key().public_key_base64(), identity->string_to_sign, *sig));
}

// ---- backoff -------------------------------------------------------------------------------

TEST(Backoff, ControlChannelDoublesFromAFiveToTenSecondStartWithHalfJitter) {
  std::mt19937_64 rng(42);
  for (int loop = 0; loop < 50; ++loop) {
    Retryer r(control_channel_backoff(), rng);
    ASSERT_GE(r.initial(), 5000ms);
    ASSERT_LT(r.initial(), 10000ms);
    for (int n = 0; n < 6; ++n) {
      const auto base = r.initial() * (1 << n);
      const auto d = *r.next();
      EXPECT_GE(d, base);
      EXPECT_LT(d.count(), base.count() * 3 / 2 + 1);
    }
  }
}

TEST(Backoff, ControlChannelStopsGrowingAtFortyMinutesAndNeverEnds) {
  std::mt19937_64 rng(7);
  Retryer r(control_channel_backoff(), rng);
  Millis last{};
  for (int n = 0; n < 1000; ++n) {
    auto d = r.next();
    ASSERT_TRUE(d);
    last = *d;
  }
  EXPECT_GE(last, 40min);
  EXPECT_LT(last, 60min);
}

TEST(Backoff, DataChannelMakesFiveRetriesWithoutJitterCappedAtFiveSeconds) {
  std::mt19937_64 rng(3);
  Retryer r(data_channel_backoff(), rng);
  ASSERT_GE(r.initial(), 100ms);
  ASSERT_LT(r.initial(), 200ms);
  std::vector<Millis> got;
  while (auto d = r.next()) got.push_back(*d);
  ASSERT_EQ(got.size(), 5u);
  for (int n = 0; n < 5; ++n) EXPECT_EQ(got[n], std::min<Millis>(r.initial() * (1 << n), 5000ms));
}

TEST(Backoff, ScaledShrinksDurationsOnly) {
  auto b = control_channel_backoff().scaled(0.001);
  EXPECT_EQ(b.initial_min, 5ms);
  EXPECT_EQ(b.initial_max, 10ms);
  EXPECT_EQ(b.cap, 2400ms);
  EXPECT_EQ(b.ratio, 2.0);
  EXPECT_EQ(b.max_retries, -1);
  Timing t = Timing{}.scaled(0.01);
  EXPECT_EQ(t.heartbeat, 3s);
  EXPECT_EQ(t.task_complete_resend, 10ms);
}

TEST(Backoff, IsReproducibleFromTheSeed) {
  std::mt19937_64 a(99), b(99);
  Retryer ra(control_channel_backoff(), a), rb(control_channel_backoff(), b);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*ra.next(), *rb.next());
}

// ---- request bodies ------------------------------------------------------------------------

HostFacts host() {
  HostFacts h;
  h.instance_id = "mi-0123456789abcdef0";
  h.agent_version = "3.3.987.0";
  h.computer_name = "ip-10-0-1-1";
  h.ip_address = "10.0.1.1";
  return h;
}

TEST(Bodies, HealthReportsHaveTheAgentsKeyOrder) {
  EXPECT_EQ(minimal_instance_information(host()),
            R"({"AgentName":"amazon-ssm-agent","AgentVersion":"3.3.987.0","InstanceId":"mi-0123456789abcdef0","PlatformType":"Linux"})");
  EXPECT_EQ(full_instance_information(host(), "ssmmessages"),
            R"({"AgentName":"amazon-ssm-agent","AgentStatus":"Active","AgentVersion":"3.3.987.0","AvailabilityZone":"",)"
            R"("AvailabilityZoneId":"","ComputerName":"ip-10-0-1-1","IPAddress":"10.0.1.1","InstanceId":"mi-0123456789abcdef0",)"
            R"("PlatformName":"Debian GNU/Linux","PlatformType":"Linux","PlatformVersion":"12","SSMConnectionChannel":"ssmmessages"})");
  EXPECT_EQ(list_instance_associations("mi-1"), R"({"InstanceId":"mi-1","MaxResults":20})");
}

TEST(Bodies, ChannelRequestsMatchTheAgent) {
  EXPECT_EQ(create_control_channel_body("r"), R"({"MessageSchemaVersion":"1.0","RequestId":"r"})");
  EXPECT_EQ(create_data_channel_body("r"), R"({"MessageSchemaVersion":"1.0","RequestId":"r","ClientId":""})");
}

TEST(Bodies, RegistrationRequestAndAnswer) {
  EXPECT_EQ(register_managed_instance({"code", "id"}, "PK", "fp"),
            R"({"ActivationCode":"code","ActivationId":"id","PublicKey":"PK","PublicKeyType":"Rsa","Fingerprint":"fp"})");
  auto id = parse_register_response(R"({"InstanceId":"mi-0aaaaaaaaaaaaaaaa"})");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, "mi-0aaaaaaaaaaaaaaaa");
  EXPECT_FALSE(parse_register_response("{}"));
  EXPECT_FALSE(parse_register_response("not json"));
  auto short_code = validate_registration({"short", std::string(36, 'i')}, std::string(392, 'k'));
  ASSERT_FALSE(short_code);
  EXPECT_NE(short_code.error().find("ActivationCode"), std::string::npos);
}

TEST(Bodies, RoleTokenNeedsEveryFieldTheProviderDereferences) {
  auto t = parse_role_token(
      R"({"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"tok","TokenExpirationDate":1700000000.5,"UpdateKeyPair":true})");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->credentials.session_token, "tok");
  EXPECT_TRUE(t->update_key_pair);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(t->expires.time_since_epoch()).count(),
            1700000000500);
  EXPECT_FALSE(parse_role_token(R"({"AccessKeyId":"a","SecretAccessKey":"s","SessionToken":"t","TokenExpirationDate":1})"));
  EXPECT_FALSE(parse_role_token(R"({"AccessKeyId":"a","SecretAccessKey":"s","SessionToken":"t","UpdateKeyPair":false})"));
  EXPECT_FALSE(parse_role_token("[]"));
  EXPECT_EQ(update_managed_instance_public_key("PK"), R"({"NewPublicKey":"PK","NewPublicKeyType":"Rsa"})");
}

TEST(Bodies, JsonErrorCodeStripsNamespace) {
  EXPECT_EQ(json_error_code(R"({"__type":"com.amazonaws.ssm#InvalidActivation","message":"x"})"), "InvalidActivation");
  EXPECT_EQ(json_error_code(R"({"code":"TooManyUpdates"})"), "TooManyUpdates");
  EXPECT_EQ(json_error_code("<xml/>"), "");
}

// ---- control channel -----------------------------------------------------------------------

TEST(ControlMessages, InteractiveShellStartsASession) {
  auto e = classify_control_frame(
      testing::interactive_shell_frame("s-1", testing::session_document("Standard_Stream")));
  auto* start = std::get_if<StartSession>(&e);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->task.session_id, "s-1");
}

TEST(ControlMessages, DocumentWithAnotherSchemaVersionIsDroppedSilently) {
  auto e = classify_control_frame(
      testing::interactive_shell_frame("s-1", testing::session_document("Standard_Stream", "{}", "2.0")));
  EXPECT_TRUE(std::holds_alternative<Ignored>(e));
  auto unknown = classify_control_frame(testing::interactive_shell_frame("s-1", testing::session_document("Telnet")));
  EXPECT_TRUE(std::holds_alternative<Ignored>(unknown));
}

TEST(ControlMessages, ChannelClosedAndAcknowledgeAreTyped) {
  auto closed = classify_control_frame(testing::channel_closed_frame("s-9", "mi-1"));
  ASSERT_TRUE(std::holds_alternative<CloseSession>(closed));
  EXPECT_EQ(std::get<CloseSession>(closed).session_id, "s-9");
  auto ack = classify_control_frame(testing::task_acknowledge_frame("aab6886b-3925-401a-be5e-337b6fa403ba", "s-9"));
  ASSERT_TRUE(std::holds_alternative<TaskAcknowledged>(ack));
  EXPECT_EQ(std::get<TaskAcknowledged>(ack).message_id, "aab6886b-3925-401a-be5e-337b6fa403ba");
}

TEST(ControlMessages, ReadsFramesAsLenientlyAsTheAgent) {
  auto frame = testing::channel_closed_frame("s-2", "mi-1");
  frame[80] ^= 0xff;  // digest not checked
  for (std::size_t i = 4 + 14; i < 36; ++i) frame[i] = 0;  // NUL padding after "channel_closed"
  frame[119] += 1;  // PayloadLength not used to slice
  auto e = classify_control_frame(frame);
  ASSERT_TRUE(std::holds_alternative<CloseSession>(e));

  auto zero_date = testing::channel_closed_frame("s-2", "mi-1");
  for (int i = 40; i < 48; ++i) zero_date[i] = 0;
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(zero_date)));
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(wire::Bytes(50, 1))));
  auto blank = testing::channel_closed_frame("s-2", "mi-1");
  for (int i = 4; i < 36; ++i) blank[i] = ' ';
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(blank)));
}

TEST(ControlMessages, UnknownTypesAndRunCommandAreIgnored) {
  auto job = wire::encode(wire::make_message("agent_job", 0, 0, wire::PayloadType::none, "{}"));
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(job)));
  auto odd = wire::encode(wire::make_message("whatever", 0, 0, wire::PayloadType::none, "{}"));
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(odd)));
  auto bad = testing::interactive_shell_frame("s", "{}");
  bad.resize(130);
  EXPECT_TRUE(std::holds_alternative<Ignored>(classify_control_frame(bad)));
}

TEST(ControlMessages, TaskCompleteReplyKeepsItsMessageIdAndZeroHeader) {
  const auto id = *mocksvc::base::Uuid::parse("aab6886b-3925-401a-be5e-337b6fa403ba");
  auto frame = control_reply_frame(wire::msg::kAgentTaskComplete, id, R"({"TaskId":"s"})");
  auto m = wire::decode(frame);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->message.message_type, "agent_task_complete");
  EXPECT_EQ(m->message.message_id, id);
  EXPECT_EQ(m->message.sequence_number, 0);
  EXPECT_EQ(m->message.flags, 0u);
  EXPECT_EQ(m->message.payload_type, wire::PayloadType::none);
  EXPECT_EQ(m->message.schema_version, 1u);
  EXPECT_EQ(data_channel_setup_failure("s-1", "boom"), "Setting up data channel with id s-1 failed: boom");
}

// ---- settings and command line -------------------------------------------------------------

TEST(Settings, InstanceIdsHaveSeventeenHexDigits) {
  const auto a = generated_instance_id(1, 0);
  EXPECT_EQ(a.size(), 20u);
  EXPECT_EQ(a.substr(0, 3), "mi-");
  EXPECT_NE(a, generated_instance_id(1, 1));
  EXPECT_EQ(a, generated_instance_id(1, 0));
  EXPECT_NE(a, generated_instance_id(2, 0));
  EXPECT_EQ(prefixed_instance_id("i-0abc", 255), "i-0abc00000000000ff");
  EXPECT_EQ(prefixed_instance_id("mi-", 1), "mi-00000000000000001");
  EXPECT_EQ(prefixed_instance_id("mi-0123456789abcdef0", 2), "mi-0123456789abcdef02");
}

TEST(Settings, WebSocketBaseFollowsTheEndpointScheme) {
  EXPECT_EQ(*websocket_base("https://127.0.0.1:8443"), "wss://127.0.0.1:8443");
  EXPECT_EQ(*websocket_base("http://localhost:80/some/path"), "ws://localhost:80");
  EXPECT_FALSE(websocket_base("127.0.0.1:8443"));
  EXPECT_FALSE(websocket_base("https://"));
}

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Args, CustomIdentityFleetFromFlagsAndEnvironment) {
  auto p = parse_args({"agentsim", "--endpoint", "https://127.0.0.1:9", "--count", "3", "--instance-id-prefix",
                       "i-0", "--heartbeat-seconds", "60", "--shell", "pty", "--port-target", "80=127.0.0.1:8080"},
                      env_of({{"AWS_ACCESS_KEY_ID", "AK"},
                              {"AWS_SECRET_ACCESS_KEY", "SK"},
                              {"AWS_SESSION_TOKEN", "TOK"},
                              {"SSL_CERT_FILE", "/ca.pem"},
                              {"AWS_DEFAULT_REGION", "eu-west-1"}}));
  ASSERT_TRUE(p.options) << p.output;
  const auto& c = p.options->config;
  const std::string zeros(16, '0');
  EXPECT_EQ(c.identity.instance_ids,
            (std::vector<std::string>{"i-" + zeros + "0", "i-" + zeros + "1", "i-" + zeros + "2"}));
  EXPECT_EQ(c.identity.credentials->session_token, "TOK");
  EXPECT_EQ(c.ca_bundle, "/ca.pem");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.timing.heartbeat, 60s);
  EXPECT_EQ(c.shell, mocksvc::agent::InstanceProfile::Shell::pty);
  EXPECT_EQ(c.port_targets.at("80"), "127.0.0.1:8080");
  EXPECT_EQ(c.agent_version, "3.3.987.0");
  EXPECT_TRUE(validate(c));
}

TEST(Args, RegistrationNeedsCodeAndIdButNoKeys) {
  auto p = parse_args({"agentsim", "--endpoint", "http://h:1", "--register", "--code", "C", "--id", "I", "--count",
                       "2", "--region", "us-west-2"},
                      env_of({}));
  ASSERT_TRUE(p.options) << p.output;
  EXPECT_EQ(p.options->config.identity.activation->code, "C");
  EXPECT_EQ(p.options->config.identity.count, 2u);
  EXPECT_TRUE(p.options->config.identity.instance_ids.empty());
  EXPECT_EQ(p.options->config.region, "us-west-2");

  auto missing = parse_args({"agentsim", "--endpoint", "http://h:1", "--register", "--code", "C"}, env_of({}));
  EXPECT_FALSE(missing.options);
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(Args, RefusesMissingCredentialsAndConflictingIds) {
  auto no_keys = parse_args({"agentsim", "--endpoint", "http://h:1"}, env_of({}));
  EXPECT_FALSE(no_keys.options);
  EXPECT_NE(no_keys.output.find("credentials"), std::string::npos);
  auto two = parse_args({"agentsim", "--endpoint", "http://h:1", "--instance-id", "i-1", "--count", "2"},
                        env_of({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}));
  EXPECT_FALSE(two.options);
  auto no_endpoint = parse_args({"agentsim"}, env_of({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}));
  EXPECT_FALSE(no_endpoint.options);
  auto bad_shell = parse_args({"agentsim", "--endpoint", "http://h:1", "--shell", "bash"},
                              env_of({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}));
  EXPECT_FALSE(bad_shell.options);
  auto help = parse_args({"agentsim", "--help"}, env_of({}));
  EXPECT_FALSE(help.options);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--endpoint"), std::string::npos);
}

TEST(Args, TimeScaleShrinksTheRealTimings) {
  auto p = parse_args({"agentsim", "--endpoint", "http://h:1", "--time-scale", "0.01"},
                      env_of({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "b"}}));
  ASSERT_TRUE(p.options) << p.output;
  EXPECT_EQ(p.options->config.timing.control_retry.initial_min, 50ms);
  EXPECT_EQ(p.options->config.timing.heartbeat, 3s);
}

}  // namespace
}  // namespace ssmh::agentsim
