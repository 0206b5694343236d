// API faults: the injector's verdict for SSM API calls, on a controlled clock.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "mocksvc/fault/injector.hpp"
#include "tests/fault/harness.hpp"

namespace mocksvc::fault::testing {
namespace {

struct ApiRig {
  explicit ApiRig(std::string_view rules) : injector(io.get_executor()) { injector.activate(with_rules(rules, 5)); }
  ApiOutcome call(std::string_view op, Clock::time_point at, std::string_view key = "AKIA1",
                  std::string_view target = "i-0123456789abcdef0") {
    return injector.before_api_call(ApiCall{op, key, target, "", at});
  }
  boost::asio::io_context io;
  Injector injector;
  Clock::time_point t0 = Clock::now();
};

TEST(Throttle, AnswersRateExceededOnceTheBucketIsEmpty) {
  ApiRig r(R"([{"name":"t","type":"throttle","match":{"operations":"StartSession"},
                "attributes":{"rate_per_second":1,"burst":2}}])");
  EXPECT_FALSE(r.call("StartSession", r.t0).error);
  EXPECT_FALSE(r.call("StartSession", r.t0).error);
  auto third = r.call("StartSession", r.t0);
  ASSERT_TRUE(third.error);
  EXPECT_EQ(third.error->code, "ThrottlingException");
  EXPECT_EQ(third.error->message, "Rate exceeded");
  EXPECT_EQ(third.error->http_status, 400);
  EXPECT_FALSE(r.call("DescribeSessions", r.t0).error);
  EXPECT_FALSE(r.call("StartSession", r.t0 + 1s).error);
  EXPECT_TRUE(r.call("StartSession", r.t0 + 1s).error);
  auto s = r.injector.stats();
  EXPECT_EQ(s.throttled(), 2u);
  EXPECT_EQ(s.rule("t")->matched, 5u);
  EXPECT_EQ(s.rule("t")->applied, 2u);
}

TEST(Throttle, KeepsOneBucketPerAccessKeyUnlessToldOtherwise) {
  ApiRig per_key(R"([{"name":"t","type":"throttle","attributes":{"rate_per_second":1}}])");
  EXPECT_FALSE(per_key.call("StartSession", per_key.t0, "AKIA1").error);
  EXPECT_FALSE(per_key.call("StartSession", per_key.t0, "AKIA2").error);
  EXPECT_TRUE(per_key.call("StartSession", per_key.t0, "AKIA1").error);
  ApiRig shared(R"([{"name":"t","type":"throttle","attributes":{"rate_per_second":1,"per":"rule"}}])");
  EXPECT_FALSE(shared.call("StartSession", shared.t0, "AKIA1").error);
  EXPECT_TRUE(shared.call("StartSession", shared.t0, "AKIA2").error);
}

TEST(Error, AnswersTheGivenCodeAndStatusForTheNthCall) {
  ApiRig r(R"([{"name":"e","type":"error","match":{"operations":"ResumeSession","nth":2},
                "attributes":{"code":"AccessDeniedException","message":"no","http_status":403}}])");
  EXPECT_FALSE(r.call("ResumeSession", r.t0).error);
  auto second = r.call("ResumeSession", r.t0);
  ASSERT_TRUE(second.error);
  EXPECT_EQ(second.error->code, "AccessDeniedException");
  EXPECT_EQ(second.error->message, "no");
  EXPECT_EQ(second.error->http_status, 403);
  EXPECT_FALSE(r.call("ResumeSession", r.t0).error);
}

TEST(Latency, DelaysTheAnswerAndDelaysAddUp) {
  ApiRig r(R"([{"name":"a","type":"latency","attributes":{"latency_ms":200}},
               {"name":"b","type":"latency","match":{"operations":"StartSession"},"attributes":{"latency_ms":50}}])");
  auto o = r.call("StartSession", r.t0);
  EXPECT_FALSE(o.error);
  EXPECT_EQ(o.delay, std::chrono::milliseconds(250));
  EXPECT_EQ(r.call("DescribeSessions", r.t0).delay, std::chrono::milliseconds(200));
  EXPECT_EQ(r.injector.stats().api_delayed, 2u);
}

TEST(TargetNotConnected, RefusesStartSessionForTheTarget) {
  ApiRig r(R"([{"name":"t","type":"target_not_connected","match":{"targets":"i-0123456789abcdef0"}}])");
  auto o = r.call("StartSession", r.t0);
  ASSERT_TRUE(o.error);
  EXPECT_EQ(o.error->code, "TargetNotConnected");
  EXPECT_NE(o.error->message.find("i-0123456789abcdef0"), std::string::npos);
  EXPECT_FALSE(r.call("StartSession", r.t0, "AKIA1", "i-0fedcba9876543210").error);
  EXPECT_FALSE(r.call("GetConnectionStatus", r.t0).error);
}

TEST(ApiRules, FirstErrorWinsAndProbabilityIsSeeded) {
  auto run = [] {
    ApiRig r(R"([{"name":"flaky","type":"error","probability":0.5,"attributes":{"code":"InternalServerError",
                  "http_status":500}},{"name":"never","type":"error","attributes":{"code":"Other"}}])");
    std::string pattern;
    for (int i = 0; i < 40; ++i) pattern += r.call("DescribeSessions", r.t0).error->code == "Other" ? 'o' : 'i';
    return pattern;
  };
  auto a = run();
  EXPECT_EQ(a, run());
  EXPECT_NE(a.find('o'), std::string::npos);
  EXPECT_NE(a.find('i'), std::string::npos);
}

TEST(ApiRules, NothingActiveMeansNoVerdict) {
  boost::asio::io_context io;
  Injector injector(io.get_executor());
  auto o = injector.before_api_call(ApiCall{"StartSession", "AKIA", "i-1", "", Clock::now()});
  EXPECT_FALSE(o.acted);
  EXPECT_FALSE(o.error);
}

}  // namespace
}  // namespace mocksvc::fault::testing
