// A scripted fake agent against the whole service over real sockets: the ssmmessages REST
// calls, the control channel, interactive_shell, the agent's data channel relayed to a client's,
// agent_task_complete, ConnectionLost and channel_closed (agent.md §1, §2, §5, §6).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "mocksvc/app/config.hpp"
#include "mocksvc/app/service.hpp"
#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/net/http_client.hpp"
#include "mocksvc/net/ws_client.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "mocksvc/wire/channel_xml.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using json = nlohmann::json;
using HttpResult = boost::system::result<api::HttpResponse, std::string>;
using PeerResult = boost::system::result<std::shared_ptr<broker::Peer>, std::string>;

constexpr std::string_view kAgent = "mi-0123456789abcdef0";
constexpr auto kWait = 15s;

// What one WebSocket connection of the test received.
class Received final : public broker::Inbound {
 public:
  void on_text(std::string_view text) override {
    std::lock_guard l(mu_);
    texts_.emplace_back(text);
    cv_.notify_all();
  }
  void on_binary(wire::ByteView frame) override {
    auto d = wire::decode(frame);
    std::lock_guard l(mu_);
    if (d) frames_.push_back(d->message);
    cv_.notify_all();
  }
  void on_closed(bool, std::string_view) override {
    std::lock_guard l(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  std::optional<wire::Message> wait_frame(std::string_view type, std::size_t n = 0) {
    std::unique_lock l(mu_);
    std::optional<wire::Message> found;
    cv_.wait_for(l, kWait, [&] {
      std::size_t seen = 0;
      for (const auto& f : frames_) {
        if (f.message_type == type && seen++ == n) {
          found = f;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  bool wait_closed() {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, kWait, [&] { return closed_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<wire::Message> frames_;
  std::vector<std::string> texts_;
  bool closed_ = false;
};

asio::awaitable<HttpResult> http(std::string base, auth::HttpRequest request,
                                 std::function<void(auth::HttpRequest&)> sign) {
  auto ex = co_await asio::this_coro::executor;
  net::HttpClient client(ex, base);
  auto r = co_await client.send(std::move(request), std::move(sign));
  co_return r;
}

asio::awaitable<PeerResult> open_ws(net::WsConnectOptions options, net::BindInbound bind) {
  auto ex = co_await asio::this_coro::executor;
  auto r = co_await net::connect_websocket(ex, std::move(options), std::move(bind));
  co_return r;
}

wire::Bytes frame(std::string_view type, std::string_view payload, std::int64_t seq = 0,
                  std::uint64_t flags = 0, wire::PayloadType pt = wire::PayloadType::none) {
  return wire::encode(wire::make_message(type, seq, flags, pt, payload));
}

std::string ack_json(const wire::Message& m, std::string_view type) {
  wire::Acknowledge a;
  a.acknowledged_message_type = std::string(type);
  a.acknowledged_message_id = m.message_id.to_string();
  a.acknowledged_message_sequence_number = m.sequence_number;
  return a.to_json();
}

class AgentsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("ssmh-agents-e2e-" + std::to_string(::getpid()));
    ServiceConfig c = default_config();
    c.listen_host = "127.0.0.1";
    c.listen_port = 0;
    c.state_dir = dir_;
    c.tls = false;
    c.threads = 2;
    c.log_level = "warn";
    c.audit_log = "-";
    c.builtin_targets = false;
    backend::InstanceSpec agent;
    agent.instance_id = std::string(kAgent);
    agent.kind = backend::InstanceKind::agent;
    c.backend.instances.push_back(agent);
    service_ = std::make_unique<Service>(std::move(c));
    auto info = service_->start();
    ASSERT_TRUE(info) << info.error();
    endpoint_ = info->endpoint;
    creds_ = {info->access_key_id, info->secret_access_key, ""};
    io_.start();
  }
  void TearDown() override {
    service_->stop();
    io_.stop();
    std::filesystem::remove_all(dir_);
  }

  template <class T>
  T run(asio::awaitable<T> aw) {
    auto fut = asio::co_spawn(asio::make_strand(io_.context()), std::move(aw), asio::use_future);
    if (fut.wait_for(20s) != std::future_status::ready) throw std::runtime_error("timed out");
    return fut.get();
  }

  // ---- the agent's side ----

  // CreateControlChannel / CreateDataChannel as the agent's REST client sends them (§1, §3).
  HttpResult create_channel(const std::string& path, bool data) {
    auth::HttpRequest r;
    r.method = "POST";
    r.target = path;
    r.headers = {{"Content-Type", "application/json"}, {"Accept-Encoding", "gzip"}};
    r.body = R"({"MessageSchemaVersion":"1.0","RequestId":")" + base::random_uuid_string() + "\"" +
             (data ? R"(,"ClientId":"")" : "") + "}";
    auto creds = creds_;
    return run(http(endpoint_, std::move(r), [creds](auth::HttpRequest& req) {
      auth::SignOptions o;
      o.service = "ssmmessages";
      o.region = "us-east-1";
      o.now = auth::Clock::now();
      o.signed_headers = {"content-type", "host", "x-amz-date"};
      auth::sign_in_place(req, creds, o);
    }));
  }

  std::string token_of(const HttpResult& r) {
    EXPECT_TRUE(r) << r.error();
    if (!r) return {};
    EXPECT_EQ(r->status, 201) << r->body;
    auto reply = wire::parse_channel_token_reply(r->body);
    EXPECT_TRUE(reply) << r->body;
    return reply ? reply->token_value : std::string();
  }

  std::string ws_url(const std::string& target) {
    return "ws" + endpoint_.substr(4) + target;  // http://... -> ws://...
  }

  // The agent's signed upgrade (§2.2): host;x-amz-date over the path and query.
  PeerResult agent_ws(const std::string& target, std::shared_ptr<Received> in,
                      auth::Credentials creds) {
    net::WsConnectOptions o;
    o.url = ws_url(target);
    o.timeout = 10s;
    o.sign = [creds](auth::HttpRequest& req) {
      auth::SignOptions so;
      so.service = "ssmmessages";
      so.region = "us-east-1";
      so.now = auth::Clock::now();
      so.signed_headers = {"host", "x-amz-date"};
      auth::sign_in_place(req, creds, so);
    };
    return run(open_ws(std::move(o), [in](std::shared_ptr<broker::Peer>) { return in; }));
  }

  // CreateControlChannel, the upgrade and OpenControlChannel, as the agent's worker does.
  std::shared_ptr<broker::Peer> open_control_channel(std::shared_ptr<Received> in) {
    std::string token =
        token_of(create_channel("/v1/control-channel/" + std::string(kAgent), false));
    auto peer = agent_ws(
        "/v1/control-channel/" + std::string(kAgent) + "?role=subscribe&stream=input", in, creds_);
    EXPECT_TRUE(peer) << peer.error();
    if (!peer) return nullptr;
    (*peer)->send_text(R"({"Cookie":null,"MessageSchemaVersion":"1.0","RequestId":")" +
                       base::random_uuid_string() + R"(","TokenValue":")" + token +
                       R"(","AgentVersion":"3.3.0.0","PlatformType":"linux"})");
    return *peer;
  }

  // ---- the SSM API, as the CLI calls it ----

  json ssm(std::string_view op, std::string body, int expect_status = 200) {
    auth::HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                 {"X-Amz-Target", "AmazonSSM." + std::string(op)}};
    r.body = std::move(body);
    auto creds = creds_;
    auto res = run(http(endpoint_, std::move(r), [creds](auth::HttpRequest& req) {
      auth::SignOptions o;
      o.service = "ssm";
      o.region = "us-east-1";
      o.now = auth::Clock::now();
      auth::sign_in_place(req, creds, o);
    }));
    EXPECT_TRUE(res) << res.error();
    if (!res) return json();
    EXPECT_EQ(res->status, expect_status) << op << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }

  std::string ping_status() {
    json j = ssm("DescribeInstanceInformation",
                 R"({"InstanceInformationFilterList":[{"key":"InstanceIds","valueSet":[")" +
                     std::string(kAgent) + R"("]}]})");
    return j["InstanceInformationList"][0].value("PingStatus", "");
  }

  // The control channel's effect is asynchronous to the socket write: wait for the record.
  bool wait_ping(backend::PingStatus want) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (service_->backend().find_instance(kAgent)->ping_status != want) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  std::string session_status(const std::string& sid, std::string_view state) {
    json j = ssm("DescribeSessions", R"({"State":")" + std::string(state) +
                                         R"(","Filters":[{"key":"SessionId","value":")" + sid +
                                         R"("}]})");
    return j["Sessions"].empty() ? std::string() : j["Sessions"][0].value("Status", "");
  }

  bool wait_history(const std::string& sid) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (true) {
      auto s = service_->backend().find_session(sid);
      if (s && !backend::is_active(s->status)) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
  }

  runtime::IoThreads io_{2};
  std::filesystem::path dir_;
  std::unique_ptr<Service> service_;
  std::string endpoint_;
  auth::Credentials creds_;
};

TEST_F(AgentsE2eTest, FakeAgentServesASessionEndToEnd) {
  auto control_in = std::make_shared<Received>();
  auto control = open_control_channel(control_in);
  ASSERT_TRUE(control);
  ASSERT_TRUE(wait_ping(backend::PingStatus::online));
  EXPECT_EQ(ping_status(), "Online");

  // The client starts a session; the agent hears of it on its control channel.
  json started = ssm("StartSession", R"({"Target":")" + std::string(kAgent) + R"("})");
  const std::string sid = started.value("SessionId", "");
  ASSERT_FALSE(sid.empty());
  auto shell = control_in->wait_frame(wire::msg::kInteractiveShell);
  ASSERT_TRUE(shell);
  auto envelope = wire::parse_mgs_payload(shell->payload_text());
  ASSERT_TRUE(envelope);
  auto task = wire::parse_interactive_shell_task(envelope->content);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->session_id, sid);

  // The session worker: CreateDataChannel, the data channel, OpenDataChannel, Connected.
  std::string data_token = token_of(create_channel("/v1/data-channel/" + sid, true));
  auto agent_in = std::make_shared<Received>();
  auto agent = agent_ws("/v1/data-channel/" + sid + "?role=publish_subscribe", agent_in, creds_);
  ASSERT_TRUE(agent) << agent.error();
  (*agent)->send_text(R"({"MessageSchemaVersion":"1.0","RequestId":")" +
                      base::random_uuid_string() + R"(","TokenValue":")" + data_token +
                      R"(","ClientInstanceId":")" + std::string(kAgent) + R"(","ClientId":""})");
  wire::AgentSessionState connected;
  connected.session_state = "Connected";
  connected.session_id = sid;
  (*agent)->send_binary(frame(wire::msg::kAgentSessionState, connected.to_json(), 0, 3));

  // The client opens the StreamUrl with its token.
  auto client_in = std::make_shared<Received>();
  net::WsConnectOptions co;
  co.url = started.value("StreamUrl", "");
  co.timeout = 10s;
  auto client =
      run(open_ws(std::move(co), [client_in](std::shared_ptr<broker::Peer>) { return client_in; }));
  ASSERT_TRUE(client) << client.error();
  wire::OpenDataChannel open;
  open.request_id = base::random_uuid_string();
  open.token_value = started.value("TokenValue", "");
  open.client_id = base::random_uuid_string();
  open.client_version = "1.2.677.0";
  (*client)->send_text(open.to_json());

  // Input reaches the agent and its acknowledgement the client.
  (*client)->send_binary(
      frame(wire::msg::kInputStreamData, "echo hi\n", 0, 1, wire::PayloadType::output));
  auto input = agent_in->wait_frame(wire::msg::kInputStreamData);
  ASSERT_TRUE(input);
  EXPECT_EQ(input->payload_text(), "echo hi\n");
  (*agent)->send_binary(
      frame(wire::msg::kAcknowledge, ack_json(*input, "input_stream_data"), 0, 3));
  auto client_ack = client_in->wait_frame(wire::msg::kAcknowledge);
  ASSERT_TRUE(client_ack);
  EXPECT_NE(client_ack->payload_text().find(input->message_id.to_string()), std::string::npos);

  // Output reaches the client and its acknowledgement the agent.
  (*agent)->send_binary(
      frame(wire::msg::kOutputStreamData, "hi\r\n$ ", 0, 1, wire::PayloadType::output));
  auto output = client_in->wait_frame(wire::msg::kOutputStreamData);
  ASSERT_TRUE(output);
  EXPECT_EQ(output->payload_text(), "hi\r\n$ ");
  (*client)->send_binary(
      frame(wire::msg::kAcknowledge, ack_json(*output, "output_stream_data"), 0, 3));
  auto agent_ack = agent_in->wait_frame(wire::msg::kAcknowledge);
  ASSERT_TRUE(agent_ack);
  EXPECT_NE(agent_ack->payload_text().find(output->message_id.to_string()), std::string::npos);
  EXPECT_EQ(session_status(sid, "Active"), "Connected");

  // The plugin finishes: agent_task_complete, acknowledged by its MessageId.
  wire::AgentTaskComplete done;
  done.task_id = sid;
  done.final_task_status = "Success";
  done.instance_id = std::string(kAgent);
  auto complete = wire::make_message(wire::msg::kAgentTaskComplete, 0, 0, wire::PayloadType::none,
                                     done.to_json());
  control->send_binary(wire::encode(complete));
  auto ack = control_in->wait_frame(wire::msg::kAgentTaskAcknowledge);
  ASSERT_TRUE(ack);
  EXPECT_EQ(json::parse(ack->payload_text())["MessageId"], complete.message_id.to_string());
  EXPECT_TRUE(client_in->wait_frame(wire::msg::kChannelClosed));
  ASSERT_TRUE(wait_history(sid));
  EXPECT_EQ(session_status(sid, "History"), "Terminated");
  EXPECT_TRUE(client_in->wait_closed());
  EXPECT_TRUE(agent_in->wait_closed());
}

TEST_F(AgentsE2eTest, DroppedControlChannelMeansConnectionLostAndTargetNotConnected) {
  auto control_in = std::make_shared<Received>();
  auto control = open_control_channel(control_in);
  ASSERT_TRUE(control);
  ASSERT_TRUE(wait_ping(backend::PingStatus::online));
  // The real agent never sends a close frame: it drops the socket (§2.5).
  control->close({broker::CloseSpec::Kind::abrupt, 1006, ""});
  ASSERT_TRUE(wait_ping(backend::PingStatus::connection_lost));
  EXPECT_EQ(ping_status(), "ConnectionLost");
  json refused = ssm("StartSession", R"({"Target":")" + std::string(kAgent) + R"("})", 400);
  EXPECT_EQ(refused.value("__type", ""), "TargetNotConnected");
  json status = ssm("GetConnectionStatus", R"({"Target":")" + std::string(kAgent) + R"("})");
  EXPECT_EQ(status.value("Status", ""), "NotConnected");

  // Reconnecting (new CreateControlChannel, new token) brings it back.
  auto again_in = std::make_shared<Received>();
  auto again = open_control_channel(again_in);
  ASSERT_TRUE(again);
  EXPECT_TRUE(wait_ping(backend::PingStatus::online));
}

TEST_F(AgentsE2eTest, TerminateSessionSendsChannelClosedOnTheControlChannel) {
  auto control_in = std::make_shared<Received>();
  auto control = open_control_channel(control_in);
  ASSERT_TRUE(control);
  ASSERT_TRUE(wait_ping(backend::PingStatus::online));
  json started = ssm("StartSession", R"({"Target":")" + std::string(kAgent) + R"("})");
  const std::string sid = started.value("SessionId", "");
  ASSERT_TRUE(control_in->wait_frame(wire::msg::kInteractiveShell));
  ssm("TerminateSession", R"({"SessionId":")" + sid + R"("})");
  auto closed = control_in->wait_frame(wire::msg::kChannelClosed);
  ASSERT_TRUE(closed);
  auto payload = wire::parse_channel_closed(closed->payload_text());
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->session_id, sid);
  ASSERT_TRUE(wait_history(sid));
  // The session is over: a late data channel is told so in the words that stop the agent.
  auto late = create_channel("/v1/data-channel/" + sid, true);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 400);
  EXPECT_NE(late->body.find("Session is already terminated"), std::string::npos) << late->body;
}

TEST_F(AgentsE2eTest, BadSignaturesAreRefusedBeforeAnyChannelOpens) {
  auth::Credentials wrong{creds_.access_key_id, "not-the-secret", ""};
  auto in = std::make_shared<Received>();
  auto peer = agent_ws(
      "/v1/control-channel/" + std::string(kAgent) + "?role=subscribe&stream=input", in, wrong);
  ASSERT_FALSE(peer);
  EXPECT_NE(peer.error().find("403"), std::string::npos) << peer.error();

  auto saved = creds_;
  creds_ = wrong;
  auto r = create_channel("/v1/control-channel/" + std::string(kAgent), false);
  creds_ = saved;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body.rfind("<AccessDeniedException>", 0), 0u) << r->body;
}

}  // namespace
}  // namespace mocksvc::app
