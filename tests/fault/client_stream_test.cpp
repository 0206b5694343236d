// The official client's reliability behaviour under faults, exercised with our client engine
// (which reproduces it, data-channel.md §7): retransmission of the head, the reorder buffer, and
// why a lost client acknowledge stalls a pair while a lost agent acknowledge does not. The
// client and a scripted agent (the stream engine in the agent role) talk through the injector's
// pipelines on virtual time.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "mocksvc/client/session.hpp"
#include "mocksvc/fault/injector.hpp"
#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/fault/harness.hpp"

namespace mocksvc::fault::testing {
namespace {

constexpr Direction kC2A = Direction::client_to_agent;
constexpr Direction kA2C = Direction::agent_to_client;

// Collects what the client's session handler is given, in order.
class CollectingHandler final : public client::SessionHandler {
 public:
  explicit CollectingHandler(std::string& sink) : sink_(sink) {}
  void start(client::HandlerContext& ctx) override { ctx_ = &ctx; }
  void on_payload(wire::PayloadType, std::string_view payload) override { sink_.append(payload); }
  client::HandlerContext* ctx_ = nullptr;

 private:
  std::string& sink_;
};

// The agent end: the stream engine in the agent role, resending its head every 100 ms tick.
class ScriptedAgent {
 public:
  ScriptedAgent(client::ManualScheduler& s, std::function<void(wire::Bytes)> write)
      : scheduler_(s), write_(std::move(write)), stream_(stream::Settings::agent()), timer_(s.make_timer()) {
    tick();
  }
  void send(std::string_view payload) {
    auto sent = stream_.send(wire::PayloadType::output, payload, scheduler_.now());
    ASSERT_TRUE(sent.has_value());
    write_(wire::encode(sent->message));
  }
  void on_frame(const wire::Bytes& bytes) {
    auto d = wire::decode(bytes, wire::DecodeMode::lenient);
    if (!d) return;
    if (d->message.message_type == wire::msg::kAcknowledge) {
      stream_.on_ack(d->message, scheduler_.now());
      return;
    }
    auto in = stream_.on_incoming(std::move(d->message));
    if (in.ack) write_(wire::encode(*in.ack));
    for (auto& m : in.deliver) received.append(m.payload_text());
  }
  const stream::ReliableStream& stream() const { return stream_; }
  std::string received;

 private:
  void tick() {
    timer_->start(stream::kTickInterval, [this] {
      auto t = stream_.on_tick(scheduler_.now());
      if (t.resend) write_(wire::encode(*t.resend));
      tick();
    });
  }
  client::ManualScheduler& scheduler_;
  std::function<void(wire::Bytes)> write_;
  stream::ReliableStream stream_;
  std::unique_ptr<client::Timer> timer_;
};

// ClientSession <-> pipelines <-> ScriptedAgent, every hop posted like a socket would.
struct Pair {
  explicit Pair(std::string_view rules, std::uint64_t seed = 1) : injector(io.get_executor()) {
    injector.activate(with_rules(rules, seed));
    broker::SessionFacts f;
    f.session_id = "sess-1";
    f.target = "i-0123456789abcdef0";
    h = std::make_unique<PipelineHarness>(injector.stage_factory(), f);
    auto& s = h->scheduler;
    agent = std::make_unique<ScriptedAgent>(s, [this](wire::Bytes b) {
      h->scheduler.post([this, b = std::move(b)]() mutable { h->send_bytes(kA2C, std::move(b)); });
    });
    h->on_out = [this](Direction d, const broker::RelayedFrame& frame) {
      wire::Bytes b = frame.bytes;
      if (d == kC2A) {
        h->scheduler.post([this, b] { agent->on_frame(b); });
      } else {
        h->scheduler.post([this, b] {
          if (events) events->received(b);
        });
      }
    };
    client::SessionConfig c;
    c.session_id = "sess-1";
    c.token_value = "token";
    c.stream_url = "wss://example/v1/data-channel/sess-1";
    c.target = f.target;
    c.region = "us-east-1";
    c.client_id = "client-1";
    c.seed = seed;
    c.print_starting_line = false;
    client::SessionHooks hooks;
    hooks.dial = [this](const std::string&, std::shared_ptr<client::ConnectionEvents> e) {
      events = e;
      client::Transport t;
      t.send_text = [](std::string) {};
      t.send_binary = [this](wire::Bytes b) {
        if (auto m = wire::decode(b, wire::DecodeMode::lenient); m && m->message.message_type == wire::msg::kAcknowledge) {
          if (auto a = wire::parse_acknowledge(m->message.payload_text()))
            client_acks.push_back(a->acknowledged_message_sequence_number);
        }
        h->scheduler.post([this, b = std::move(b)]() mutable { h->send_bytes(kC2A, std::move(b)); });
      };
      t.close = [] {};
      h->scheduler.post([e, t] { e->opened(t); });
    };
    hooks.make_handler = [this](const client::SessionTypeInfo&) -> std::unique_ptr<client::SessionHandler> {
      auto handler = std::make_unique<CollectingHandler>(client_received);
      handler_ = handler.get();
      return handler;
    };
    session = std::make_unique<client::ClientSession>(s, c, std::move(hooks));
    session->start();
    s.run_ready();
  }
  ~Pair() {
    // Everything holding a timer goes before the scheduler inside the harness.
    session.reset();
    agent.reset();
    h.reset();
  }

  bool run_until(const std::function<bool()>& done, client::Duration limit = 120s) {
    return h->scheduler.run_until(done, limit);
  }
  void client_send(std::string_view text) { handler_->ctx_->send_output(text); }
  bool client_started() const { return handler_ != nullptr; }

  boost::asio::io_context io;
  Injector injector;
  std::unique_ptr<PipelineHarness> h;
  std::unique_ptr<ScriptedAgent> agent;
  std::shared_ptr<client::ConnectionEvents> events;
  std::unique_ptr<client::ClientSession> session;
  CollectingHandler* handler_ = nullptr;
  std::string client_received;
  std::vector<std::int64_t> client_acks;  // as the client wrote them, before any fault
};

std::string numbered(int n, std::string_view prefix) {
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string(prefix) + std::to_string(i) + ";";
  return s;
}

TEST(ClientUnderFaults, DropsAndShufflesStillDeliverEverythingInOrder) {
  Pair p(R"([{"name":"drop","type":"drop","match":{"message_types":["input_stream_data","output_stream_data"]},
              "probability":0.2},
             {"name":"shuffle","type":"reorder","direction":"agent_to_client",
              "match":{"message_types":"output_stream_data"},"attributes":{"mode":"shuffle","messages":5,
              "max_hold_ms":50}}])",
         17);
  const int kOut = 200;
  const int kIn = 60;
  for (int i = 0; i < kOut; ++i) p.agent->send("out" + std::to_string(i) + ";");
  ASSERT_TRUE(p.run_until([&] { return p.client_started(); }));
  for (int i = 0; i < kIn; ++i) p.client_send("in" + std::to_string(i) + ";");
  ASSERT_TRUE(p.run_until([&] {
    return p.client_received.size() >= numbered(kOut, "out").size() && p.agent->received.size() >= numbered(kIn, "in").size();
  }));
  EXPECT_EQ(p.client_received, numbered(kOut, "out"));
  EXPECT_EQ(p.agent->received, numbered(kIn, "in"));

  // The client resent its head, the agent its own, the relay saw both, and output reached the
  // client out of order: its reorder buffer put it right.
  EXPECT_GT(p.session->stream().counters().resent, 0u);
  EXPECT_GT(p.agent->stream().counters().resent, 0u);
  auto s = p.injector.stats();
  ASSERT_EQ(s.sessions.size(), 1u);
  EXPECT_GT(s.sessions[0].retransmitted_client_to_agent, 0u);
  EXPECT_GT(s.sessions[0].retransmitted_agent_to_client, 0u);
  auto order = p.h->seqs(kA2C);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  EXPECT_GT(s.rule("drop")->applied, 0u);
}

TEST(ClientUnderFaults, ALostAgentAckMakesTheClientResendItsHeadUntilReacked) {
  Pair p(R"([{"name":"lose","type":"drop","direction":"agent_to_client","match":{"message_types":"acknowledge",
              "limit":3}}])");
  p.agent->send("$ ");
  ASSERT_TRUE(p.run_until([&] { return p.client_started(); }));
  p.client_send("hello");
  ASSERT_TRUE(p.run_until([&] { return p.session->stream().unacked_count() == 0; }, 10s));
  EXPECT_EQ(p.agent->received, "hello");
  // Three acks lost, so at least three resends, each re-acked by the agent (it acks duplicates).
  EXPECT_GE(p.session->stream().counters().resent, 3u);
  EXPECT_GE(p.agent->stream().counters().reacks, 3u);
}

TEST(ClientUnderFaults, ALostClientAckStallsThePairByDesign) {
  // The agent resends seq 0 forever; the client already has it and never acks a duplicate.
  Pair p(R"([{"name":"lose","type":"drop","direction":"client_to_agent","match":{"message_types":"acknowledge",
              "nth":1}}])");
  p.agent->send("$ ");
  ASSERT_TRUE(p.run_until([&] { return p.client_started(); }));
  p.h->advance(5s);
  EXPECT_EQ(p.client_received, "$ ");
  EXPECT_EQ(p.agent->stream().unacked_count(), 1u);
  EXPECT_GE(p.agent->stream().counters().resent, 4u);
  EXPECT_EQ(std::count(p.client_acks.begin(), p.client_acks.end(), 0), 1);
  EXPECT_GE(p.session->stream().counters().duplicates_received, 4u);
}

}  // namespace
}  // namespace mocksvc::fault::testing
