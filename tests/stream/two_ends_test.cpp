// A client engine and an agent engine talking over an in-memory link that loses, duplicates,
// delays and reorders frames (seeded), on a hand-advanced clock. Frames cross as encoded bytes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <utility>

#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::stream {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = TimePoint{} + 1000h;
constexpr auto kStep = 1ms;

struct Faults {
  double loss = 0;
  double duplicate = 0;
  std::chrono::milliseconds min_delay = 1ms;
  std::chrono::milliseconds max_delay = 1ms;
};

// One direction of the link. Frames are delivered in order of (due time, write order), so
// random delays reorder them.
class Link {
 public:
  Link(std::uint32_t seed, Faults faults) : rng_(seed), faults_(faults) {}

  void write(const wire::Message& m, TimePoint now, bool lossless = false) {
    if (down_) return;
    if (!lossless && chance(faults_.loss)) return;
    int copies = chance(faults_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i)
      in_flight_.emplace(std::tuple{now + delay(), order_++}, wire::encode(m));
  }

  std::vector<wire::Message> arrivals(TimePoint now) {
    std::vector<wire::Message> out;
    while (!in_flight_.empty() && std::get<0>(in_flight_.begin()->first) <= now) {
      auto d = wire::decode(in_flight_.begin()->second);
      EXPECT_TRUE(d) << d.error().message();
      if (d) out.push_back(std::move(d->message));
      in_flight_.erase(in_flight_.begin());
    }
    return out;
  }

  // A dead socket: what is in flight is gone and writes vanish until it is back.
  void set_down(bool down) {
    down_ = down;
    if (down) in_flight_.clear();
  }
  bool idle() const { return in_flight_.empty(); }

 private:
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::chrono::milliseconds delay() {
    return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
        faults_.min_delay.count(), faults_.max_delay.count())(rng_));
  }

  std::mt19937 rng_;
  Faults faults_;
  bool down_ = false;
  std::uint64_t order_ = 0;
  std::map<std::tuple<TimePoint, std::uint64_t>, wire::Bytes> in_flight_;
};

struct End {
  End(Settings settings, Link& link, bool lossless, std::chrono::milliseconds phase)
      : stream(std::move(settings)), out(link), lossless_acks(lossless), tick_phase(phase) {}

  ReliableStream stream;
  Link& out;
  bool lossless_acks;
  std::chrono::milliseconds tick_phase;  // each end's scheduler runs on its own 100 ms grid
  std::string to_send;
  std::size_t expected_size = 0;
  std::size_t offset = 0;
  std::string received;
  std::int64_t last_delivered = -1;
  std::uint64_t order_violations = 0;

  void receive(wire::Message m, TimePoint now) {
    if (m.message_type == wire::msg::kAcknowledge) {
      stream.on_ack(m, now);
      return;
    }
    auto in = stream.on_incoming(std::move(m));
    if (in.ack) out.write(*in.ack, now, lossless_acks);
    for (const auto& d : in.deliver) {
      if (d.sequence_number != last_delivered + 1) ++order_violations;
      last_delivered = d.sequence_number;
      received += d.payload_text();
    }
  }

  void send_some(TimePoint now, std::size_t chunk) {
    if (offset >= to_send.size()) return;
    std::string_view piece = std::string_view(to_send).substr(offset, chunk);
    auto r = stream.send(wire::PayloadType::output, piece, now);
    ASSERT_TRUE(r) << r.error().message();
    offset += piece.size();
    if (r->write_now) out.write(r->message, now);
  }

  void maybe_tick(TimePoint now) {
    if ((now - kT0 - tick_phase) % kTickInterval != 0ms) return;
    auto tick = stream.on_tick(now);
    if (tick.resend) out.write(*tick.resend, now);
  }

  bool done() const { return received.size() >= expected_size && stream.unacked_count() == 0; }
};

// Client and agent, each with the link it writes to. The client's acks never get lost: the
// client does not re-ack a duplicate (data-channel.md §7.1), so a lost client ack pins the
// agent's head forever (see AgentHeadIsPinnedWhenAClientAckIsLost).
struct Pair {
  Link to_agent;
  Link to_client;
  End client;
  End agent;
  TimePoint now = kT0;

  Pair(std::uint32_t seed, Faults faults)
      : to_agent(seed * 2 + 1, faults),
        to_client(seed * 2 + 2, faults),
        client(Settings::client(), to_agent, true, 0ms),
        agent(Settings::agent(), to_client, false, 50ms) {}

  std::size_t chunk = 512;  // payload bytes per message

  void step() {
    now += kStep;
    for (auto& m : to_agent.arrivals(now)) agent.receive(std::move(m), now);
    for (auto& m : to_client.arrivals(now)) client.receive(std::move(m), now);
    client.send_some(now, chunk);
    agent.send_some(now, chunk);
    client.maybe_tick(now);
    agent.maybe_tick(now);
  }

  template <typename Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit) {
    const TimePoint end = now + limit;
    while (now < end) {
      step();
      if (pred()) return true;
    }
    return false;
  }

  bool quiet() const {
    return client.offset == client.to_send.size() && agent.offset == agent.to_send.size() &&
           client.stream.unacked_count() == 0 && agent.stream.unacked_count() == 0 &&
           to_agent.idle() && to_client.idle();
  }
};

std::string pattern(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST(ReliableStream, TwoEndsDeliverLongStreamsExactlyOnceOverALossyReorderingLink) {
  const Faults faults{.loss = 0.1, .duplicate = 0.05, .min_delay = 2ms, .max_delay = 60ms};
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Pair p(seed, faults);
    p.client.to_send = pattern(200'000, seed * 10 + 1);
    p.agent.to_send = pattern(300'000, seed * 10 + 2);
    p.agent.expected_size = p.client.to_send.size();
    p.client.expected_size = p.agent.to_send.size();

    ASSERT_TRUE(p.run_until([&] { return p.client.done() && p.agent.done(); }, 10min));
    EXPECT_EQ(p.agent.received, p.client.to_send);
    EXPECT_EQ(p.client.received, p.agent.to_send);
    EXPECT_EQ(p.agent.order_violations, 0u);
    EXPECT_EQ(p.client.order_violations, 0u);
    // The faults really happened and were repaired.
    EXPECT_GT(p.client.stream.counters().resent, 0u);
    EXPECT_GT(p.agent.stream.counters().resent, 0u);
    EXPECT_GT(p.client.stream.counters().duplicates_received, 0u);
    EXPECT_GT(p.agent.stream.counters().reacks, 0u);
    EXPECT_FALSE(p.client.stream.resend_limit_reached());
    EXPECT_EQ(p.client.stream.buffered_count(), 0u);
    EXPECT_EQ(p.agent.stream.buffered_count(), 0u);
  }
}

TEST(ReliableStream, ReconnectContinuesNumberingAndRecoversWhatTheOutageLost) {
  Pair p(7, Faults{.min_delay = 5ms, .max_delay = 20ms});
  p.chunk = 2;
  p.client.to_send = "c0c1";
  p.agent.to_send = "a0a1";
  ASSERT_TRUE(p.run_until([&] { return p.quiet(); }, 5s));
  EXPECT_EQ(p.client.stream.next_outgoing_seq(), 2);
  EXPECT_EQ(p.agent.stream.next_outgoing_seq(), 2);
  const auto rto_before = p.client.stream.rto();

  // The socket dies for 5 s; both ends keep writing and resending into the void.
  p.to_agent.set_down(true);
  p.to_client.set_down(true);
  p.client.to_send += "c2c3";
  p.agent.to_send += "a2a3";
  const auto client_resent = p.client.stream.counters().resent;
  const auto agent_resent = p.agent.stream.counters().resent;
  for (int i = 0; i < 5000; ++i) p.step();
  EXPECT_EQ(p.client.stream.unacked_count(), 2u);
  EXPECT_EQ(p.agent.stream.unacked_count(), 2u);
  EXPECT_EQ(p.client.stream.rto(), rto_before);  // no acks, no new samples
  // Client: every tick once late (about 47 in 5 s). Agent: at most once per RTO.
  const auto client_outage_resends = p.client.stream.counters().resent - client_resent;
  const auto agent_outage_resends = p.agent.stream.counters().resent - agent_resent;
  EXPECT_GE(client_outage_resends, 40u);
  EXPECT_GE(agent_outage_resends, 1u);
  EXPECT_LE(agent_outage_resends, static_cast<std::uint64_t>(5s / p.agent.stream.rto()) + 1);
  EXPECT_LT(agent_outage_resends, client_outage_resends);

  // A new socket: same engines, nothing reset.
  p.to_agent.set_down(false);
  p.to_client.set_down(false);
  p.client.to_send += "c4";
  p.agent.to_send += "a4";
  ASSERT_TRUE(p.run_until([&] { return p.quiet(); }, 10s));
  EXPECT_EQ(p.agent.received, "c0c1c2c3c4");
  EXPECT_EQ(p.client.received, "a0a1a2a3a4");
  EXPECT_EQ(p.client.stream.next_outgoing_seq(), 5);
  EXPECT_EQ(p.agent.stream.next_outgoing_seq(), 5);
  EXPECT_EQ(p.client.stream.expected_incoming_seq(), 5);
  EXPECT_EQ(p.agent.stream.expected_incoming_seq(), 5);
  EXPECT_EQ(p.client.order_violations + p.agent.order_violations, 0u);
}

TEST(ReliableStream, AgentHeadIsPinnedWhenAClientAckIsLost) {
  // The real pair's weak spot (data-channel.md §7.1): the client never re-acks a message it has
  // already delivered, and the agent only ever resends its head.
  ReliableStream agent(Settings::agent());
  ReliableStream client(Settings::client());
  auto m0 = agent.send(wire::PayloadType::output, "a", kT0)->message;
  auto m1 = agent.send(wire::PayloadType::output, "b", kT0)->message;
  EXPECT_TRUE(client.on_incoming(m0).ack);  // this ack is lost on the way back
  (void)m1;                                 // and m1 itself is lost
  for (int k = 1; k <= 100; ++k) {
    auto tick = agent.on_tick(kT0 + k * kTickInterval);
    if (!tick.resend) continue;
    EXPECT_EQ(tick.resend->sequence_number, 0);
    auto in = client.on_incoming(*tick.resend);
    EXPECT_EQ(in.kind, ReliableStream::Incoming::Kind::duplicate);
    EXPECT_FALSE(in.ack);
  }
  EXPECT_EQ(agent.unacked_count(), 2u);
  EXPECT_EQ(client.expected_incoming_seq(), 1);
  EXPECT_GE(agent.counters().resent, 30u);
}

}  // namespace
}  // namespace mocksvc::stream
