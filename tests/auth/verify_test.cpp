#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/auth/verify.hpp"

namespace mocksvc::auth {
namespace {

using std::chrono::seconds;

// 2026-11-24T05:54:23Z, the example time of ssm-api.md §1.
const Clock::time_point kT0 = Clock::time_point{seconds{1795499663}};
const Credentials kTemporary{"ASIAEXAMPLETEMPORARY", "temporary/secret+key", "session-token/abc=="};
const Credentials kLongTerm{"AKIAEXAMPLELONGTERM1", "long-term/secret+key", ""};

std::optional<Credentials> lookup_known(std::string_view akid) {
  if (akid == kTemporary.access_key_id) return kTemporary;
  if (akid == kLongTerm.access_key_id) return kLongTerm;
  return std::nullopt;
}

HttpRequest json_call() {
  return {"POST", "/",
          {{"Host", "127.0.0.1:18080"},
           {"Content-Type", "application/x-amz-json-1.1"},
           {"X-Amz-Target", "AmazonSSM.StartSession"},
           {"User-Agent", "aws-cli/2.9.19"}},
          R"({"Target": "i-0123456789abcdef0"})"};
}

HttpRequest signed_call(const Credentials& creds = kTemporary, SignOptions options = {}) {
  if (options.service.empty()) options.service = "ssm";
  if (options.region.empty()) options.region = "us-east-1";
  if (options.now == Clock::time_point{}) options.now = kT0;
  HttpRequest r = json_call();
  sign_in_place(r, creds, options);
  return r;
}

void replace_in_header(HttpRequest& r, std::string_view name, std::string_view from, std::string_view to) {
  std::string value(*r.header(name));
  auto at = value.find(from);
  ASSERT_NE(at, std::string::npos) << value;
  value.replace(at, from.size(), to);
  r.set_header(name, value);
}

Result<Identity> check(const HttpRequest& r, VerifyOptions options = {}) {
  if (options.now == Clock::time_point{}) options.now = kT0;
  return verify(r, lookup_known, options);
}

void expect_failure(const Result<Identity>& result, AuthError code, std::string_view message_part = {}) {
  ASSERT_FALSE(result) << "verified, expected " << to_string(code);
  EXPECT_EQ(result.error().code, code) << to_string(result.error().code) << ": " << result.error().message;
  EXPECT_NE(result.error().message.find(message_part), std::string::npos) << result.error().message;
}

TEST(SigV4, VerifiesItsOwnSignatures) {
  for (const auto* creds : {&kTemporary, &kLongTerm}) {
    auto identity = check(signed_call(*creds));
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->access_key_id, creds->access_key_id);
    EXPECT_EQ(identity->region, "us-east-1");
    EXPECT_EQ(identity->service, "ssm");
    EXPECT_EQ(identity->date, "20261124");
    EXPECT_EQ(identity->amz_date, "20261124T055423Z");
    EXPECT_EQ(identity->session_token, creds->session_token);
    EXPECT_FALSE(identity->presigned);
  }
}

TEST(SigV4, RejectsRequestWithoutAuthentication) {
  expect_failure(check(json_call()), AuthError::missing_authentication, "Missing Authentication Token");
  HttpRequest blank = json_call();
  blank.headers.emplace_back("Authorization", "  ");
  expect_failure(check(blank), AuthError::missing_authentication);
}

TEST(SigV4, RejectsAuthorizationWithoutRequiredParameters) {
  HttpRequest r = signed_call();
  r.set_header("Authorization", "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLETEMPORARY/20261124/us-east-1/ssm/aws4_request");
  expect_failure(check(r), AuthError::malformed_authorization,
                 "Authorization header requires 'Signature' parameter. Authorization header requires "
                 "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=");
  r.remove_header("X-Amz-Date");
  expect_failure(check(r), AuthError::malformed_authorization,
                 "requires existence of either a 'X-Amz-Date' or a 'Date' header");
  r.set_header("Authorization", "eyJhbGciOiJIUzI1NiJ9.e30.sig");
  expect_failure(check(r), AuthError::malformed_authorization,
                 "Authorization header requires 'Credential' parameter.");
}

TEST(SigV4, RejectsAuthorizationPairWithoutEqualSign) {
  HttpRequest r = signed_call();
  replace_in_header(r, "Authorization", "Credential=", "Credential ");
  expect_failure(check(r), AuthError::malformed_authorization,
                 "not a valid key=value pair (missing equal-sign) in Authorization header");
}

TEST(SigV4, RejectsMalformedCredentialAndSignedHeaders) {
  HttpRequest r = signed_call();
  replace_in_header(r, "Authorization", "/ssm/aws4_request", "/ssm");
  expect_failure(check(r), AuthError::malformed_authorization, "Credential is malformed");
  r = signed_call();
  replace_in_header(r, "Authorization", "SignedHeaders=content-type;", "SignedHeaders=content-type;;");
  expect_failure(check(r), AuthError::malformed_authorization, "SignedHeaders is malformed");
}

TEST(SigV4, RejectsUnsupportedAlgorithm) {
  HttpRequest r = signed_call();
  replace_in_header(r, "Authorization", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
  expect_failure(check(r), AuthError::unsupported_algorithm, "'AWS4-HMAC-SHA512'");
  r.set_header("Authorization", "Bearer abc.def");
  expect_failure(check(r), AuthError::unsupported_algorithm, "'Bearer'");
}

TEST(SigV4, RejectsBothAuthMechanisms) {
  HttpRequest r = signed_call();
  r.target = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256";
  expect_failure(check(r), AuthError::malformed_authorization, "Only one auth mechanism allowed");
}

TEST(SigV4, RejectsMissingDate) {
  HttpRequest r = signed_call();
  r.remove_header("X-Amz-Date");
  expect_failure(check(r), AuthError::missing_date,
                 "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                 "Authorization=AWS4-HMAC-SHA256");
}

TEST(SigV4, RejectsMalformedDates) {
  HttpRequest r = signed_call();
  r.set_header("X-Amz-Date", "2026-11-24T05:54:23Z");
  expect_failure(check(r), AuthError::malformed_date,
                 "Date must be in ISO-8601 'basic format'. Got '2026-11-24T05:54:23Z'.");
  r.set_header("X-Amz-Date", "20261131T055423Z");
  expect_failure(check(r), AuthError::malformed_date);
  r.remove_header("X-Amz-Date");
  r.set_header("Date", "yesterday");
  expect_failure(check(r), AuthError::malformed_date, "RFC 1123");
}

TEST(SigV4, VerifiesARequestDatedByTheDateHeader) {
  // botocore signs `date` instead of `x-amz-date` when the request already has a Date header.
  HttpRequest r = json_call();
  r.headers.emplace_back("Date", "Tue, 24 Nov 2026 05:54:23 GMT");
  const std::vector<std::string> names{"content-type", "date", "host", "x-amz-target"};
  const auto scope = credential_scope("20261124", "us-east-1", "ssm");
  const auto sts = string_to_sign("20261124T055423Z", scope,
                                  canonical_request(r, names, payload_hash(r.body)));
  r.headers.emplace_back("Authorization",
                         "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLELONGTERM1/" + scope +
                             ",SignedHeaders=content-type;date;host;x-amz-target,Signature=" +
                             signature(kLongTerm.secret_access_key, "20261124", "us-east-1", "ssm", sts));
  auto identity = check(r);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->amz_date, "20261124T055423Z");
}

TEST(SigV4, RejectsUnsignedHost) {
  HttpRequest r = signed_call(kTemporary, {.signed_headers = {"content-type", "x-amz-date"}});
  expect_failure(check(r), AuthError::missing_signed_header,
                 "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
}

TEST(SigV4, RejectsSignedHeaderAbsentFromRequest) {
  HttpRequest r = signed_call();
  r.remove_header("X-Amz-Target");
  expect_failure(check(r), AuthError::missing_signed_header, "'x-amz-target'");
}

TEST(SigV4, RejectsScopeThatDisagreesWithTheRequest) {
  HttpRequest r = signed_call();
  replace_in_header(r, "Authorization", "/20261124/", "/20261123/");
  expect_failure(check(r), AuthError::scope_mismatch,
                 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                 "HTTP: '20261123' != '20261124', from '20261124T055423Z'.");
  r = signed_call();
  replace_in_header(r, "Authorization", "aws4_request", "aws5_request");
  expect_failure(check(r), AuthError::scope_mismatch,
                 "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.");
  r = signed_call();
  expect_failure(check(r, {.expected_service = "ssmmessages"}), AuthError::scope_mismatch,
                 "Credential should be scoped to correct service: 'ssmmessages'.");
  expect_failure(check(r, {.expected_region = "eu-west-1"}), AuthError::scope_mismatch,
                 "Credential should be scoped to a valid region, not 'us-east-1'.");
  EXPECT_TRUE(check(r, {.expected_service = "ssm", .expected_region = "us-east-1"}));
}

TEST(SigV4, RejectsUnknownAccessKey) {
  HttpRequest r = signed_call({"AKIAUNKNOWNUNKNOWN00", "x", ""});
  auto result = check(r);
  expect_failure(result, AuthError::unknown_access_key);
  EXPECT_EQ(result.error().message, "The security token included in the request is invalid.");
}

TEST(SigV4, RejectsMissingUnexpectedOrWrongSessionToken) {
  Credentials without_token = kTemporary;
  without_token.session_token.clear();
  expect_failure(check(signed_call(without_token)), AuthError::invalid_security_token,
                 "The security token included in the request is invalid.");
  Credentials with_token = kLongTerm;
  with_token.session_token = "unexpected";
  expect_failure(check(signed_call(with_token)), AuthError::invalid_security_token);
  Credentials wrong_token = kTemporary;
  wrong_token.session_token += "x";
  expect_failure(check(signed_call(wrong_token)), AuthError::invalid_security_token);
}

TEST(SigV4, RejectsWrongSignatureWithTheCanonicalStrings) {
  HttpRequest r = signed_call();
  r.body += " ";
  auto result = check(r);
  expect_failure(result, AuthError::signature_mismatch,
                 "The request signature we calculated does not match the signature you provided. Check "
                 "your AWS Secret Access Key and signing method. Consult the service documentation for "
                 "details.");
  EXPECT_NE(result.error().message.find("The Canonical String for this request should have been\n'POST\n/\n"),
            std::string::npos);
  EXPECT_NE(result.error().message.find("The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"),
            std::string::npos);
  r = signed_call(Credentials{kTemporary.access_key_id, "not-the-secret", kTemporary.session_token});
  expect_failure(check(r), AuthError::signature_mismatch);
}

TEST(SigV4, RejectsContentSha256ThatDisagreesWithTheBody) {
  HttpRequest r = signed_call(kTemporary, {.add_content_sha256 = true});
  ASSERT_TRUE(check(r));
  r.body += " ";
  expect_failure(check(r), AuthError::payload_hash_mismatch,
                 "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

TEST(SigV4, AcceptsUnsignedPayload) {
  HttpRequest r = json_call();
  r.headers.emplace_back("X-Amz-Content-Sha256", std::string(kUnsignedPayload));
  sign_in_place(r, kTemporary, {"ssm", "us-east-1", kT0, {}, false});
  r.body = "anything";
  EXPECT_TRUE(check(r));
}

TEST(SigV4, AcceptsClockSkewUpToTheWindowOnly) {
  HttpRequest r = signed_call();
  EXPECT_TRUE(check(r, {.now = kT0 + seconds{900}}));
  EXPECT_TRUE(check(r, {.now = kT0 - seconds{900}}));
  expect_failure(check(r, {.now = kT0 + seconds{901}}), AuthError::request_expired,
                 "Signature expired: 20261124T055423Z is now earlier than 20261124T055424Z "
                 "(20261124T060924Z - 15 min.)");
  expect_failure(check(r, {.now = kT0 + seconds{1800}}), AuthError::request_expired,
                 "Signature expired: 20261124T055423Z is now earlier than 20261124T060923Z "
                 "(20261124T062423Z - 15 min.)");
  expect_failure(check(r, {.now = kT0 - seconds{901}}), AuthError::request_in_future,
                 "Signature not yet current: 20261124T055423Z is still later than 20261124T055422Z "
                 "(20261124T053922Z + 15 min.)");
  expect_failure(check(r, {.now = kT0 + seconds{301}, .max_skew = seconds{300}}), AuthError::request_expired,
                 "- 5 min.)");
  EXPECT_TRUE(check(r, {.now = kT0 + std::chrono::hours{48}, .check_time = false}));
}

TEST(SigV4, ParseOnlyModeAcceptsAnySignatureButKeepsTheIdentity) {
  HttpRequest good = signed_call();
  auto strict = check(good);
  ASSERT_TRUE(strict);
  HttpRequest r = good;
  replace_in_header(r, "Authorization", "Signature=", "Signature=0");
  VerifyOptions parse_only{.now = kT0, .check_signature = false};
  auto identity = verify(r, nullptr, parse_only);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->access_key_id, kTemporary.access_key_id);
  EXPECT_EQ(identity->region, "us-east-1");
  EXPECT_EQ(identity->string_to_sign, strict->string_to_sign);
  EXPECT_EQ(identity->signature.size(), 65u);
  // The on-prem RSA variant carries a base64 signature; its shape parses just the same.
  replace_in_header(r, "Authorization", "Signature=0", "Signature=q+/Zw==");
  EXPECT_TRUE(verify(r, nullptr, parse_only));
  expect_failure(verify(r, nullptr, {.now = kT0 + std::chrono::hours{1}, .check_signature = false}),
                 AuthError::request_expired);
  r.set_header("Authorization", "AWS4-HMAC-SHA256 Credential=x");
  expect_failure(verify(r, nullptr, parse_only), AuthError::malformed_authorization);
}

TEST(SigV4, ParsesAuthorizationHeaders) {
  auto parsed = parse_authorization(
      "AWS4-HMAC-SHA256 Credential=AKID/20261124/us-east-1/ssmmessages/aws4_request,SignedHeaders=host;"
      "x-amz-date;x-amz-security-token,   Signature=abc");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->algorithm, "AWS4-HMAC-SHA256");
  EXPECT_EQ(parsed->access_key_id, "AKID");
  EXPECT_EQ(parsed->date, "20261124");
  EXPECT_EQ(parsed->region, "us-east-1");
  EXPECT_EQ(parsed->service, "ssmmessages");
  EXPECT_EQ(parsed->scope(), "20261124/us-east-1/ssmmessages/aws4_request");
  EXPECT_EQ(parsed->signed_headers, (std::vector<std::string>{"host", "x-amz-date", "x-amz-security-token"}));
  EXPECT_EQ(parsed->signature, "abc");
}

// A presigned WebSocket URL as the mock hands out in StreamUrl.
HttpRequest presigned_get(const Credentials& creds, seconds expires = seconds{300}) {
  return {"GET",
          presign_target("127.0.0.1:8443", "/v1/data-channel/s-1?role=publish_subscribe", creds,
                         {"ssmmessages", "us-east-1", kT0, expires}),
          {{"Host", "127.0.0.1:8443"}, {"Upgrade", "websocket"}},
          ""};
}

void replace_in_target(HttpRequest& r, std::string_view from, std::string_view to) {
  auto at = r.target.find(from);
  ASSERT_NE(at, std::string::npos) << r.target;
  r.target.replace(at, from.size(), to);
}

TEST(SigV4, VerifiesPresignedUrlsUntilTheyExpire) {
  for (const auto* creds : {&kTemporary, &kLongTerm}) {
    HttpRequest r = presigned_get(*creds);
    auto identity = check(r);
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_TRUE(identity->presigned);
    EXPECT_EQ(identity->session_token, creds->session_token);
    EXPECT_EQ(identity->service, "ssmmessages");
    EXPECT_TRUE(check(r, {.now = kT0 + seconds{300}}));
    expect_failure(check(r, {.now = kT0 + seconds{301}}), AuthError::presign_expired,
                   "Request has expired: X-Amz-Date 20261124T055423Z + X-Amz-Expires 300 seconds = "
                   "20261124T055923Z, which is earlier than 20261124T055924Z.");
    expect_failure(check(r, {.now = kT0 - seconds{901}}), AuthError::request_in_future);
  }
  // A presigned URL lives for its X-Amz-Expires, even past the header-auth skew window.
  EXPECT_TRUE(check(presigned_get(kTemporary, seconds{3600}), {.now = kT0 + seconds{3000}}));
}

TEST(SigV4, RejectsTamperedPresignedUrls) {
  HttpRequest r = presigned_get(kTemporary);
  replace_in_target(r, "publish_subscribe", "publish_subscribf");
  expect_failure(check(r), AuthError::signature_mismatch);
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Expires=300", "X-Amz-Expires=3000");
  expect_failure(check(r), AuthError::signature_mismatch);
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Security-Token=session-token", "X-Amz-Security-Token=session-tokem");
  expect_failure(check(r), AuthError::invalid_security_token);
  r = presigned_get(kTemporary);
  r.set_header("Host", "127.0.0.1:8444");
  expect_failure(check(r), AuthError::signature_mismatch);
}

TEST(SigV4, RejectsMalformedPresignParameters) {
  HttpRequest r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-SignedHeaders=host&", "");
  expect_failure(check(r), AuthError::malformed_authorization,
                 "AWS query-string parameters must include 'X-Amz-Algorithm'");
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Date=", "X-Amz-Datum=");
  expect_failure(check(r), AuthError::missing_date);
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256");
  expect_failure(check(r), AuthError::unsupported_algorithm, "X-Amz-Algorithm only supports");
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Expires=300", "X-Amz-Expires=604801");
  expect_failure(check(r), AuthError::malformed_authorization, "604800");
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Expires=300", "X-Amz-Expires=-1");
  expect_failure(check(r), AuthError::malformed_authorization, "X-Amz-Expires");
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-Date=20261124T055423Z", "X-Amz-Date=20261124");
  expect_failure(check(r), AuthError::malformed_date);
  r = presigned_get(kTemporary);
  replace_in_target(r, "X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=upgrade");
  expect_failure(check(r), AuthError::missing_signed_header, "'Host'");
}

TEST(SigV4, AcceptsPresignedUrlsSignedWithUnsignedPayload) {
  // S3-style presigners put UNSIGNED-PAYLOAD where botocore puts the empty body's hash.
  const std::string base = "/v1/data-channel/s-1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                           "AKIAEXAMPLELONGTERM1%2F20261124%2Fus-east-1%2Fssmmessages%2Faws4_request"
                           "&X-Amz-Date=20261124T055423Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host";
  HttpRequest r{"GET", base, {{"Host", "h"}}, ""};
  const std::vector<std::string> names{"host"};
  const auto sts = string_to_sign("20261124T055423Z", credential_scope("20261124", "us-east-1", "ssmmessages"),
                                  canonical_request(r, names, kUnsignedPayload));
  r.target += "&X-Amz-Signature=" +
              signature(kLongTerm.secret_access_key, "20261124", "us-east-1", "ssmmessages", sts);
  auto identity = check(r);
  ASSERT_TRUE(identity) << identity.error().message;
  EXPECT_EQ(identity->string_to_sign, sts);
}

TEST(SigV4, NeverThrowsOnGarbage) {
  std::mt19937 rng(20261124);
  const std::string alphabet = "AWS4-HMAC-SHA256 Credential=/;,=%&?X-Amz-Date0123456789TZabc\t ";
  auto garbage = [&](std::size_t max_len) {
    std::string s(rng() % (max_len + 1), ' ');
    for (auto& ch : s) ch = (rng() % 8 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
    return s;
  };
  const HttpRequest good = signed_call();
  const HttpRequest presigned = presigned_get(kTemporary);
  for (int i = 0; i < 3000; ++i) {
    HttpRequest r = i % 2 ? good : presigned;
    switch (i % 5) {
      case 0: r.set_header("Authorization", garbage(160)); break;
      case 1: r.set_header("X-Amz-Date", garbage(20)); break;
      case 2: r.target = "/" + garbage(200); break;
      case 3: r.target += "&" + garbage(40); break;
      default: r.set_header(garbage(12), garbage(12)); break;
    }
    EXPECT_NO_THROW({
      auto result = check(r);
      auto parse_only = verify(r, nullptr, {.now = kT0, .check_signature = false});
      auto parsed = parse_authorization(r.header("authorization").value_or(""));
    });
  }
}

TEST(SigV4, MapsEveryErrorToAnAwsCodeAndStatus) {
  struct Row {
    AuthError error;
    std::string_view code;
    int status;
  };
  const Row rows[] = {
      {AuthError::missing_authentication, "MissingAuthenticationTokenException", 400},
      {AuthError::malformed_authorization, "IncompleteSignatureException", 400},
      {AuthError::unsupported_algorithm, "IncompleteSignatureException", 400},
      {AuthError::missing_date, "IncompleteSignatureException", 400},
      {AuthError::malformed_date, "IncompleteSignatureException", 400},
      {AuthError::missing_signed_header, "IncompleteSignatureException", 400},
      {AuthError::scope_mismatch, "InvalidSignatureException", 400},
      {AuthError::unknown_access_key, "UnrecognizedClientException", 400},
      {AuthError::invalid_security_token, "UnrecognizedClientException", 400},
      {AuthError::signature_mismatch, "InvalidSignatureException", 400},
      {AuthError::payload_hash_mismatch, "InvalidSignatureException", 400},
      {AuthError::request_expired, "InvalidSignatureException", 400},
      {AuthError::request_in_future, "InvalidSignatureException", 400},
      {AuthError::presign_expired, "InvalidSignatureException", 403},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(aws_error_code(row.error), row.code) << to_string(row.error);
    EXPECT_EQ(http_status(row.error), row.status) << to_string(row.error);
  }
}

}  // namespace
}  // namespace mocksvc::auth
