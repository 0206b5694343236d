// Real agents' control channels and the launcher that drives sessions over them, with
// in-memory peers standing in for WebSocket connections (agent.md §2, §5, §6).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/backend.hpp"
#include "mocksvc/backend/managed_agents.hpp"
#include "mocksvc/broker/broker.hpp"
#include "mocksvc/broker/control_channel.hpp"
#include "mocksvc/broker/real_agent_launcher.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::broker {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr std::string_view kAgent = "mi-0123456789abcdef0";
constexpr std::string_view kAccount = "111122223333";
constexpr auto kWait = 10s;

// A connection as the broker sees it: records what is sent to it and how it is closed.
class FakePeer final : public Peer {
 public:
  void send_binary(wire::Bytes frame) override {
    auto d = wire::decode(frame);
    std::lock_guard l(mu_);
    if (d) {
      frames_.push_back(d->message);
    } else {
      wire::Message bad;
      bad.message_type = "<undecodable>";
      frames_.push_back(bad);
    }
    cv_.notify_all();
  }
  void send_text(std::string text) override {
    std::lock_guard l(mu_);
    texts_.push_back(std::move(text));
    cv_.notify_all();
  }
  void close(CloseSpec spec) override {
    std::lock_guard l(mu_);
    if (!closed_) closed_ = spec;
    cv_.notify_all();
  }
  std::size_t queued_bytes() const override { return 0; }
  void when_drained(std::function<void()> fn) override { fn(); }
  std::string describe() const override { return "fake peer"; }

  // The n-th frame (from 0) of `type`, waiting for it.
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
  std::optional<CloseSpec> wait_closed() {
    std::unique_lock l(mu_);
    cv_.wait_for(l, kWait, [&] { return closed_.has_value(); });
    return closed_;
  }
  std::size_t count(std::string_view type) {
    std::lock_guard l(mu_);
    std::size_t n = 0;
    for (const auto& f : frames_) n += f.message_type == type;
    return n;
  }
  bool is_closed() {
    std::lock_guard l(mu_);
    return closed_.has_value();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<wire::Message> frames_;
  std::vector<std::string> texts_;
  std::optional<CloseSpec> closed_;
};

wire::Bytes agent_frame(std::string_view type, std::string_view payload,
                        wire::PayloadType pt = wire::PayloadType::none, std::int64_t seq = 0,
                        std::uint64_t flags = 0) {
  return wire::encode(wire::make_message(type, seq, flags, pt, payload));
}

void feed(Inbound& in, const wire::Bytes& frame) {
  in.on_binary(wire::ByteView(frame.data(), frame.size()));
}

backend::BackendConfig config() {
  backend::BackendConfig c;
  c.seed = 5;
  c.accounts.push_back({"AKIDALICE", "alice-secret", "", std::string(kAccount), "alice", ""});
  backend::InstanceSpec agent;
  agent.instance_id = std::string(kAgent);
  agent.account_id = std::string(kAccount);
  agent.kind = backend::InstanceKind::agent;
  c.instances = {agent};
  return c;
}

template <typename Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class ControlChannelTest : public ::testing::Test {
 protected:
  ControlChannelTest()
      : backend(config()),
        io(1),
        broker(io.executor(), backend),
        channels(backend),
        launcher(channels, backend) {
    backend.set_observer(&broker);
    broker.set_agent_launcher(&launcher);
    broker.set_agent_token_check(launcher.token_check());
    io.start();
  }
  ~ControlChannelTest() override {
    broker.shutdown();
    backend.set_observer(nullptr);
    io.stop();
  }

  backend::Caller alice() { return backend.caller_for("AKIDALICE", "us-east-1"); }

  // A control channel as the agent opens it: CreateControlChannel, then OpenControlChannel.
  std::shared_ptr<Inbound> open_channel(const std::shared_ptr<FakePeer>& peer,
                                        std::string version = "3.3.40.0") {
    auto token = backend.agents().create_control_channel(alice(), kAgent);
    EXPECT_TRUE(token);
    auto in = channels.bind(std::string(kAgent), peer);
    wire::OpenControlChannel open;
    open.request_id = "0e0b1a5c-8a36-4c59-b0a3-5a4e0fbd37a1";
    open.token_value = token ? *token : std::string();
    open.agent_version = std::move(version);
    open.platform_type = "linux";
    in->on_text(open.to_json());
    return in;
  }

  backend::SessionCredentials start_session() {
    backend::StartSessionRequest req;
    req.target = std::string(kAgent);
    auto s = backend.start_session(alice(), req, {false, "127.0.0.1:1"});
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? *s : backend::SessionCredentials{};
  }

  backend::PingStatus ping() { return backend.find_instance(kAgent)->ping_status; }

  bool ended_as(const std::string& sid, backend::SessionStatus status) {
    return eventually([&] {
      auto s = backend.find_session(sid);
      return s && s->status == status;
    });
  }

  backend::Backend backend;
  runtime::IoThreads io;
  Broker broker;
  ControlChannels channels;
  RealAgentLauncher launcher;
};

TEST_F(ControlChannelTest, OpenWithAValidTokenPutsTheInstanceOnline) {
  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  EXPECT_TRUE(channels.connected(kAgent));
  EXPECT_FALSE(peer->is_closed());
  EXPECT_EQ(ping(), backend::PingStatus::online);
  auto info = backend.find_instance(kAgent);
  EXPECT_EQ(info->spec.agent_version, "3.3.40.0");
  EXPECT_EQ(info->spec.platform_type, "Linux");
  EXPECT_EQ(channels.agent_version(kAgent), "3.3.40.0");
  EXPECT_EQ(channels.stats().opened, 1u);
  // The agent expects nothing back (agent.md §2.3).
  EXPECT_EQ(peer->count("<undecodable>") + peer->count(wire::msg::kChannelClosed), 0u);

  in->on_closed(false, "connection reset");
  EXPECT_FALSE(channels.connected(kAgent));
  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
  EXPECT_EQ(channels.stats().closed, 1u);
}

TEST_F(ControlChannelTest, BadOpeningsAreClosedWithPolicyViolation) {
  auto bad_token = std::make_shared<FakePeer>();
  auto in = channels.bind(std::string(kAgent), bad_token);
  in->on_text(
      R"({"Cookie":null,"MessageSchemaVersion":"1.0","RequestId":"r","TokenValue":"forged","AgentVersion":"3.3.0.0","PlatformType":"linux"})");
  auto spec = bad_token->wait_closed();
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->code, kPolicyViolation);

  auto binary_first = std::make_shared<FakePeer>();
  feed(*channels.bind(std::string(kAgent), binary_first), agent_frame("agent_telemetry", "{}"));
  ASSERT_TRUE(binary_first->wait_closed());
  EXPECT_EQ(binary_first->wait_closed()->code, kPolicyViolation);

  auto not_json = std::make_shared<FakePeer>();
  channels.bind(std::string(kAgent), not_json)->on_text("hello");
  EXPECT_EQ(not_json->wait_closed()->code, kPolicyViolation);

  // A token for one instance does not open another's channel.
  auto other = std::make_shared<FakePeer>();
  auto token = backend.agents().create_control_channel(alice(), kAgent);
  wire::OpenControlChannel open;
  open.token_value = *token;
  channels.bind("mi-0aaaaaaaaaaaaaaaa", other)->on_text(open.to_json());
  EXPECT_EQ(other->wait_closed()->code, kPolicyViolation);

  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
  EXPECT_EQ(channels.stats().refused, 4u);
}

TEST_F(ControlChannelTest, ASecondConnectionReplacesTheFirst) {
  auto first = std::make_shared<FakePeer>();
  auto in1 = open_channel(first);
  auto second = std::make_shared<FakePeer>();
  auto in2 = open_channel(second, "3.3.41.0");
  ASSERT_TRUE(first->wait_closed());
  EXPECT_FALSE(second->is_closed());
  in1->on_closed(true, "replaced");  // the old socket's end must not take the instance offline
  EXPECT_EQ(ping(), backend::PingStatus::online);
  EXPECT_EQ(channels.agent_version(kAgent), "3.3.41.0");
  EXPECT_EQ(channels.stats().replaced, 1u);
  in2->on_closed(false, "gone");
  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
}

TEST_F(ControlChannelTest, CloseCutsOneInstancesChannelAsAsked) {
  EXPECT_FALSE(channels.close(kAgent, {CloseSpec::Kind::abrupt, 1006, ""}));
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  ASSERT_TRUE(channels.close(kAgent, {CloseSpec::Kind::abrupt, 1006, ""}));
  auto spec = peer->wait_closed();
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, CloseSpec::Kind::abrupt);
  in->on_closed(false, "reset");
  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
}

TEST_F(ControlChannelTest, TaskCompleteIsAcknowledgedWithItsMessageIdEveryTime) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  wire::AgentTaskComplete task;
  task.task_id = "alice-00000000000000001";
  task.final_task_status = "Success";
  task.instance_id = std::string(kAgent);
  auto message = wire::make_message(wire::msg::kAgentTaskComplete, 0, 0, wire::PayloadType::none,
                                    task.to_json());
  feed(*in, wire::encode(message));
  task.retry_number = 2;
  message.set_payload(task.to_json());  // the agent's resend keeps the MessageId
  feed(*in, wire::encode(message));
  for (std::size_t i = 0; i < 2; ++i) {
    auto ack = peer->wait_frame(wire::msg::kAgentTaskAcknowledge, i);
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->sequence_number, 0);
    EXPECT_EQ(ack->flags, 0u);
    EXPECT_EQ(ack->payload_type, wire::PayloadType::none);
    EXPECT_NE(ack->created_date_ms, 0u);
    ojson payload = ojson::parse(ack->payload_text());
    EXPECT_EQ(payload.dump(),
              R"({"SchemaVersion":1,"MessageId":")" + message.message_id.to_string() +
                  R"(","TaskId":"alice-00000000000000001","Topic":"agent_task_complete"})");
  }
  EXPECT_EQ(channels.stats().tasks_completed, 2u);
}

TEST_F(ControlChannelTest, TelemetryUnknownTypesAndGarbageAreToleratedAndCounted) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  feed(*in, agent_frame("agent_telemetry", R"({"SchemaVersion":1,"NumberOfAgentReboot":0})"));
  feed(*in, agent_frame("agent_update_result", "{}"));
  feed(*in, agent_frame("agent_job_ack", R"({"jobId":"j"})"));
  feed(*in, agent_frame("something_new", "?"));
  wire::Bytes garbage(50, 0xee);
  feed(*in, garbage);
  auto truncated = agent_frame("agent_telemetry", "{}");
  truncated.resize(100);
  feed(*in, truncated);
  feed(*in, agent_frame(wire::msg::kAgentTaskComplete, "not json"));  // acked, then counted
  in->on_text("a stray text frame");
  EXPECT_TRUE(channels.connected(kAgent));
  EXPECT_FALSE(peer->is_closed());
  auto s = channels.stats();
  EXPECT_EQ(s.frames, 7u);
  EXPECT_EQ(s.bad_frames, 3u);
  EXPECT_EQ(s.ignored_frames, 5u);
  EXPECT_TRUE(peer->wait_frame(wire::msg::kAgentTaskAcknowledge));
}

TEST_F(ControlChannelTest, StartSessionSendsInteractiveShellOnTheControlChannel) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  auto creds = start_session();
  auto shell = peer->wait_frame(wire::msg::kInteractiveShell);
  ASSERT_TRUE(shell);
  EXPECT_EQ(shell->sequence_number, 0);
  EXPECT_EQ(shell->flags, 0u);
  EXPECT_EQ(shell->payload_type, wire::PayloadType::none);
  EXPECT_EQ(shell->schema_version, 1u);
  auto envelope = wire::parse_mgs_payload(shell->payload_text());
  ASSERT_TRUE(envelope);
  EXPECT_EQ(envelope->task_id, creds.session_id);
  EXPECT_EQ(envelope->topic, "aws.ssm.startSession");
  EXPECT_EQ(envelope->schema_version, 1);
  auto task = wire::parse_interactive_shell_task(envelope->content);
  ASSERT_TRUE(task);
  EXPECT_EQ(task->session_id, creds.session_id);
  EXPECT_EQ(task->document_name, "SSM-SessionManagerRunShell");
  // Anything but schemaVersion "1.0" makes the agent drop the message (agent.md §5.1).
  EXPECT_EQ(json::parse(task->document_content_json)["schemaVersion"], "1.0");
  EXPECT_EQ(launcher.pending_sessions(), 1u);
}

TEST_F(ControlChannelTest, AgentTaskCompleteEndsTheSessionWithItsStatusAndOutput) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  auto ok = start_session();
  auto failed = start_session();
  ASSERT_TRUE(peer->wait_frame(wire::msg::kInteractiveShell, 1));
  wire::AgentTaskComplete task;
  task.task_id = ok.session_id;
  task.final_task_status = "Success";
  feed(*in, agent_frame(wire::msg::kAgentTaskComplete, task.to_json()));
  task.task_id = failed.session_id;
  task.final_task_status = "Failed";
  task.output = "Setting up data channel with id x failed: boom";
  feed(*in, agent_frame(wire::msg::kAgentTaskComplete, task.to_json()));
  EXPECT_TRUE(ended_as(ok.session_id, backend::SessionStatus::terminated));
  ASSERT_TRUE(ended_as(failed.session_id, backend::SessionStatus::failed));
  EXPECT_EQ(backend.find_session(failed.session_id)->output, task.output);
  EXPECT_EQ(launcher.pending_sessions(), 0u);
  // The agent ended them: no channel_closed is sent back.
  EXPECT_EQ(peer->count(wire::msg::kChannelClosed), 0u);
}

TEST_F(ControlChannelTest, TerminateSessionSendsChannelClosedOnTheControlChannel) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  auto creds = start_session();
  ASSERT_TRUE(peer->wait_frame(wire::msg::kInteractiveShell));
  ASSERT_TRUE(backend.terminate_session(alice(), creds.session_id));
  auto closed = peer->wait_frame(wire::msg::kChannelClosed);
  ASSERT_TRUE(closed);
  auto payload = wire::parse_channel_closed(closed->payload_text());
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->session_id, creds.session_id);
  EXPECT_EQ(payload->destination_id, kAgent);
  EXPECT_EQ(payload->schema_version, 1);
  EXPECT_FALSE(payload->message_id.empty());
  EXPECT_FALSE(payload->created_date.empty());
  EXPECT_TRUE(ended_as(creds.session_id, backend::SessionStatus::terminated));
}

TEST_F(ControlChannelTest, LaunchWithoutAChannelFailsTheSession) {
  backend.set_agent_connected(kAgent, true);  // the record says Online, but no channel is open
  auto creds = start_session();
  ASSERT_TRUE(ended_as(creds.session_id, backend::SessionStatus::failed));
  EXPECT_EQ(backend.find_session(creds.session_id)->output,
            std::string(kAgent) + " is not connected.");
}

TEST_F(ControlChannelTest, DroppedChannelLeavesSessionsRunningAndRefusesNewOnes) {
  auto peer = std::make_shared<FakePeer>();
  auto in = open_channel(peer);
  auto creds = start_session();
  ASSERT_TRUE(peer->wait_frame(wire::msg::kInteractiveShell));
  in->on_closed(false, "reset");
  EXPECT_EQ(ping(), backend::PingStatus::connection_lost);
  EXPECT_TRUE(backend::is_active(backend.find_session(creds.session_id)->status));
  backend::StartSessionRequest req;
  req.target = std::string(kAgent);
  auto refused = backend.start_session(alice(), req, {});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "TargetNotConnected");
}

TEST_F(ControlChannelTest, AgentDataChannelJoinsTheRelayAndItsEndIsNotEchoedBack) {
  auto control = std::make_shared<FakePeer>();
  auto cc = open_channel(control);
  auto creds = start_session();
  ASSERT_TRUE(control->wait_frame(wire::msg::kInteractiveShell));
  auto token = backend.agents().create_data_channel(alice(), creds.session_id);
  ASSERT_TRUE(token);

  // The agent side of the data channel (agent.md §6.1).
  auto agent = std::make_shared<FakePeer>();
  auto dc = broker.bind_data_channel(creds.session_id, agent);
  wire::OpenDataChannel odc;
  odc.variant = wire::OpenDataChannel::Variant::agent;
  odc.request_id = "3b0b8d1e-0e7e-4e0c-9e43-2f6c1b8b7a10";
  odc.token_value = *token;
  odc.client_instance_id = std::string(kAgent);
  odc.client_id = "";
  dc->on_text(odc.to_json());
  wire::AgentSessionState state;
  state.session_state = "Connected";
  state.session_id = creds.session_id;
  feed(*dc,
       agent_frame(wire::msg::kAgentSessionState, state.to_json(), wire::PayloadType::none, 0, 3));

  // The client side.
  auto client = std::make_shared<FakePeer>();
  auto cl = broker.bind_data_channel(creds.session_id, client);
  wire::OpenDataChannel copen;
  copen.request_id = "c1";
  copen.token_value = creds.token_value;
  copen.client_id = "c1";
  copen.client_version = "1.2.677.0";
  cl->on_text(copen.to_json());
  ASSERT_TRUE(eventually([&] {
    return backend.find_session(creds.session_id)->status == backend::SessionStatus::connected;
  }));

  feed(*cl, agent_frame(wire::msg::kInputStreamData, "ls\n", wire::PayloadType::output, 0, 1));
  auto input = agent->wait_frame(wire::msg::kInputStreamData);
  ASSERT_TRUE(input);
  EXPECT_EQ(input->payload_text(), "ls\n");
  feed(*dc, agent_frame(wire::msg::kOutputStreamData, "file\n", wire::PayloadType::output, 0, 1));
  auto output = client->wait_frame(wire::msg::kOutputStreamData);
  ASSERT_TRUE(output);
  EXPECT_EQ(output->payload_text(), "file\n");
  EXPECT_EQ(client->count(wire::msg::kAgentSessionState), 0u);  // the service's business

  // Shell exits: Terminating, then the socket closes, then agent_task_complete (§6.1 step 7).
  state.session_state = "Terminating";
  feed(*dc,
       agent_frame(wire::msg::kAgentSessionState, state.to_json(), wire::PayloadType::none, 0, 3));
  dc->on_closed(false, "closed without a close frame");
  ASSERT_TRUE(ended_as(creds.session_id, backend::SessionStatus::terminated));
  ASSERT_TRUE(client->wait_frame(wire::msg::kChannelClosed));
  wire::AgentTaskComplete task;
  task.task_id = creds.session_id;
  task.final_task_status = "Success";
  feed(*cc, agent_frame(wire::msg::kAgentTaskComplete, task.to_json()));
  ASSERT_TRUE(control->wait_frame(wire::msg::kAgentTaskAcknowledge));
  EXPECT_EQ(control->count(wire::msg::kChannelClosed), 0u);
  EXPECT_EQ(launcher.pending_sessions(), 0u);
}

TEST_F(ControlChannelTest, AgentDataChannelWithAForeignTokenIsRefused) {
  auto control = std::make_shared<FakePeer>();
  auto cc = open_channel(control);
  auto creds = start_session();
  auto check = launcher.token_check();
  auto token = backend.agents().create_data_channel(alice(), creds.session_id);
  ASSERT_TRUE(token);
  EXPECT_TRUE(check(creds.session_id, *token, std::string(kAgent)));
  EXPECT_FALSE(check(creds.session_id, *token, "mi-0aaaaaaaaaaaaaaaa"));
  EXPECT_FALSE(
      check(creds.session_id, creds.token_value, std::string(kAgent)));  // the client's token

  auto agent = std::make_shared<FakePeer>();
  auto dc = broker.bind_data_channel(creds.session_id, agent);
  wire::OpenDataChannel odc;
  odc.variant = wire::OpenDataChannel::Variant::agent;
  odc.token_value = creds.token_value;
  odc.client_instance_id = std::string(kAgent);
  odc.client_id = "";
  dc->on_text(odc.to_json());
  auto spec = agent->wait_closed();
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->code, 1008);
}

}  // namespace
}  // namespace mocksvc::broker
