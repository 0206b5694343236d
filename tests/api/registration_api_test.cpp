// Hybrid activation and on-premises registration end to end through the SSM JSON API: a real
// RSA-2048 key, RegisterManagedInstance unsigned, RequestManagedInstanceRoleToken signed
// RSA-PSS exactly as the agent's signer does (agent.md §9.2), and the temporary credentials it
// returns then accepted by SigV4.
#include <regex>

#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/backend/rsa_key.hpp"
#include "tests/api/api_fixture.hpp"

namespace mocksvc::api::testing {
namespace {

using V = std::vector<std::string>;
using namespace std::chrono_literals;

class RegistrationApiTest : public ApiTest {
 protected:
  static void SetUpTestSuite() {
    auto k = backend::generate_rsa_key_pair();
    ASSERT_TRUE(k);
    keys_ = new backend::RsaKeyPair(*k);
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  // CreateActivation as an administrator, then RegisterManagedInstance as the agent's
  // `-register` does: anonymous, no Authorization header.
  std::string register_instance() {
    auto act =
        call("CreateActivation",
             R"({"IamRole":"SSMServiceRole","DefaultInstanceName":"edge","RegistrationLimit":2})");
    EXPECT_EQ(act.status, 200) << act.body;
    EXPECT_EQ(keys(act.body), (V{"ActivationId", "ActivationCode"}));
    json a = body_of(act);
    json reg = {{"ActivationCode", a["ActivationCode"]},
                {"ActivationId", a["ActivationId"]},
                {"PublicKey", keys_->public_key},
                {"PublicKeyType", "Rsa"},
                {"Fingerprint", std::string(kFingerprint)}};
    auto r = send(json_request("AmazonSSM.RegisterManagedInstance", reg.dump()));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(keys(r.body), (V{"InstanceId"}));
    return body_of(r).value("InstanceId", std::string());
  }

  // The agent's RSA signer: aws-sdk-go's SigV4 canonical request and string to sign (signed
  // headers: every header but Authorization and User-Agent), the signature RSA-PSS(SHA-256,
  // salt 32) in base64, and X-Amz-Content-Sha256 added after signing.
  auth::HttpRequest rsa_signed(std::string_view op, std::string body,
                               const std::string& instance_id, const std::string& private_key) {
    auto r = json_request("AmazonSSM." + std::string(op), std::move(body));
    r.set_header("Content-Length", std::to_string(r.body.size()));
    const std::string amz_date = auth::format_amz_date(clock.now());
    r.set_header("X-Amz-Date", amz_date);
    const std::vector<std::string> signed_headers = {"content-length", "content-type", "host",
                                                     "x-amz-date", "x-amz-target"};
    const std::string scope = auth::credential_scope(amz_date.substr(0, 8), "us-east-1", "ssm");
    const std::string sts = auth::string_to_sign(
        amz_date, scope, auth::canonical_request(r, signed_headers, auth::payload_hash(r.body)));
    auto signature = backend::sign_rsa_pss_sha256(private_key, sts);
    EXPECT_TRUE(signature);
    r.set_header("Authorization",
                 "AWS4-HMAC-SHA256 Credential=" + instance_id + "/" + scope +
                     ", SignedHeaders=" + auth::join_signed_headers(signed_headers) +
                     ", Signature=" + signature.value_or(""));
    r.set_header("X-Amz-Content-Sha256", auth::payload_hash(r.body));
    return r;
  }

  static constexpr std::string_view kFingerprint = "c2a1e3f4-0b1d-4c4e-9a55-0123456789ab";
  static backend::RsaKeyPair* keys_;
};
backend::RsaKeyPair* RegistrationApiTest::keys_ = nullptr;

TEST_F(RegistrationApiTest, RegisteredAgentGetsRoleCredentialsThatSigV4ThenAccepts) {
  const std::string id = register_instance();
  ASSERT_TRUE(std::regex_match(id, std::regex("mi-[0-9a-f]{17}"))) << id;

  auto token = send(rsa_signed("RequestManagedInstanceRoleToken",
                               R"({"Fingerprint":")" + std::string(kFingerprint) + R"("})", id,
                               keys_->private_key));
  ASSERT_EQ(token.status, 200) << token.body;
  // A missing member crashes the agent's credential provider (agent.md §9.2).
  EXPECT_EQ(keys(token.body), (V{"AccessKeyId", "SecretAccessKey", "SessionToken",
                                 "TokenExpirationDate", "UpdateKeyPair"}));
  json t = body_of(token);
  ASSERT_TRUE(t["TokenExpirationDate"].is_number_integer());
  EXPECT_EQ(t["TokenExpirationDate"].get<std::int64_t>(),
            backend::epoch_millis(clock.now() + backend::kRoleCredentialLifetime) / 1000);
  EXPECT_EQ(t["UpdateKeyPair"], false);
  auto audit = backend.audit_lines(1);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].find(t["SecretAccessKey"].get<std::string>()), std::string::npos);

  const auth::Credentials temp{t["AccessKeyId"], t["SecretAccessKey"], t["SessionToken"]};
  auto update = call(
      "UpdateInstanceInformation",
      R"({"AgentName":"amazon-ssm-agent","AgentStatus":"Active","AgentVersion":"3.3.0.0",)"
      R"("AvailabilityZone":"","ComputerName":"edge-box","IPAddress":"192.168.7.7","InstanceId":")" +
          id +
          R"(","PlatformName":"Debian GNU/Linux","PlatformType":"Linux","PlatformVersion":"12",)"
          R"("SSMConnectionChannel":""})",
      "us-east-1", temp);
  ASSERT_EQ(update.status, 200) << update.body;

  auto list = call(
      "DescribeInstanceInformation",
      R"({"InstanceInformationFilterList":[{"key":"InstanceIds","valueSet":[")" + id + R"("]}]})");
  ASSERT_EQ(list.status, 200) << list.body;
  json i = body_of(list)["InstanceInformationList"][0];
  EXPECT_EQ(i["ComputerName"], "edge-box");
  EXPECT_EQ(i["IPAddress"], "192.168.7.7");
  EXPECT_EQ(i["PlatformName"], "Debian GNU/Linux");
  EXPECT_EQ(i["PlatformVersion"], "12");
  EXPECT_EQ(i["IamRole"], "SSMServiceRole");
  EXPECT_EQ(i["Name"], "edge");
  EXPECT_EQ(i["ResourceType"], "ManagedInstance");
  EXPECT_TRUE(i.contains("ActivationId"));
  EXPECT_TRUE(i.contains("RegistrationDate"));
  EXPECT_EQ(i["PingStatus"], "ConnectionLost");  // no control channel yet

  // The credentials act as the instance's role, in the instance's account.
  auto denied = call("UpdateInstanceInformation", R"({"InstanceId":"i-0123456789abcdef0"})",
                     "us-east-1", {temp.access_key_id, "wrong", temp.session_token});
  EXPECT_EQ(denied.status, 400);
  clock.advance(backend::kRoleCredentialLifetime);
  expect_error(
      call("UpdateInstanceInformation", R"({"InstanceId":")" + id + R"("})", "us-east-1", temp),
      "UnrecognizedClientException");
}

TEST_F(RegistrationApiTest, TamperedOrForeignSignaturesAreRefused) {
  const std::string id = register_instance();
  const std::string body = R"({"Fingerprint":")" + std::string(kFingerprint) + R"("})";
  auto tampered_body = rsa_signed("RequestManagedInstanceRoleToken", body, id, keys_->private_key);
  tampered_body.body = R"({"Fingerprint":"c2a1e3f4-0b1d-4c4e-9a55-000000000000"})";
  expect_error(send(tampered_body), "InvalidSignatureException");

  auto tampered_signature =
      rsa_signed("RequestManagedInstanceRoleToken", body, id, keys_->private_key);
  std::string auth_header(*tampered_signature.header("authorization"));
  auto pos = auth_header.find("Signature=") + 12;
  auth_header[pos] = auth_header[pos] == 'A' ? 'B' : 'A';
  tampered_signature.set_header("Authorization", auth_header);
  expect_error(send(tampered_signature), "InvalidSignatureException");

  auto other = backend::generate_rsa_key_pair();
  ASSERT_TRUE(other);
  expect_error(send(rsa_signed("RequestManagedInstanceRoleToken", body, id, other->private_key)),
               "InvalidSignatureException");
  expect_error(send(rsa_signed("RequestManagedInstanceRoleToken", body, "mi-0123456789abcdef0",
                               keys_->private_key)),
               "UnrecognizedClientException");
  expect_error(send(rsa_signed("RequestManagedInstanceRoleToken", R"({"Fingerprint":"elsewhere"})",
                               id, keys_->private_key)),
               "MachineFingerprintDoesNotMatch");
}

TEST_F(RegistrationApiTest, KeyRotationIsSignedWithTheOldKey) {
  const std::string id = register_instance();
  auto fresh = backend::generate_rsa_key_pair();
  ASSERT_TRUE(fresh);
  json update = {{"NewPublicKey", fresh->public_key}, {"NewPublicKeyType", "Rsa"}};
  auto r =
      send(rsa_signed("UpdateManagedInstancePublicKey", update.dump(), id, keys_->private_key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  const std::string body = R"({"Fingerprint":")" + std::string(kFingerprint) + R"("})";
  EXPECT_EQ(
      send(rsa_signed("RequestManagedInstanceRoleToken", body, id, fresh->private_key)).status,
      200);
  expect_error(send(rsa_signed("RequestManagedInstanceRoleToken", body, id, keys_->private_key)),
               "InvalidSignatureException");
}

TEST_F(RegistrationApiTest, RegistrationInputIsValidatedAsTheAgentsSdkModelSays) {
  auto r = send(json_request(
      "AmazonSSM.RegisterManagedInstance",
      R"({"ActivationCode":"short","ActivationId":"x","PublicKey":"k","Fingerprint":"f"})"));
  auto message = expect_error(r, "ValidationException");
  EXPECT_NE(message.find("3 validation errors detected"), std::string::npos) << message;
  auto wrong = send(json_request("AmazonSSM.RegisterManagedInstance",
                                 json({{"ActivationCode", std::string(20, 'A')},
                                       {"ActivationId", "00000000-0000-4000-8000-000000000000"},
                                       {"PublicKey", keys_->public_key},
                                       {"Fingerprint", "f"}})
                                     .dump()));
  expect_error(wrong, "InvalidActivation");
  expect_error(call("CreateActivation", R"({"DefaultInstanceName":"x"})"), "ValidationException");
  expect_error(call("CreateActivation", R"({"IamRole":"r","RegistrationLimit":1001})"),
               "ValidationException");
  expect_error(call("CreateActivation", R"({"IamRole":"r","ExpirationDate":"soon"})"),
               "SerializationException");
}

TEST_F(RegistrationApiTest, DescribeAndDeleteActivations) {
  auto created = call(
      "CreateActivation",
      R"({"IamRole":"SSMServiceRole","Description":"lab","Tags":[{"Key":"env","Value":"lab"}],)"
      R"("ExpirationDate":)" +
          std::to_string(backend::epoch_millis(clock.now() + 48h) / 1000) + "}");
  ASSERT_EQ(created.status, 200) << created.body;
  std::string id = body_of(created)["ActivationId"];
  auto list = call("DescribeActivations",
                   R"({"Filters":[{"FilterKey":"IamRole","FilterValues":["SSMServiceRole"]}]})");
  ASSERT_EQ(list.status, 200) << list.body;
  ojson j = ojson::parse(list.body);
  ASSERT_EQ(j["ActivationList"].size(), 1u);
  EXPECT_EQ(keys_of(j["ActivationList"][0]),
            (V{"ActivationId", "Description", "DefaultInstanceName", "IamRole", "RegistrationLimit",
               "RegistrationsCount", "ExpirationDate", "Expired", "CreatedDate", "Tags"}));
  EXPECT_EQ(j["ActivationList"][0]["Description"], "lab");
  EXPECT_EQ(j["ActivationList"][0]["RegistrationLimit"], 1);
  expect_error(call("DeleteActivation", R"({"ActivationId":"not-an-id"})"), "ValidationException");
  EXPECT_EQ(call("DeleteActivation", R"({"ActivationId":")" + id + R"("})").body, "{}");
  expect_error(call("DeleteActivation", R"({"ActivationId":")" + id + R"("})"),
               "InvalidActivationId");
}

}  // namespace
}  // namespace mocksvc::api::testing
