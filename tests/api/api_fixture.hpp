// Shared set-up for the api tests: a backend on a manual clock with two accounts and a few
// instances, and helpers that build SSM JSON 1.1 requests signed the way botocore signs them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mocksvc/api/service.hpp"
#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api::testing {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

inline constexpr std::string_view kWeb = "i-0123456789abcdef0";
inline constexpr std::string_view kDown = "i-0aaaaaaaaaaaaaaaa";
inline constexpr std::string_view kEu = "i-0bbbbbbbbbbbbbbbb";
inline constexpr std::string_view kManaged = "mi-0123456789abcdef0";

inline const auth::Credentials kAlice{"AKIDALICE", "alice-secret", ""};
inline const auth::Credentials kTemp{"ASIATEMP", "temp-secret", "session-token-value"};

struct ManualClock {
  std::shared_ptr<backend::TimePoint> t =
      std::make_shared<backend::TimePoint>(backend::from_epoch_millis(1795499663000));
  backend::ClockFn fn() const {
    auto p = t;
    return [p] { return *p; };
  }
  void advance(backend::Clock::duration d) { *t += d; }
  backend::TimePoint now() const { return *t; }
};

inline backend::BackendConfig api_config() {
  backend::BackendConfig c;
  c.seed = 7;
  c.accounts.push_back({"AKIDALICE", "alice-secret", "", "111122223333", "alice", ""});
  c.accounts.push_back({"ASIATEMP", "temp-secret", "session-token-value", "111122223333", "",
                        "arn:aws:sts::111122223333:assumed-role/Dev/temp"});
  auto add = [&](std::string_view id, auto&& tweak) {
    backend::InstanceSpec s;
    s.instance_id = std::string(id);
    s.account_id = "111122223333";
    tweak(s);
    c.instances.push_back(s);
  };
  add(kWeb, [](backend::InstanceSpec& s) {
    s.name = "web";
    s.ip_address = "10.0.0.5";
    s.computer_name = "web.internal";
  });
  add(kDown,
      [](backend::InstanceSpec& s) { s.ping_status = backend::PingStatus::connection_lost; });
  add(kEu, [](backend::InstanceSpec& s) { s.region = "eu-west-1"; });
  add(kManaged, [](backend::InstanceSpec& s) {
    s.iam_role = "SSMServiceRole";
    s.activation_id = "11111111-2222-4333-8444-555555555555";
  });
  return c;
}

inline auth::HttpRequest json_request(std::string_view target, std::string body) {
  auth::HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"Host", "127.0.0.1:18080"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", std::string(target)},
               {"User-Agent", "aws-cli/2.9.19 Python/3.11.2 command/ssm.test"}};
  r.body = std::move(body);
  return r;
}

class ApiTest : public ::testing::Test {
 protected:
  explicit ApiTest(backend::BackendConfig config = api_config())
      : backend(std::move(config), clock.fn()), service(backend, hooks) {}

  void sign(auth::HttpRequest& r, const auth::Credentials& who = kAlice,
            std::string_view region = "us-east-1", std::string_view svc = "ssm") {
    auth::SignOptions o;
    o.service = std::string(svc);
    o.region = std::string(region);
    o.now = clock.now();
    auth::sign_in_place(r, who, o);
  }

  HttpResponse send(const auth::HttpRequest& r) { return service.handle(r, context); }

  // A signed AmazonSSM.<op> call.
  HttpResponse call(std::string_view op, std::string body, std::string_view region = "us-east-1",
                    const auth::Credentials& who = kAlice) {
    auto r = json_request("AmazonSSM." + std::string(op), std::move(body));
    sign(r, who, region);
    return send(r);
  }

  static json body_of(const HttpResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.body;
    return j;
  }

  static std::vector<std::string> keys(const std::string& body) {
    ojson j = ojson::parse(body);
    std::vector<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
    return out;
  }
  static std::vector<std::string> keys_of(const ojson& j) {
    std::vector<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
    return out;
  }

  // Asserts an AWS JSON 1.1 error answer and returns its message.
  static std::string expect_error(const HttpResponse& r, std::string_view code, int status = 400) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("x-amzn-ErrorType"), code);
    EXPECT_EQ(r.header("Content-Type"), "application/x-amz-json-1.1");
    EXPECT_TRUE(r.header("x-amzn-RequestId"));
    json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j["__type"], code) << r.body;
    EXPECT_EQ(keys(r.body), (std::vector<std::string>{"__type", "message"}));
    return j.value("message", std::string());
  }

  std::string start_session_id(std::string_view target = kWeb,
                               std::string_view region = "us-east-1") {
    auto r = call("StartSession", R"({"Target":")" + std::string(target) + R"("})", region);
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r).value("SessionId", std::string());
  }

  ManualClock clock;
  backend::Backend backend;
  NullAdminHooks hooks;
  Service service;
  RequestContext context{"192.0.2.10", true, "ssm.example:8443"};
};

}  // namespace mocksvc::api::testing
