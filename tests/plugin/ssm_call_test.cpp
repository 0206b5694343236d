// The SSM API caller against a scripted loopback endpoint: the wire shape of a call, its
// signature, the retry policy and what the control plane makes of the answers.
#include "plugin/ssm_call.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

#include "mocksvc/auth/verify.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "tests/plugin/fake_endpoint.hpp"

namespace ssmh::plugin {
namespace {

namespace asio = boost::asio;
namespace auth = mocksvc::auth;
using namespace std::chrono_literals;
using testing::FakeEndpoint;
using testing::json_response;

constexpr auto kWait = 10s;
const auth::Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

// Retries in milliseconds rather than seconds, so the policy is exercised quickly.
RetryPolicy fast_retries() {
  RetryPolicy p;
  p.delay_min = 1ms;
  p.delay_max = 3ms;
  return p;
}

SsmEndpoint endpoint_for(const std::string& url, auth::Credentials credentials = kCredentials) {
  SsmEndpoint e;
  e.url = url;
  e.region = "eu-west-3";
  e.credentials = [credentials] { return std::optional<auth::Credentials>(credentials); };
  e.retry = fast_retries();
  e.timeout = 5000ms;
  e.seed = 11;
  return e;
}

SsmResult run_call(mocksvc::runtime::IoThreads& io, SsmEndpoint e, std::string op, std::string body) {
  auto f = asio::co_spawn(io.executor(), call_ssm(io.executor(), std::move(e), std::move(op), std::move(body)),
                          asio::use_future);
  if (f.wait_for(kWait) != std::future_status::ready) {
    ADD_FAILURE() << "the call did not finish";
    return {};
  }
  return f.get();
}

class SsmCallTest : public ::testing::Test {
 protected:
  void SetUp() override { io_.start(); }
  void TearDown() override { io_.stop(); }
  mocksvc::runtime::IoThreads io_{1};
  FakeEndpoint fake_;
};

TEST_F(SsmCallTest, SendsAJson11CallSignedLikeTheGoSdk) {
  fake_.push_response(json_response(200, R"({"SessionId":"s-1"})"));
  auto r = run_call(io_, endpoint_for(fake_.url()), "ResumeSession", R"({"SessionId":"s-1"})");
  EXPECT_TRUE(r.ok()) << r.status << " " << r.error;
  EXPECT_EQ(r.body, R"({"SessionId":"s-1"})");
  EXPECT_EQ(r.attempts, 1);
  auto reqs = fake_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.method, "POST");
  EXPECT_EQ(q.target, "/");
  EXPECT_EQ(q.header("Content-Type").value_or(""), "application/x-amz-json-1.1");
  EXPECT_EQ(q.header("X-Amz-Target").value_or(""), "AmazonSSM.ResumeSession");
  EXPECT_EQ(q.body, R"({"SessionId":"s-1"})");
  EXPECT_FALSE(q.header("X-Amz-Security-Token"));

  auth::VerifyOptions vo;
  vo.now = auth::Clock::now();
  vo.expected_service = "ssm";
  vo.expected_region = "eu-west-3";
  auto id = auth::verify(
      q, [](std::string_view key) -> std::optional<auth::Credentials> {
        if (key == kCredentials.access_key_id) return kCredentials;
        return std::nullopt;
      },
      vo);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(id->signed_headers,
            (std::vector<std::string>{"content-length", "content-type", "host", "x-amz-date", "x-amz-target"}));
}

TEST_F(SsmCallTest, SignsTheSessionTokenWithTemporaryCredentials) {
  auto creds = kCredentials;
  creds.session_token = "FwoGZXIvYXdzEXAMPLE";
  auto r = run_call(io_, endpoint_for(fake_.url(), creds), "TerminateSession", R"({"SessionId":"s-1"})");
  EXPECT_TRUE(r.ok());
  auto reqs = fake_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("X-Amz-Security-Token").value_or(""), "FwoGZXIvYXdzEXAMPLE");
  auto parsed = auth::parse_authorization(reqs[0].header("Authorization").value_or(""));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->signed_headers, (std::vector<std::string>{"content-length", "content-type", "host", "x-amz-date",
                                                              "x-amz-security-token", "x-amz-target"}));
  EXPECT_EQ(parsed->service, "ssm");
}

TEST_F(SsmCallTest, RetriesServerErrorsAndThrottlingThenSucceeds) {
  fake_.push_response(json_response(500, R"({"__type":"InternalServerError","message":"x"})"));
  fake_.push_response(json_response(400, R"({"__type":"com.amazonaws.ssm#ThrottlingException","message":"slow"})"));
  fake_.push_response(json_response(503, "not json"));
  fake_.push_response(json_response(200, R"({"SessionId":"s-1"})"));
  auto r = run_call(io_, endpoint_for(fake_.url()), "ResumeSession", "{}");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(fake_.request_count(), 4u);
}

TEST_F(SsmCallTest, GivesUpAfterThreeRetries) {
  for (int i = 0; i < 5; ++i) fake_.push_response(json_response(500, R"({"__type":"InternalServerError"})"));
  auto r = run_call(io_, endpoint_for(fake_.url()), "ResumeSession", "{}");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.error, "InternalServerError");
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(fake_.request_count(), 4u);
}

TEST_F(SsmCallTest, DoesNotRetryClientErrors) {
  fake_.push_response(json_response(400, R"({"__type":"DoesNotExistException","message":"no such session"})"));
  auto r = run_call(io_, endpoint_for(fake_.url()), "ResumeSession", "{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "DoesNotExistException");
  EXPECT_EQ(r.attempts, 1);
}

TEST_F(SsmCallTest, RetriesConnectionErrors) {
  // A port nobody listens on: bind one, read it back, close it.
  asio::io_context ctx;
  asio::ip::tcp::acceptor a(ctx, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = a.local_endpoint().port();
  a.close();
  auto r = run_call(io_, endpoint_for("http://127.0.0.1:" + std::to_string(port)), "ResumeSession", "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(r.attempts, 4);
}

TEST_F(SsmCallTest, FailsAtOnceWithoutCredentials) {
  auto e = endpoint_for(fake_.url());
  e.credentials = [] { return std::optional<auth::Credentials>(); };
  auto r = run_call(io_, e, "ResumeSession", "{}");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(fake_.request_count(), 0u);
}

TEST(RetryPolicy, DoublesAJitteredBase) {
  std::mt19937_64 rng(3);
  RetryPolicy p;
  for (int n = 0; n < 3; ++n) {
    for (int i = 0; i < 200; ++i) {
      const auto d = retry_delay(p, n, rng);
      EXPECT_GE(d, (1000ms) * (1 << n));
      EXPECT_LT(d, (1500ms) * (1 << n));
    }
  }
}

TEST(RetryPolicy, ClassifiesWhatTheSdkRetries) {
  auto result = [](int status, std::string code) {
    SsmResult r;
    r.status = status;
    r.error = std::move(code);
    return r;
  };
  EXPECT_TRUE(is_retryable(result(0, "cannot connect")));
  EXPECT_TRUE(is_retryable(result(500, "InternalServerError")));
  EXPECT_TRUE(is_retryable(result(503, "")));
  EXPECT_TRUE(is_retryable(result(429, "")));
  EXPECT_TRUE(is_retryable(result(400, "ThrottlingException")));
  EXPECT_TRUE(is_retryable(result(400, "Throttling")));
  EXPECT_FALSE(is_retryable(result(501, "")));
  EXPECT_FALSE(is_retryable(result(400, "ValidationException")));
  EXPECT_FALSE(is_retryable(result(400, "InvalidSignatureException")));
  EXPECT_FALSE(is_retryable(result(200, "")));
}

TEST(AwsErrorCode, ReadsTheHeaderThenTheBody) {
  EXPECT_EQ(aws_error_code(R"({"__type":"com.amazonaws.ssm#DoesNotExistException"})", std::nullopt),
            "DoesNotExistException");
  EXPECT_EQ(aws_error_code(R"({"code":"Throttling"})", std::nullopt), "Throttling");
  EXPECT_EQ(aws_error_code("{}", std::string_view("ThrottlingException:http://internal.amazon.com/")),
            "ThrottlingException");
  EXPECT_EQ(aws_error_code("<html>", std::nullopt), "");
}

// ---- the control plane --------------------------------------------------------------------

class ControlPlaneTest : public SsmCallTest {
 protected:
  mocksvc::client::ResumeResult resume() {
    auto api = SsmApi::create(io_.executor(), endpoint_for(fake_.url()));
    auto cp = make_control_plane(api, asio::make_strand(io_.executor()));
    std::promise<mocksvc::client::ResumeResult> p;
    cp.resume_session("s-1", [&p](mocksvc::client::ResumeResult r) { p.set_value(std::move(r)); });
    auto f = p.get_future();
    if (f.wait_for(kWait) != std::future_status::ready) {
      ADD_FAILURE() << "ResumeSession did not complete";
      return {};
    }
    return f.get();
  }
};

TEST_F(ControlPlaneTest, ResumeSessionReturnsTheNewTokenAndUrl) {
  fake_.push_response(json_response(200, R"({"SessionId":"s-1","TokenValue":"tok-2","StreamUrl":"wss://x/y"})"));
  auto r = resume();
  EXPECT_FALSE(r.call_failed);
  EXPECT_EQ(r.token_value.value_or("?"), "tok-2");
  EXPECT_EQ(r.stream_url.value_or("?"), "wss://x/y");
  auto reqs = fake_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, R"({"SessionId":"s-1"})");
  EXPECT_EQ(reqs[0].header("X-Amz-Target").value_or(""), "AmazonSSM.ResumeSession");
}

TEST_F(ControlPlaneTest, ResumeSessionWithoutTokenIsAnAnswerNotAFailure) {
  fake_.push_response(json_response(200, R"({"SessionId":"s-1","TokenValue":null})"));
  auto r = resume();
  EXPECT_FALSE(r.call_failed);
  EXPECT_FALSE(r.token_value);
}

TEST_F(ControlPlaneTest, ResumeSessionFailsOnErrorsAndMalformedAnswers) {
  fake_.push_response(json_response(400, R"({"__type":"DoesNotExistException"})"));
  EXPECT_TRUE(resume().call_failed);
  fake_.push_response(json_response(200, "[1,2]"));
  EXPECT_TRUE(resume().call_failed);
}

TEST_F(ControlPlaneTest, TerminateSessionCallsTheApiOnce) {
  auto api = SsmApi::create(io_.executor(), endpoint_for(fake_.url()));
  auto cp = make_control_plane(api, asio::make_strand(io_.executor()));
  cp.terminate_session("s-9");
  ASSERT_TRUE(fake_.wait([&] { return fake_.request_count() >= 1; }, kWait));
  auto reqs = fake_.requests();
  EXPECT_EQ(reqs[0].header("X-Amz-Target").value_or(""), "AmazonSSM.TerminateSession");
  EXPECT_EQ(reqs[0].body, R"({"SessionId":"s-9"})");
}

}  // namespace
}  // namespace ssmh::plugin
