// Interop with an independent SigV4 implementation: botocore_sign.py signs requests the way the
// Python SDK and the CLI do; these tests verify them, tamper with them, and re-sign them.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/auth/verify.hpp"

namespace mocksvc::auth {
namespace {

using nlohmann::json;

struct BotocoreRun {
  std::string skip_reason;  // non-empty: python3 or botocore is missing
  std::string failure;      // non-empty: the script ran and failed
  json document;
};

// Runs the script once per process; every test reads the same output.
const BotocoreRun& botocore_run() {
  static const BotocoreRun run = [] {
    BotocoreRun r;
    const std::string command = std::string("timeout 60 '") + SSMH_PYTHON3 + "' '" +
                                SSMH_BOTOCORE_SIGN_SCRIPT + "' 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
      r.skip_reason = "cannot start: " + command;
      return r;
    }
    std::string output;
    char buffer[4096];
    while (auto n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
    const int status = pclose(pipe);
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::string json_line, other;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      (line.starts_with("{\"botocore_version\"") ? json_line : other) += line;
    }
    if (code == 3 || code == 127) {
      r.skip_reason = "exit " + std::to_string(code) + " from `" + command + "`: " + other;
    } else if (code != 0 || json_line.empty()) {
      r.failure = "exit " + std::to_string(code) + " from `" + command + "`: " + output;
    } else {
      r.document = json::parse(json_line, nullptr, false);
      if (r.document.is_discarded()) {
        r.failure = "unparseable output: " + json_line;
      } else {
        std::printf("botocore %s via %s\n", r.document["botocore_version"].get<std::string>().c_str(),
                    r.document["python"].get<std::string>().c_str());
      }
    }
    return r;
  }();
  return run;
}

#define REQUIRE_BOTOCORE()                                           \
  do {                                                               \
    const auto& run_ = botocore_run();                               \
    if (!run_.skip_reason.empty()) GTEST_SKIP() << run_.skip_reason; \
    ASSERT_TRUE(run_.failure.empty()) << run_.failure;               \
  } while (false)

std::string str(const json& j) { return j.get<std::string>(); }

struct Case {
  json j;
  std::string name() const { return str(j["name"]); }
  bool presigned() const { return j["kind"] == "presign"; }
  Clock::time_point now() const { return Clock::time_point{std::chrono::seconds{j["epoch"].get<long>()}}; }
  Credentials credentials() const { return {str(j["access_key"]), str(j["secret"]), str(j["token"])}; }
  HttpRequest request() const {
    HttpRequest r{str(j["method"]), str(j["target"]), {}, str(j["body"])};
    for (const auto& h : j["headers"]) r.headers.emplace_back(str(h[0]), str(h[1]));
    return r;
  }
  std::string service() const { return str(j["service"]); }
  std::string region() const { return str(j["region"]); }
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto& c : botocore_run().document["cases"]) out.push_back({c});
  return out;
}

std::vector<std::string> signed_header_names(const HttpRequest& r) {
  auto identity = verify(r, nullptr, {.check_signature = false, .check_time = false});
  return identity ? identity->signed_headers : std::vector<std::string>{};
}

Result<Identity> verify_case(const HttpRequest& r, const Case& c, const Credentials& creds) {
  CredentialLookup lookup = [&](std::string_view akid) -> std::optional<Credentials> {
    if (akid == creds.access_key_id) return creds;
    return std::nullopt;
  };
  return verify(r, lookup, {.now = c.now()});
}

// A one-byte change: the last letter or digit becomes another one (never just another case,
// which would leave a case-insensitive comparison equal); nothing alphanumeric: append one.
std::string changed(std::string s) {
  for (auto i = s.size(); i-- > 0;) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (std::isdigit(ch)) {
      s[i] = s[i] == '0' ? '1' : '0';
      return s;
    }
    if (std::isalpha(ch)) {
      s[i] = (s[i] == 'q' || s[i] == 'Q') ? 'z' : 'q';
      return s;
    }
  }
  return s + "x";
}

// The request time moved by a few seconds, still a valid date: "20261124T055423Z" or
// "Tue, 24 Nov 2026 05:54:23 -0000" (the seconds' units digit is changed).
std::string changed_seconds(std::string s) {
  auto colon = s.rfind(':');
  auto at = colon == std::string::npos ? s.size() - 2 : colon + 2;
  s[at] = s[at] == '0' ? '1' : '0';
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string piece;
  std::istringstream in(s);
  while (std::getline(in, piece, sep)) out.push_back(piece);
  return out;
}

std::string join(const std::vector<std::string>& parts, char sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(1, sep) : "") + parts[i];
  return out;
}

TEST(SigV4, VerifiesEveryBotocoreSignedRequest) {
  REQUIRE_BOTOCORE();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    auto identity = verify_case(c.request(), c, c.credentials());
    ASSERT_TRUE(identity) << to_string(identity.error().code) << ": " << identity.error().message;
    EXPECT_EQ(identity->access_key_id, str(c.j["access_key"]));
    EXPECT_EQ(identity->region, c.region());
    EXPECT_EQ(identity->service, c.service());
    EXPECT_EQ(identity->session_token, str(c.j["token"]));
    EXPECT_EQ(identity->presigned, c.presigned());
    EXPECT_EQ(identity->string_to_sign, str(c.j["string_to_sign"]));
  }
}

TEST(SigV4, BuildsTheSameCanonicalRequestAsBotocore) {
  REQUIRE_BOTOCORE();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    const HttpRequest r = c.request();
    auto names = signed_header_names(r);
    ASSERT_FALSE(names.empty());
    auto content_sha = r.header("x-amz-content-sha256");
    const std::string hash = content_sha ? std::string(*content_sha) : payload_hash(r.body);
    EXPECT_EQ(canonical_request(r, names, hash), str(c.j["canonical_request"]));
  }
}

TEST(SigV4, SignsExactlyAsBotocoreDoes) {
  REQUIRE_BOTOCORE();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    HttpRequest r = c.request();
    if (c.presigned()) {
      PresignOptions options{c.service(), c.region(), c.now(), std::chrono::seconds{c.j["expires"].get<long>()}};
      EXPECT_EQ(presign_target(str(c.j["host"]), str(c.j["sign_target"]), c.credentials(), options),
                str(c.j["target"]));
      continue;
    }
    if (!r.header("x-amz-date")) continue;  // botocore dated it with Date; sign() always uses X-Amz-Date
    auto names = signed_header_names(r);
    r.remove_header("authorization");
    r.remove_header("x-amz-date");
    r.remove_header("x-amz-security-token");
    auto added = sign(r, c.credentials(), {c.service(), c.region(), c.now(), names, false});
    ASSERT_FALSE(added.empty());
    EXPECT_EQ(added.back().second, str(c.j["authorization"]));
    EXPECT_EQ(added.front().second, *c.request().header("x-amz-date"));
  }
}

TEST(SigV4, ChoosesBotocoresSignedHeadersForSdkCallsByDefault) {
  REQUIRE_BOTOCORE();
  int compared = 0;
  for (const auto& c : cases()) {
    const auto name = c.name();
    if (name != "ssm-json-python" && name != "ssm-json-python-token-port" &&
        name != "ssmmessages-control-channel" && name != "websocket-upgrade") {
      continue;
    }
    SCOPED_TRACE(name);
    ++compared;
    HttpRequest r = c.request();
    r.remove_header("authorization");
    auto added = sign(r, c.credentials(), {c.service(), c.region(), c.now(), {}, false});
    EXPECT_EQ(added.back().second, str(c.j["authorization"]));
  }
  EXPECT_EQ(compared, 4);
}

TEST(SigV4, RejectsOneByteChangesToBotocoreRequests) {
  REQUIRE_BOTOCORE();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    const HttpRequest original = c.request();
    const Credentials creds = c.credentials();
    ASSERT_TRUE(verify_case(original, c, creds));
    auto expect_rejected = [&](const HttpRequest& r, const Credentials& k, const std::string& what) {
      auto result = verify_case(r, c, k);
      EXPECT_FALSE(result) << "still verifies after changing " << what;
    };

    const auto names = signed_header_names(original);
    auto is_signed = [&](std::string_view header) {
      return std::any_of(names.begin(), names.end(), [&](const auto& n) { return iequals(n, header); });
    };
    for (const auto& name : names) {
      HttpRequest r = original;
      for (auto& [n, v] : r.headers) {
        if (iequals(n, name)) v = changed(v);
      }
      expect_rejected(r, creds, "signed header " + name);
    }
    HttpRequest later = original;
    for (auto& [n, v] : later.headers) {
      if (iequals(n, "x-amz-date") || (iequals(n, "date") && is_signed("date"))) v = changed_seconds(v);
    }
    if (c.presigned()) {
      const auto at = later.target.find("X-Amz-Date=") + std::string_view("X-Amz-Date=").size();
      later.target.replace(at, 16, changed_seconds(later.target.substr(at, 16)));
    }
    auto moved = verify_case(later, c, creds);
    ASSERT_FALSE(moved) << "still verifies with the date moved";
    EXPECT_EQ(moved.error().code, AuthError::signature_mismatch) << moved.error().message;

    if (!creds.session_token.empty()) {
      // A different token that the service would also accept still breaks the signature.
      Credentials other = creds;
      other.session_token = changed(creds.session_token);
      HttpRequest r = original;
      if (c.presigned()) {
        const auto at = r.target.find("X-Amz-Security-Token=") + std::string_view("X-Amz-Security-Token=").size();
        const auto end = r.target.find('&', at);
        r.target.replace(at, end - at, uri_encode(other.session_token, false));
      } else {
        r.set_header("X-Amz-Security-Token", other.session_token);
      }
      auto result = verify_case(r, c, other);
      ASSERT_FALSE(result) << "still verifies with another session token";
      EXPECT_EQ(result.error().code, AuthError::signature_mismatch) << result.error().message;
    }

    HttpRequest body = original;
    body.body = changed(body.body);
    expect_rejected(body, creds, "the body");

    HttpRequest method = original;
    method.method = original.method == "GET" ? "PUT" : "GET";
    expect_rejected(method, creds, "the method");

    HttpRequest path = original;
    const auto query_at = path.target.find('?');
    path.target = changed(std::string(original.path())) +
                  (query_at == std::string::npos ? "" : path.target.substr(query_at));
    expect_rejected(path, creds, "the path");

    const auto pieces = split(std::string(original.query()), '&');
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      if (pieces[i].starts_with("X-Amz-Signature=")) continue;
      auto altered = pieces;
      altered[i] = changed(altered[i]);
      HttpRequest r = original;
      r.target = std::string(original.path()) + "?" + join(altered, '&');
      expect_rejected(r, creds, "query parameter " + pieces[i]);
    }

    Credentials other_secret = creds;
    other_secret.secret_access_key = changed(creds.secret_access_key);
    expect_rejected(original, other_secret, "the secret");
    Credentials other_token = creds;
    other_token.session_token = changed(creds.session_token);
    expect_rejected(original, other_token, "the expected session token");

    HttpRequest sig = original;
    if (c.presigned()) {
      sig.target = changed(sig.target);
    } else {
      for (auto& [n, v] : sig.headers) {
        if (iequals(n, "authorization")) v = changed(v);
      }
    }
    expect_rejected(sig, creds, "the signature");
  }
}

TEST(SigV4, IgnoresChangesToUnsignedHeaders) {
  REQUIRE_BOTOCORE();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name());
    const HttpRequest original = c.request();
    const auto names = signed_header_names(original);
    int unsigned_headers = 0;
    for (const auto& [name, value] : original.headers) {
      const bool is_signed = std::any_of(names.begin(), names.end(), [&](const auto& s) { return iequals(s, name); });
      if (is_signed || iequals(name, "authorization")) continue;
      ++unsigned_headers;
      HttpRequest altered = original;
      altered.set_header(name, changed(value));
      auto result = verify_case(altered, c, c.credentials());
      EXPECT_TRUE(result) << "changing unsigned " << name << ": " << result.error().message;
      HttpRequest removed = original;
      removed.remove_header(name);
      EXPECT_TRUE(verify_case(removed, c, c.credentials())) << "removing unsigned " << name;
    }
    HttpRequest added = original;
    added.headers.emplace_back("X-Forwarded-For", "10.0.0.1");
    EXPECT_TRUE(verify_case(added, c, c.credentials()));
    if (c.name() != "dot-segments-and-double-slashes" && c.name() != "query-sorting-and-encoding") {
      EXPECT_GT(unsigned_headers, 0);
    }
  }
}

}  // namespace
}  // namespace mocksvc::auth
