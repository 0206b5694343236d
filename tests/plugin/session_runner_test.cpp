// SessionRunner and its dialer against a scripted loopback endpoint: the upgrade (plain or
// SigV4-signed), the OpenDataChannel frame, frames both ways on the session's strand, and
// recovery through ResumeSession when the connection drops.
#include "plugin/session_runner.hpp"

#include <gtest/gtest.h>

#include <boost/asio/strand.hpp>
#include <future>
#include <mutex>

#include "mocksvc/auth/verify.hpp"
#include "mocksvc/client/scripted.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/plugin/fake_endpoint.hpp"

namespace ssmh::plugin {
namespace {

namespace asio = boost::asio;
namespace auth = mocksvc::auth;
namespace client = mocksvc::client;
namespace wire = mocksvc::wire;
using namespace std::chrono_literals;
using testing::FakeEndpoint;
using testing::json_response;

constexpr auto kWait = 10s;
const auth::Credentials kCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};

// One runner with a ScriptedHandler; destroyed after its threads stopped.
class RunnerFixture : public ::testing::Test {
 protected:
  void start(std::string stream_url, bool sign_upgrade) {
    io_.start();
    RunnerOptions o;
    o.session.session_id = "s-1";
    o.session.token_value = "tok-1";
    o.session.stream_url = std::move(stream_url);
    o.session.target = "i-0123456789abcdef0";
    o.session.region = "eu-west-3";
    o.session.seed = 5;
    o.ssm_endpoint = fake_.url();
    o.credentials = [] { return std::optional<auth::Credentials>(kCredentials); };
    o.sign_upgrade = sign_upgrade;
    o.retry.delay_min = 1ms;
    o.retry.delay_max = 2ms;
    o.print = [this](std::string_view s) {
      std::lock_guard l(mu_);
      printed_.append(s);
    };
    o.on_finished = [this](int code) { finished_.set_value(code); };
    auto strand = asio::make_strand(io_.executor());
    o.make_handler = [this](const client::SessionTypeInfo&) -> std::unique_ptr<client::SessionHandler> {
      client::ScriptedHandler::Options ho;
      ho.on_output = [this](wire::PayloadType, std::string_view bytes) {
        std::lock_guard l(mu_);
        output_.append(bytes);
      };
      return std::make_unique<client::ScriptedHandler>(runner_->scheduler(), ho);
    };
    runner_ = std::make_unique<SessionRunner>(strand, std::move(o));
    runner_->start();
  }

  void TearDown() override {
    if (runner_) {
      runner_->stop(0);
      EXPECT_EQ(finished_.get_future().wait_for(kWait), std::future_status::ready);
    }
    io_.stop();
    runner_.reset();
  }

  std::shared_ptr<FakeEndpoint::Connection> connection(std::size_t i) {
    if (!fake_.wait([&] { return fake_.connections().size() > i && fake_.snapshot(fake_.connections()[i]).peer; },
                    kWait))
      return nullptr;
    return fake_.connections()[i];
  }

  std::optional<wire::OpenDataChannel> open_frame(const std::shared_ptr<FakeEndpoint::Connection>& c) {
    if (!fake_.wait([&] { return !fake_.snapshot(c).texts.empty(); }, kWait)) return std::nullopt;
    auto parsed = wire::parse_open_data_channel(fake_.snapshot(c).texts.front());
    if (!parsed) return std::nullopt;
    return *parsed;
  }

  std::string output() {
    std::lock_guard l(mu_);
    return output_;
  }

  FakeEndpoint fake_;
  mocksvc::runtime::IoThreads io_{1};
  std::unique_ptr<SessionRunner> runner_;
  std::promise<int> finished_;
  std::mutex mu_;
  std::string printed_;
  std::string output_;
};

TEST_F(RunnerFixture, OpensTheDataChannelWithAPlainUpgrade) {
  start(fake_.ws_url(), false);
  auto c = connection(0);
  ASSERT_TRUE(c);
  auto open = open_frame(c);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token_value, "tok-1");
  EXPECT_EQ(open->client_version.value_or(""), "1.2.677.0");
  EXPECT_FALSE(open->client_id.value_or("").empty());
  auto up = fake_.upgrades();
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].target, "/v1/data-channel/s-1?role=publish_subscribe&cell-number=AAEA");
  EXPECT_FALSE(up[0].header("Authorization"));
  std::lock_guard l(mu_);
  EXPECT_EQ(printed_, "\nStarting session with SessionId: s-1\n");
}

TEST_F(RunnerFixture, SignsTheUpgradeForSsmMessagesWhenAsked) {
  start(fake_.ws_url(), true);
  ASSERT_TRUE(connection(0));
  auto up = fake_.upgrades();
  ASSERT_EQ(up.size(), 1u);
  auth::VerifyOptions vo;
  vo.now = auth::Clock::now();
  vo.expected_service = "ssmmessages";
  vo.expected_region = "eu-west-3";
  auto id = auth::verify(
      up[0], [](std::string_view) { return std::optional<auth::Credentials>(kCredentials); }, vo);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_FALSE(id->presigned);
}

TEST_F(RunnerFixture, LeavesAPresignedStreamUrlAsItIs) {
  start(fake_.ws_url() + "&X-Amz-Signature=abc&X-Amz-Credential=x", true);
  ASSERT_TRUE(connection(0));
  EXPECT_FALSE(fake_.upgrades().at(0).header("Authorization"));
}

TEST_F(RunnerFixture, DeliversOutputAndResumesAfterADrop) {
  start(fake_.ws_url(), false);
  auto c = connection(0);
  ASSERT_TRUE(c);
  ASSERT_TRUE(open_frame(c));
  // No handshake: the first Output makes it a shell session (§6.4); the client acks it.
  auto m = wire::make_message(wire::msg::kOutputStreamData, 0, wire::kFlagSyn, wire::PayloadType::output, "hello ");
  fake_.snapshot(c).peer->send_binary(wire::encode(m));
  ASSERT_TRUE(fake_.wait([&] { return output() == "hello "; }, kWait)) << output();
  ASSERT_TRUE(fake_.wait([&] { return !fake_.snapshot(c).binaries.empty(); }, kWait));

  // The service drops the connection: five failed reads, then ResumeSession with the new token.
  fake_.push_response(json_response(200, R"({"SessionId":"s-1","TokenValue":"tok-2","StreamUrl":"ws://ignored"})"));
  fake_.snapshot(c).peer->close(mocksvc::broker::CloseSpec{mocksvc::broker::CloseSpec::Kind::abrupt, 1000, ""});
  auto c2 = connection(1);
  ASSERT_TRUE(c2);
  auto open = open_frame(c2);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token_value, "tok-2");
  auto reqs = fake_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].header("X-Amz-Target").value_or(""), "AmazonSSM.ResumeSession");
  // 1.2.677 reconnects to the original URL.
  EXPECT_EQ(fake_.upgrades().at(1).target, fake_.upgrades().at(0).target);

  // The numbering continues on the new connection.
  auto m1 = wire::make_message(wire::msg::kOutputStreamData, 1, 0, wire::PayloadType::output, "again");
  fake_.snapshot(c2).peer->send_binary(wire::encode(m1));
  ASSERT_TRUE(fake_.wait([&] { return output() == "hello again"; }, kWait)) << output();
}

TEST_F(RunnerFixture, PrintsTheExitLineOnChannelClosed) {
  start(fake_.ws_url(), false);
  auto c = connection(0);
  ASSERT_TRUE(c);
  ASSERT_TRUE(open_frame(c));
  wire::ChannelClosed cc;
  cc.message_id = "1c3e8b9e-2b0c-4f7e-9d7e-0a5f3c1b2d4e";
  cc.created_date = "2026-11-25T00:00:00.000Z";
  cc.session_id = "s-1";
  auto m = wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none, cc.to_json());
  fake_.snapshot(c).peer->send_binary(wire::encode(m));
  auto f = finished_.get_future();
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(f.get(), 0);
  io_.stop();
  runner_.reset();
  std::lock_guard l(mu_);
  EXPECT_NE(printed_.find("\n\nExiting session with sessionId: s-1.\n\n"), std::string::npos) << printed_;
}

TEST(PresignQuery, RecognizesQueryAuthentication) {
  EXPECT_TRUE(has_presign_query("wss://h/p?role=x&X-Amz-Signature=abc"));
  EXPECT_TRUE(has_presign_query("wss://h/p?x-amz-credential=a"));
  EXPECT_FALSE(has_presign_query("wss://h/p?role=x&notX-Amz-Signature=abc"));
  EXPECT_FALSE(has_presign_query("wss://h/X-Amz-Signature=abc"));
}

}  // namespace
}  // namespace ssmh::plugin
