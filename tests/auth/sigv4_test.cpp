#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/auth/verify.hpp"
#include "mocksvc/base/hex.hpp"

namespace mocksvc::auth {
namespace {

using std::chrono::seconds;

Clock::time_point utc(int y, unsigned mon, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mon} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// AWS's published SigV4 test suite (aws-sig-v4-test-suite): key, time, region and service.
const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Clock::time_point kSuiteTime = utc(2015, 8, 30, 12, 36, 0);

struct SuiteVector {
  const char* name;
  const char* method;
  const char* target;  // the request line's target, bytes as in the suite's .req file
  std::vector<std::pair<std::string, std::string>> extra_headers;
  const char* body;
  std::vector<std::string> signed_headers;
  const char* signature;
};

const std::vector<SuiteVector>& suite() {
  static const std::vector<SuiteVector> vectors = {
      {"get-vanilla", "GET", "/", {}, "", {"host", "x-amz-date"},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"post-vanilla", "POST", "/", {}, "", {"host", "x-amz-date"},
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-x-www-form-urlencoded", "POST", "/",
       {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1",
       {"content-type", "host", "x-amz-date"},
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"get-vanilla-query-order-key-case", "GET", "/?Param2=value2&Param1=value1", {}, "",
       {"host", "x-amz-date"}, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value", "GET", "/?Param1=value2&Param1=Value1", {}, "",
       {"host", "x-amz-date"}, "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1"},
      {"get-vanilla-empty-query-key", "GET", "/?Param1=value1", {}, "", {"host", "x-amz-date"},
       "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
      {"get-vanilla-query-unreserved", "GET",
       "/?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
       "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {}, "", {"host", "x-amz-date"},
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query", "GET", "/?\xe1\x88\xb4=bar", {}, "", {"host", "x-amz-date"},
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {}, "", {"host", "x-amz-date"},
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-utf8", "GET", "/\xe1\x88\xb4", {}, "", {"host", "x-amz-date"},
       "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"get-space", "GET", "/example space/", {}, "", {"host", "x-amz-date"},
       "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
      {"get-relative-relative", "GET", "/example1/example2/../..", {}, "", {"host", "x-amz-date"},
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-slashes", "GET", "//example//", {}, "", {"host", "x-amz-date"},
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"post-header-key-sort", "POST", "/", {{"My-Header1", "value1"}}, "",
       {"host", "my-header1", "x-amz-date"},
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case", "POST", "/", {{"My-Header1", "VALUE1"}}, "",
       {"host", "my-header1", "x-amz-date"},
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
  };
  return vectors;
}

HttpRequest suite_request(const SuiteVector& v) {
  HttpRequest r{v.method, v.target, {{"Host", "example.amazonaws.com"}}, v.body};
  for (const auto& h : v.extra_headers) r.headers.push_back(h);
  return r;
}

TEST(SigV4, SignsAwsTestSuiteVectors) {
  for (const auto& v : suite()) {
    SCOPED_TRACE(v.name);
    HttpRequest request = suite_request(v);
    auto added = sign(request, kSuiteCredentials,
                      {"service", "us-east-1", kSuiteTime, v.signed_headers, false});
    ASSERT_EQ(added.size(), 2u);
    EXPECT_EQ(added[0], (std::pair<std::string, std::string>{"X-Amz-Date", "20150830T123600Z"}));
    EXPECT_EQ(added[1].first, "Authorization");
    std::string signed_list;
    for (const auto& h : v.signed_headers) signed_list += (signed_list.empty() ? "" : ";") + h;
    EXPECT_EQ(added[1].second,
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=" + signed_list + ", Signature=" + v.signature);
  }
}

TEST(SigV4, VerifiesAwsTestSuiteVectors) {
  CredentialLookup lookup = [](std::string_view akid) -> std::optional<Credentials> {
    if (akid == kSuiteCredentials.access_key_id) return kSuiteCredentials;
    return std::nullopt;
  };
  for (const auto& v : suite()) {
    SCOPED_TRACE(v.name);
    HttpRequest request = suite_request(v);
    request.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
    std::string signed_list;
    for (const auto& h : v.signed_headers) signed_list += (signed_list.empty() ? "" : ";") + h;
    request.headers.emplace_back(
        "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                         "SignedHeaders=" + signed_list + ", Signature=" + v.signature);
    auto identity = verify(request, lookup, {.now = kSuiteTime});
    ASSERT_TRUE(identity) << identity.error().message;
    EXPECT_EQ(identity->service, "service");
  }
}

TEST(SigV4, DerivesTheDocumentedSigningKey) {
  // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
  auto key = derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
  EXPECT_EQ(base::to_hex(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(SigV4, FormatsAndParsesAmzDates) {
  auto t = utc(2026, 11, 24, 5, 54, 23);
  EXPECT_EQ(format_amz_date(t), "20261124T055423Z");
  EXPECT_EQ(format_amz_date(t + std::chrono::milliseconds(999)), "20261124T055423Z");
  EXPECT_EQ(parse_amz_date("20261124T055423Z"), t);
  EXPECT_EQ(parse_amz_date("20240229T000000Z"), utc(2024, 2, 29, 0, 0, 0));
  for (const char* bad : {"", "20261124T055423", "2026-11-24T05:54:23Z", "20261131T000000Z",
                          "20230229T000000Z", "20261124T245423Z", "20261124T056023Z",
                          "2026112aT055423Z", "20261124 055423Z"}) {
    EXPECT_FALSE(parse_amz_date(bad)) << bad;
  }
}

TEST(SigV4, ParsesHttpDates) {
  auto t = utc(2015, 8, 30, 12, 36, 0);
  EXPECT_EQ(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), t);
  EXPECT_EQ(parse_http_date("Sun, 30 Aug 2015 12:36:00 -0000"), t);
  EXPECT_EQ(parse_http_date("Sun, 6 Sep 2015 12:36:00 UTC"), utc(2015, 9, 6, 12, 36, 0));
  for (const char* bad : {"", "Sun, 30 Aug 2015 12:36:00 +0200", "Sun, 31 Sep 2015 12:36:00 GMT",
                          "Sunday, 30-Aug-15 12:36:00 GMT", "Sun, 30 Aug 2015 12:36 GMT",
                          "20150830T123600Z"}) {
    EXPECT_FALSE(parse_http_date(bad)) << bad;
  }
}

TEST(SigV4, EncodesLikeAwsUriEncode) {
  EXPECT_EQ(uri_encode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b+c/d=e&f%", false), "a%20b%2Bc%2Fd%3De%26f%25");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", false), "%E1%88%B4");
  EXPECT_EQ(percent_decode("a%20b%2fc+d%zz%4"), "a b/c+d%zz%4");
}

TEST(SigV4, NormalizesPathsAsBotocoreDoes) {
  EXPECT_EQ(canonical_uri(""), "/");
  EXPECT_EQ(canonical_uri("/"), "/");
  EXPECT_EQ(canonical_uri("//"), "/");
  EXPECT_EQ(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
  EXPECT_EQ(canonical_uri("/a/../.."), "/");
  EXPECT_EQ(canonical_uri("/v1/control-channel/mi-0123456789abcdef0"), "/v1/control-channel/mi-0123456789abcdef0");
  EXPECT_EQ(canonical_uri("/a%20b/c d"), "/a%2520b/c%20d");
}

TEST(SigV4, SortsAndReencodesTheQuery) {
  EXPECT_EQ(canonical_query(""), "");
  EXPECT_EQ(canonical_query("role=subscribe&stream=input"), "role=subscribe&stream=input");
  EXPECT_EQ(canonical_query("stream=input&role=subscribe"), "role=subscribe&stream=input");
  EXPECT_EQ(canonical_query("b=2&a=%2f%20z&A=1&a=0&flag&&empty="), "A=1&a=%2F%20z&a=0&b=2&empty=&flag=");
  EXPECT_EQ(canonical_query("a=x y&b=~*"), "a=x%20y&b=~%2A");
  EXPECT_EQ(canonical_query("X-Amz-Signature=abc&X-Amz-Date=1"), "X-Amz-Date=1");
}

TEST(SigV4, TrimsCollapsesAndJoinsHeaderValues) {
  HttpRequest r{"GET", "/", {{"Host", "h"}, {"My-Header", "  a   b\t\tc  "}, {"my-header", "d"}}, ""};
  const std::vector<std::string> names{"host", "my-header"};
  EXPECT_EQ(canonical_headers(r, names), "host:h\nmy-header:a b c,d\n");
}

TEST(SigV4, SignsHostDateTokenAmzAndContentTypeByDefault) {
  HttpRequest r{"POST", "/", {{"Host", "127.0.0.1:18080"}, {"Content-Type", "application/x-amz-json-1.1"},
                              {"X-Amz-Target", "AmazonSSM.StartSession"}, {"User-Agent", "aws-cli/2"},
                              {"Content-Length", "2"}}, "{}"};
  Credentials creds{"AKID", "secret", "token"};
  auto added = sign(r, creds, {"ssm", "us-east-1", kSuiteTime, {}, false});
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(added[1], (std::pair<std::string, std::string>{"X-Amz-Security-Token", "token"}));
  EXPECT_NE(added[2].second.find(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"),
            std::string::npos)
      << added[2].second;
}

TEST(SigV4, AddsContentSha256WhenAsked) {
  HttpRequest r{"POST", "/", {{"Host", "h"}, {"Content-Type", "application/x-amz-json-1.1"}}, "{}"};
  auto added = sign(r, {"AKID", "secret", ""}, {"ssm", "us-east-1", kSuiteTime, {}, true});
  ASSERT_EQ(added.size(), 3u);
  EXPECT_EQ(added[1].first, "X-Amz-Content-Sha256");
  EXPECT_EQ(added[1].second, payload_hash("{}"));
  EXPECT_NE(added[2].second.find("SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"),
            std::string::npos);
}

TEST(SigV4, ReplacesStaleAuthHeadersWhenSigningInPlace) {
  Credentials creds{"AKID", "secret", ""};
  HttpRequest r{"POST", "/", {{"Host", "h"}, {"Authorization", "stale"}, {"X-Amz-Date", "19700101T000000Z"},
                              {"X-Amz-Security-Token", "stale"}}, "{}"};
  sign_in_place(r, creds, {"ssm", "us-east-1", kSuiteTime, {}, false});
  EXPECT_EQ(r.header_values("authorization").size(), 1u);
  EXPECT_EQ(r.header("x-amz-date"), "20150830T123600Z");
  EXPECT_FALSE(r.header("x-amz-security-token"));
  auto identity = verify(r, [&](std::string_view) { return std::optional(creds); }, {.now = kSuiteTime});
  EXPECT_TRUE(identity) << identity.error().message;
}

TEST(SigV4, PresignsUrlsWithTheSchemesDefaultPortRemoved) {
  Credentials creds{"AKID", "secret", ""};
  PresignOptions options{"ssmmessages", "us-east-1", kSuiteTime, seconds{60}};
  auto wss = presign_url("wss://Example.com:443/v1/data-channel/s-1?role=publish_subscribe", creds, options);
  ASSERT_TRUE(wss);
  EXPECT_EQ(*wss, "wss://Example.com:443" +
                      presign_target("example.com", "/v1/data-channel/s-1?role=publish_subscribe", creds, options));
  auto port = presign_url("https://user@127.0.0.1:8443", creds, options);
  ASSERT_TRUE(port);
  EXPECT_EQ(*port, "https://user@127.0.0.1:8443" + presign_target("127.0.0.1:8443", "/", creds, options));
  EXPECT_TRUE(presign_url("ws://[::1]:80/x", creds, options)->starts_with("ws://[::1]:80/x?X-Amz-Algorithm="));
  EXPECT_FALSE(presign_url("not a url", creds, options));
  EXPECT_FALSE(presign_url("https:///path", creds, options));
}

TEST(SigV4, PresignsInBotocoreParameterOrder) {
  Credentials creds{"AKID", "secret", "tok/en="};
  auto target = presign_target("h", "/p?a=1", creds, {"svc", "us-east-1", kSuiteTime, seconds{300}});
  EXPECT_TRUE(target.starts_with(
      "/p?a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsvc%2Faws4_request"
      "&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host"
      "&X-Amz-Security-Token=tok%2Fen%3D&X-Amz-Signature="))
      << target;
  EXPECT_EQ(presign_target("h", "/p?", creds, {"svc", "us-east-1", kSuiteTime, seconds{300}}).substr(0, 19),
            "/p?X-Amz-Algorithm=");
}

}  // namespace
}  // namespace mocksvc::auth
