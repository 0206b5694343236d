// Real agents' identity in the backend: channel tokens, auto-registration, activations,
// on-premises registration, RSA-signed calls and the role credentials they yield.
#include <gtest/gtest.h>

#include <regex>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/backend/rsa_key.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kAgent = "mi-0123456789abcdef0";
constexpr std::string_view kVirtual = "i-0123456789abcdef0";
constexpr std::string_view kAccount = "111122223333";

struct ManualClock {
  std::shared_ptr<TimePoint> t = std::make_shared<TimePoint>(from_epoch_millis(1795499663000));
  ClockFn fn() const {
    auto p = t;
    return [p] { return *p; };
  }
  void advance(Clock::duration d) { *t += d; }
  TimePoint now() const { return *t; }
};

BackendConfig config() {
  BackendConfig c;
  c.seed = 11;
  c.accounts.push_back({"AKIDALICE", "alice-secret", "", std::string(kAccount), "alice", ""});
  c.accounts.push_back({"AKIDBOB", "bob-secret", "", "444455556666", "bob", ""});
  InstanceSpec agent;
  agent.instance_id = std::string(kAgent);
  agent.account_id = std::string(kAccount);
  agent.kind = InstanceKind::agent;
  InstanceSpec virt;
  virt.instance_id = std::string(kVirtual);
  virt.account_id = std::string(kAccount);
  c.instances = {agent, virt};
  return c;
}

class ManagedAgentsTest : public ::testing::Test {
 protected:
  explicit ManagedAgentsTest(BackendConfig c = config()) : backend(std::move(c), clock.fn()) {}

  Caller alice(std::string_view region = "us-east-1") {
    return backend.caller_for("AKIDALICE", region);
  }
  ManagedAgents& agents() { return backend.agents(); }

  std::string start_session_on_agent() {
    backend.set_agent_connected(kAgent, true);
    StartSessionRequest req;
    req.target = std::string(kAgent);
    auto s = backend.start_session(alice(), req, {});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? s->session_id : std::string();
  }

  ManualClock clock;
  Backend backend;
};

// ---- Control channel ----

TEST_F(ManagedAgentsTest, ControlChannelTokenIsValidOnlyForItsInstance) {
  auto token = agents().create_control_channel(alice(), kAgent);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_GE(token->size(), 40u);
  EXPECT_TRUE(agents().check_control_channel_token(kAgent, *token));
  EXPECT_FALSE(agents().check_control_channel_token("mi-0aaaaaaaaaaaaaaaa", *token));
  EXPECT_FALSE(agents().check_control_channel_token(kAgent, *token + "x"));
  EXPECT_FALSE(agents().check_control_channel_token(kAgent, ""));
  clock.advance(61min);
  EXPECT_FALSE(agents().check_control_channel_token(kAgent, *token));
}

TEST_F(ManagedAgentsTest, EachReconnectGetsAFreshTokenAndOldOnesAgeOut) {
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < kMaxChannelTokens + 2; ++i) {
    auto t = agents().create_control_channel(alice(), kAgent);
    ASSERT_TRUE(t);
    tokens.push_back(*t);
  }
  EXPECT_FALSE(agents().check_control_channel_token(kAgent, tokens.front()));
  EXPECT_TRUE(agents().check_control_channel_token(kAgent, tokens.back()));
}

TEST_F(ManagedAgentsTest, UnknownInstanceIsRegisteredAsAnAgentInTheCallersAccountAndRegion) {
  const std::string id = "mi-00000000000000abc";
  ASSERT_FALSE(backend.find_instance(id));
  auto token = agents().create_control_channel(alice("eu-west-1"), id);
  ASSERT_TRUE(token) << token.error().message;
  auto inst = backend.find_instance(id);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->spec.kind, InstanceKind::agent);
  EXPECT_EQ(inst->spec.account_id, kAccount);
  EXPECT_EQ(inst->spec.region, "eu-west-1");
  EXPECT_EQ(inst->ping_status, PingStatus::connection_lost);  // until its channel opens
  EXPECT_TRUE(agents().check_control_channel_token(id, *token));
}

TEST_F(ManagedAgentsTest, MalformedUnknownIdIsRefused) {
  auto r = agents().create_control_channel(alice(), "mi-NOT-AN-ID");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "AccessDeniedException");
  EXPECT_EQ(r.error().http_status, 403);
  EXPECT_FALSE(backend.find_instance("mi-NOT-AN-ID"));
}

TEST_F(ManagedAgentsTest, VirtualInstanceAndForeignAccountsAreDenied) {
  auto v = agents().create_control_channel(alice(), kVirtual);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, "AccessDeniedException");
  EXPECT_NE(v.error().message.find("built-in agent"), std::string::npos);
  auto bob = agents().create_control_channel(backend.caller_for("AKIDBOB", "us-east-1"), kAgent);
  ASSERT_FALSE(bob);
  EXPECT_EQ(bob.error().code, "AccessDeniedException");
  EXPECT_EQ(bob.error().message.rfind("User: arn:aws:iam::444455556666:user/bob is not authorized "
                                      "to perform: ssmmessages:CreateControlChannel on resource: ",
                                      0),
            0u)
      << bob.error().message;
  auto region = agents().create_control_channel(alice("eu-west-1"), kAgent);
  EXPECT_FALSE(region);
}

class NoAutoRegisterTest : public ManagedAgentsTest {
 protected:
  static BackendConfig no_auto() {
    BackendConfig c = config();
    c.auto_register_agents = false;
    return c;
  }
  NoAutoRegisterTest() : ManagedAgentsTest(no_auto()) {}
};

TEST_F(NoAutoRegisterTest, UnknownInstanceIsDenied) {
  auto r = agents().create_control_channel(alice(), "mi-00000000000000abc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "AccessDeniedException");
  EXPECT_FALSE(backend.find_instance("mi-00000000000000abc"));
}

TEST_F(NoAutoRegisterTest, UnknownInstanceReportingIsInvalidInstanceId) {
  InstanceReport r;
  r.instance_id = "mi-00000000000000abc";
  auto res = backend.update_instance_information(alice(), r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, "InvalidInstanceId");
}

// A CustomIdentity agent's first call is UpdateInstanceInformation (agent.md §7); refusing it
// sends the real agent into hibernation, so the id is adopted on that call already.
TEST_F(ManagedAgentsTest, FirstUpdateInstanceInformationAdoptsAnUnknownAgent) {
  InstanceReport r;
  r.instance_id = "mi-00000000000000abc";
  r.agent_version = "3.3.0.0";
  r.platform_type = "Linux";
  ASSERT_TRUE(backend.update_instance_information(alice(), r));
  auto inst = backend.find_instance("mi-00000000000000abc");
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->spec.kind, InstanceKind::agent);
  EXPECT_EQ(inst->spec.account_id, kAccount);
  EXPECT_EQ(inst->spec.agent_version, "3.3.0.0");
  EXPECT_FALSE(inst->agent_connected);
  auto token = agents().create_control_channel(alice(), "mi-00000000000000abc");
  EXPECT_TRUE(token);
}

// ---- Data channel ----

TEST_F(ManagedAgentsTest, DataChannelTokenForALiveSessionOnTheAgent) {
  std::string sid = start_session_on_agent();
  auto token = agents().create_data_channel(alice(), sid);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_TRUE(agents().check_data_channel_token(sid, *token, kAgent));
  EXPECT_FALSE(agents().check_data_channel_token(sid, *token, "mi-0aaaaaaaaaaaaaaaa"));
  EXPECT_FALSE(agents().check_data_channel_token(sid, "other", kAgent));
  EXPECT_FALSE(agents().check_data_channel_token("alice-00000000000000000", *token, kAgent));
}

TEST_F(ManagedAgentsTest, DataChannelForAnEndedSessionSaysSessionIsAlreadyTerminated) {
  std::string sid = start_session_on_agent();
  ASSERT_TRUE(backend.terminate_session(alice(), sid));
  auto terminating = agents().create_data_channel(alice(), sid);
  ASSERT_FALSE(terminating);
  EXPECT_EQ(terminating.error().code, "BadRequest");
  EXPECT_EQ(terminating.error().message, "Session is already terminated");
  backend.session_ended(sid, SessionStatus::terminated, "");
  auto ended = agents().create_data_channel(alice(), sid);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().message, "Session is already terminated");
  EXPECT_EQ(ended.error().http_status, 400);
}

TEST_F(ManagedAgentsTest, DataChannelRefusesUnknownSessionsAndVirtualTargets) {
  auto unknown = agents().create_data_channel(alice(), "alice-0123456789abcdef0");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, "BadRequest");
  StartSessionRequest req;
  req.target = std::string(kVirtual);
  auto s = backend.start_session(alice(), req, {});
  ASSERT_TRUE(s);
  auto v = agents().create_data_channel(alice(), s->session_id);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, "AccessDeniedException");
}

// ---- Activations and registration ----

class RegistrationTest : public ManagedAgentsTest {
 protected:
  static void SetUpTestSuite() {
    auto k = generate_rsa_key_pair();
    ASSERT_TRUE(k);
    keys_ = new RsaKeyPair(*k);
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  ActivationCredentials activate(int limit = 1) {
    CreateActivationRequest req;
    req.iam_role = "SSMServiceRole";
    req.default_instance_name = "edge";
    req.registration_limit = limit;
    req.tags = {{"env", "lab"}};
    auto a = agents().create_activation(alice(), req);
    EXPECT_TRUE(a) << (a ? "" : a.error().message);
    return a ? *a : ActivationCredentials{};
  }

  RegisterInstanceRequest registration(const ActivationCredentials& a) {
    RegisterInstanceRequest r;
    r.activation_id = a.activation_id;
    r.activation_code = a.activation_code;
    r.public_key = keys_->public_key;
    r.public_key_type = "Rsa";
    r.fingerprint = "fp-0001";
    return r;
  }

  static RsaKeyPair* keys_;
};
RsaKeyPair* RegistrationTest::keys_ = nullptr;

TEST_F(RegistrationTest, ActivationCredentialsHaveTheShapesTheAgentChecks) {
  auto a = activate();
  // The agent's SDK insists on a code of 20+ characters and an id of 36+ (agent.md §9.2).
  EXPECT_TRUE(std::regex_match(
      a.activation_id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_TRUE(std::regex_match(a.activation_code, std::regex("[A-Za-z0-9+/]{20}")));
}

TEST_F(RegistrationTest, RegisteringCreatesAnAgentInstanceWithTheActivationsDetails) {
  auto a = activate();
  auto id = agents().register_managed_instance(registration(a));
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(std::regex_match(*id, std::regex("mi-[0-9a-f]{17}")));
  auto inst = backend.find_instance(*id);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->spec.kind, InstanceKind::agent);
  EXPECT_EQ(inst->spec.account_id, kAccount);
  EXPECT_EQ(inst->spec.region, "us-east-1");
  EXPECT_EQ(inst->spec.activation_id, a.activation_id);
  EXPECT_EQ(inst->spec.iam_role, "SSMServiceRole");
  EXPECT_EQ(inst->spec.name, "edge");
  EXPECT_EQ(inst->registration_date, clock.now());
  EXPECT_EQ(inst->resource_type, "ManagedInstance");
  ASSERT_EQ(inst->spec.tags.size(), 1u);
  EXPECT_EQ(inst->spec.tags[0].key, "env");

  DescribeActivationsRequest d;
  auto page = agents().describe_activations(alice(), d);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->activations.size(), 1u);
  EXPECT_EQ(page->activations[0].registrations_count, 1);
  EXPECT_FALSE(page->activations[0].expired);
}

TEST_F(RegistrationTest, RegistrationChecksCodeLimitExpiryAndKey) {
  auto a = activate(1);
  auto bad_code = registration(a);
  bad_code.activation_code = "AAAAAAAAAAAAAAAAAAAA";
  EXPECT_EQ(agents().register_managed_instance(bad_code).error().code, "InvalidActivation");
  auto bad_key = registration(a);
  bad_key.public_key = base64_encode(std::string(400, 'k'));
  EXPECT_EQ(agents().register_managed_instance(bad_key).error().code, "InvalidPublicKey");
  auto bad_type = registration(a);
  bad_type.public_key_type = "Ecdsa";
  EXPECT_EQ(agents().register_managed_instance(bad_type).error().code, "InvalidPublicKey");
  ASSERT_TRUE(agents().register_managed_instance(registration(a)));
  EXPECT_EQ(agents().register_managed_instance(registration(a)).error().code,
            "RegistrationLimitExceeded");

  auto b = activate(5);
  clock.advance(kDefaultActivationLifetime + 1s);
  EXPECT_EQ(agents().register_managed_instance(registration(b)).error().code, "ActivationExpired");
  auto page = agents().describe_activations(alice(), {});
  ASSERT_TRUE(page);
  for (const auto& act : page->activations) EXPECT_TRUE(act.expired);
}

TEST_F(RegistrationTest, RoleTokenFollowsAValidSignatureAndWorksAsCredentials) {
  auto id = agents().register_managed_instance(registration(activate()));
  ASSERT_TRUE(id);
  const std::string sts = "AWS4-HMAC-SHA256\n20261124T060417Z\nscope\nhash";
  auto sig = sign_rsa_pss_sha256(keys_->private_key, sts);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(agents().verify_instance_signature(*id, sts, *sig));
  EXPECT_EQ(agents().verify_instance_signature(*id, sts + "x", *sig).error().code,
            "InvalidSignatureException");
  EXPECT_EQ(agents().verify_instance_signature(kAgent, sts, *sig).error().code,
            "UnrecognizedClientException");

  EXPECT_EQ(agents().request_role_token(*id, "another machine").error().code,
            "MachineFingerprintDoesNotMatch");
  auto creds = agents().request_role_token(*id, "fp-0001");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_TRUE(std::regex_match(creds->access_key_id, std::regex("ASIA[A-Z2-7]{16}")));
  EXPECT_EQ(creds->expires_at, clock.now() + kRoleCredentialLifetime);
  EXPECT_FALSE(creds->update_key_pair);

  auto account = backend.find_account(creds->access_key_id);
  ASSERT_TRUE(account);
  EXPECT_EQ(account->secret_access_key, creds->secret_access_key);
  EXPECT_EQ(account->session_token, creds->session_token);
  Caller c = backend.caller_for(creds->access_key_id, "us-east-1");
  EXPECT_EQ(c.account_id, kAccount);
  EXPECT_EQ(c.principal_name, *id);
  EXPECT_EQ(c.arn, "arn:aws:sts::111122223333:assumed-role/SSMServiceRole/" + *id);
  EXPECT_EQ(agents().instance_for_key(creds->access_key_id), *id);

  clock.advance(kRoleCredentialLifetime);
  EXPECT_FALSE(backend.find_account(creds->access_key_id));
}

TEST_F(RegistrationTest, BoundCredentialsReachOnlyTheirOwnInstance) {
  auto id = agents().register_managed_instance(registration(activate()));
  ASSERT_TRUE(id);
  auto creds = agents().request_role_token(*id, "fp-0001");
  ASSERT_TRUE(creds);
  Caller c = backend.caller_for(creds->access_key_id, "us-east-1");
  EXPECT_TRUE(agents().create_control_channel(c, *id));
  auto other = agents().create_control_channel(c, kAgent);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, "AccessDeniedException");
  std::string sid = start_session_on_agent();
  EXPECT_FALSE(agents().create_data_channel(c, sid));
}

TEST_F(RegistrationTest, UpdatedPublicKeyReplacesTheOldOne) {
  auto id = agents().register_managed_instance(registration(activate()));
  ASSERT_TRUE(id);
  auto fresh = generate_rsa_key_pair();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(agents().update_public_key(*id, fresh->public_key, "Ecdsa").error().code,
            "InvalidPublicKey");
  ASSERT_TRUE(agents().update_public_key(*id, fresh->public_key, "Rsa"));
  const std::string sts = "string to sign";
  EXPECT_TRUE(
      agents().verify_instance_signature(*id, sts, *sign_rsa_pss_sha256(fresh->private_key, sts)));
  EXPECT_FALSE(
      agents().verify_instance_signature(*id, sts, *sign_rsa_pss_sha256(keys_->private_key, sts)));
}

TEST_F(RegistrationTest, ActivationsPageFilterAndDelete) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(activate().activation_id);
  DescribeActivationsRequest first;
  first.max_results = 2;
  auto p1 = agents().describe_activations(alice(), first);
  ASSERT_TRUE(p1);
  ASSERT_EQ(p1->activations.size(), 2u);
  ASSERT_FALSE(p1->next_token.empty());
  DescribeActivationsRequest second;
  second.next_token = p1->next_token;
  auto p2 = agents().describe_activations(alice(), second);
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->activations.size(), 1u);
  EXPECT_TRUE(p2->next_token.empty());
  DescribeActivationsRequest bad;
  bad.next_token = "garbage";
  EXPECT_EQ(agents().describe_activations(alice(), bad).error().code, "InvalidNextToken");

  DescribeActivationsRequest by_id;
  by_id.filters = {{"ActivationIds", {ids[1]}}};
  auto one = agents().describe_activations(alice(), by_id);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->activations.size(), 1u);
  EXPECT_EQ(one->activations[0].activation_id, ids[1]);

  // Other accounts see none of them and cannot delete them.
  auto bob = backend.caller_for("AKIDBOB", "us-east-1");
  EXPECT_TRUE(agents().describe_activations(bob, {})->activations.empty());
  EXPECT_EQ(agents().delete_activation(bob, ids[0]).error().code, "InvalidActivationId");
  ASSERT_TRUE(agents().delete_activation(alice(), ids[0]));
  EXPECT_EQ(agents().describe_activations(alice(), {})->activations.size(), 2u);
}

TEST_F(RegistrationTest, ResetForgetsEverything) {
  auto a = activate();
  auto id = agents().register_managed_instance(registration(a));
  ASSERT_TRUE(id);
  auto creds = agents().request_role_token(*id, "fp-0001");
  ASSERT_TRUE(creds);
  backend.reset();
  EXPECT_FALSE(backend.find_account(creds->access_key_id));
  EXPECT_FALSE(backend.find_instance(*id));
  EXPECT_TRUE(agents().describe_activations(alice(), {})->activations.empty());
}

}  // namespace
}  // namespace mocksvc::backend
