#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::stream {
namespace {

using namespace std::chrono_literals;
using Kind = ReliableStream::Incoming::Kind;

const TimePoint kT0 = TimePoint{} + 1000h;

wire::Message sent(ReliableStream& s, std::string_view payload, TimePoint now) {
  auto r = s.send(wire::PayloadType::output, payload, now);
  EXPECT_TRUE(r) << r.error().message();
  return r ? r->message : wire::Message{};
}

// A stream message as the peer would send it.
wire::Message peer_data(const ReliableStream& receiver, std::int64_t seq,
                        std::string_view payload) {
  return wire::make_message(receiver.settings().incoming_type, seq, 0, wire::PayloadType::output,
                            payload);
}

std::int64_t acked_seq(const wire::Message& ack) {
  auto a = wire::parse_acknowledge(ack.payload_text());
  EXPECT_TRUE(a);
  return a ? a->acknowledged_message_sequence_number : -1;
}

std::string texts(const std::vector<wire::Message>& ms) {
  std::string out;
  for (const auto& m : ms) out += m.payload_text();
  return out;
}

// ---- outgoing numbering ---------------------------------------------------------------------

TEST(ReliableStream, AgentNumbersFromZeroWithSynOnlyOnSeqZero) {
  ReliableStream s(Settings::agent());
  for (int i = 0; i < 4; ++i) {
    auto m = sent(s, "x", kT0);
    EXPECT_EQ(m.sequence_number, i);
    EXPECT_EQ(m.flags, i == 0 ? wire::kFlagSyn : 0u);
    EXPECT_EQ(m.message_type, "output_stream_data");
  }
  EXPECT_EQ(s.next_outgoing_seq(), 4);
  EXPECT_EQ(s.unacked_count(), 4u);
  EXPECT_EQ(s.counters().sent, 4u);
}

TEST(ReliableStream, ClientNeverSetsFlags) {
  ReliableStream s(Settings::client());
  auto first = sent(s, "a", kT0);
  auto second = sent(s, "b", kT0);
  EXPECT_EQ(first.sequence_number, 0);
  EXPECT_EQ(first.flags, 0u);
  EXPECT_EQ(second.flags, 0u);
  EXPECT_EQ(first.message_type, "input_stream_data");
}

TEST(ReliableStream, SendStampsPayloadDateAndFreshMessageIds) {
  ReliableStream s(Settings::client());
  auto r = s.send(wire::PayloadType::size, R"({"cols":100,"rows":30})", kT0);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->write_now);
  EXPECT_EQ(r->message.payload_type, wire::PayloadType::size);
  EXPECT_EQ(r->message.payload_text(), R"({"cols":100,"rows":30})");
  EXPECT_NE(r->message.created_date_ms, 0u);
  std::set<base::Uuid> ids{r->message.message_id};
  for (int i = 0; i < 50; ++i) ids.insert(sent(s, "x", kT0).message_id);
  EXPECT_EQ(ids.size(), 51u);
}

TEST(ReliableStream, SettingsMatchTheOfficialEnds) {
  auto c = Settings::client();
  EXPECT_EQ(c.outgoing_capacity, 10'000u);
  EXPECT_EQ(c.incoming_capacity, 10'000u);
  EXPECT_TRUE(c.evict_oldest_when_full);
  EXPECT_EQ(c.resend_limit, 3'000u);
  EXPECT_FALSE(c.reack_duplicates);
  EXPECT_FALSE(c.update_send_time_on_resend);
  auto a = Settings::agent();
  EXPECT_EQ(a.outgoing_capacity, 100'000u);
  EXPECT_EQ(a.incoming_capacity, 100'000u);
  EXPECT_FALSE(a.evict_oldest_when_full);
  EXPECT_EQ(a.resend_limit, 0u);
  EXPECT_TRUE(a.reack_duplicates);
  EXPECT_TRUE(a.update_send_time_on_resend);
}

// ---- acks -----------------------------------------------------------------------------------

TEST(ReliableStream, MakeAckMatchesTheObservedShape) {
  auto m = wire::make_message("input_stream_data", 12, 0, wire::PayloadType::output, "hi");
  m.message_id = *base::Uuid::parse("aab6886b-3925-401a-be5e-337b6fa403ba");
  auto ack = make_ack(m);
  EXPECT_EQ(ack.message_type, "acknowledge");
  EXPECT_EQ(ack.sequence_number, 0);
  EXPECT_EQ(ack.flags, 3u);
  EXPECT_EQ(ack.payload_type, wire::PayloadType::none);
  EXPECT_NE(ack.message_id, m.message_id);
  EXPECT_EQ(
      ack.payload_text(),
      R"({"AcknowledgedMessageType":"input_stream_data","AcknowledgedMessageId":"aab6886b-3925-401a-be5e-337b6fa403ba","AcknowledgedMessageSequenceNumber":12,"IsSequentialMessage":true})");
}

TEST(ReliableStream, AcksMatchAnyUnackedSeqNotCumulatively) {
  ReliableStream s(Settings::agent());
  for (int i = 0; i < 5; ++i) sent(s, "x", kT0);
  EXPECT_TRUE(s.on_ack(3, kT0 + 10ms));
  EXPECT_EQ(s.unacked_count(), 4u);
  EXPECT_TRUE(s.on_ack(1, kT0 + 10ms));
  EXPECT_TRUE(s.on_ack(4, kT0 + 10ms));
  EXPECT_EQ(s.unacked_count(), 2u);
  EXPECT_FALSE(s.on_ack(3, kT0 + 10ms));
  EXPECT_FALSE(s.on_ack(7, kT0 + 10ms));
  EXPECT_EQ(s.counters().acked, 3u);
  EXPECT_EQ(s.counters().unknown_acks, 2u);
  // 0 is still the head: an ack of 4 did not cover it.
  auto tick = s.on_tick(kT0 + 300ms);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->sequence_number, 0);
}

TEST(ReliableStream, AckMessageIsMatchedBySeqAloneAndMalformedOnesAreIgnored) {
  ReliableStream s(Settings::client());
  auto m = sent(s, "x", kT0);
  auto other = m;
  other.message_type = "something_else";
  other.message_id = base::Uuid::random();
  EXPECT_TRUE(s.on_ack(make_ack(other), kT0 + 5ms));
  EXPECT_EQ(s.unacked_count(), 0u);

  auto bad = wire::make_message("acknowledge", 0, 3, wire::PayloadType::none, "{not json");
  EXPECT_FALSE(s.on_ack(bad, kT0 + 5ms));
  EXPECT_EQ(s.counters().malformed_acks, 1u);
}

// ---- RTO ------------------------------------------------------------------------------------

TEST(ReliableStream, RtoFollowsHandComputedSamplesDownToTheGranularityFloor) {
  ReliableStream s(Settings::agent());
  EXPECT_DOUBLE_EQ(s.rtt().count(), 100.0);
  EXPECT_DOUBLE_EQ(s.rttvar().count(), 0.0);
  EXPECT_EQ(s.rto(), 200ms);

  struct Step {
    std::chrono::milliseconds sample;
    double rtt_ms, rttvar_ms;
    std::chrono::nanoseconds rto;
  };
  // RTTVAR = 3/4 RTTVAR + 1/4 |RTT - s|; RTT = 7/8 RTT + 1/8 s; RTO = RTT + max(10 ms, 4 RTTVAR)
  const Step steps[] = {
      {60ms, 95.0, 10.0, 135ms},               // 4*10 = 40
      {95ms, 95.0, 7.5, 125ms},                // 4*7.5 = 30
      {95ms, 95.0, 5.625, 117'500us},          // 22.5
      {95ms, 95.0, 4.21875, 111'875us},        // 16.875
      {95ms, 95.0, 3.1640625, 107'656'250ns},  // 12.65625
      {95ms, 95.0, 2.373046875, 105ms},        // 9.4921875 < 10: the floor term
      {95ms, 95.0, 1.77978515625, 105ms},      // still the floor
  };
  TimePoint now = kT0;
  for (const auto& st : steps) {
    auto m = sent(s, "x", now);
    now += st.sample;
    ASSERT_TRUE(s.on_ack(m.sequence_number, now));
    EXPECT_DOUBLE_EQ(s.rtt().count(), st.rtt_ms);
    EXPECT_DOUBLE_EQ(s.rttvar().count(), st.rttvar_ms);
    EXPECT_EQ(s.rto(), st.rto);
  }
}

TEST(ReliableStream, RtoIsCappedAtOneSecond) {
  ReliableStream s(Settings::agent());
  auto m = sent(s, "x", kT0);
  ASSERT_TRUE(s.on_ack(m.sequence_number, kT0 + 5s));
  EXPECT_DOUBLE_EQ(s.rttvar().count(), 1225.0);  // 1/4 * 4900
  EXPECT_DOUBLE_EQ(s.rtt().count(), 712.5);      // 87.5 + 625
  EXPECT_EQ(s.rto(), 1s);                        // 712.5 + 4900, capped
  // Fast samples pull it back: 7/8*712.5 + 1/8*20 = 625.9375, var 3/4*1225 + 1/4*692.5.
  auto n = sent(s, "y", kT0 + 5s);
  ASSERT_TRUE(s.on_ack(n.sequence_number, kT0 + 5s + 20ms));
  EXPECT_DOUBLE_EQ(s.rtt().count(), 625.9375);
  EXPECT_DOUBLE_EQ(s.rttvar().count(), 1091.875);
  EXPECT_EQ(s.rto(), 1s);
}

TEST(ReliableStream, AgentSamplesRttFromTheLastResend) {
  ReliableStream s(Settings::agent());
  auto m = sent(s, "x", kT0);
  ASSERT_TRUE(s.on_tick(kT0 + 300ms).resend);
  ASSERT_TRUE(s.on_ack(m.sequence_number, kT0 + 350ms));  // sample 50 ms
  EXPECT_DOUBLE_EQ(s.rttvar().count(), 12.5);
  EXPECT_DOUBLE_EQ(s.rtt().count(), 93.75);
  EXPECT_EQ(s.rto(), 143'750us);
}

TEST(ReliableStream, ClientSamplesRttFromTheFirstSendEvenAfterResends) {
  ReliableStream s(Settings::client());
  auto m = sent(s, "x", kT0);
  ASSERT_TRUE(s.on_tick(kT0 + 300ms).resend);
  ASSERT_TRUE(s.on_ack(m.sequence_number, kT0 + 350ms));  // late ack, sample 350 ms
  EXPECT_DOUBLE_EQ(s.rttvar().count(), 62.5);
  EXPECT_DOUBLE_EQ(s.rtt().count(), 131.25);
  EXPECT_EQ(s.rto(), 381'250us);
  EXPECT_FALSE(s.on_ack(m.sequence_number, kT0 + 400ms));  // a second late ack is unknown
}

// ---- retransmission -------------------------------------------------------------------------

TEST(ReliableStream, ResendsOnlyTheHeadAndOnlyOnceOlderThanRto) {
  ReliableStream s(Settings::agent());
  auto m0 = sent(s, "zero", kT0);
  sent(s, "one", kT0);
  sent(s, "two", kT0);
  EXPECT_FALSE(s.on_tick(kT0 + 100ms).resend);
  EXPECT_FALSE(s.on_tick(kT0 + 200ms).resend);  // age must exceed the RTO, not equal it
  auto tick = s.on_tick(kT0 + 200ms + 1ns);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->sequence_number, 0);
  EXPECT_EQ(tick.resend->message_id, m0.message_id);  // the same bytes again
  EXPECT_EQ(tick.resend->created_date_ms, m0.created_date_ms);
  EXPECT_EQ(tick.resend->flags, wire::kFlagSyn);

  ASSERT_TRUE(s.on_ack(0, kT0 + 250ms));
  tick = s.on_tick(kT0 + 2s);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->sequence_number, 1);
  EXPECT_EQ(s.counters().resent, 2u);
}

TEST(ReliableStream, AgentResendsOncePerRtoButClientResendsEveryTickOnceLate) {
  ReliableStream agent(Settings::agent());
  ReliableStream client(Settings::client());
  sent(agent, "x", kT0);
  sent(client, "x", kT0);
  std::vector<int> agent_ticks, client_ticks;
  for (int k = 1; k <= 12; ++k) {
    TimePoint now = kT0 + k * kTickInterval;
    if (agent.on_tick(now).resend) agent_ticks.push_back(k);
    if (client.on_tick(now).resend) client_ticks.push_back(k);
  }
  // RTO 200 ms: first late at 300 ms; the agent then waits > 200 ms from each resend.
  EXPECT_EQ(agent_ticks, (std::vector<int>{3, 6, 9, 12}));
  EXPECT_EQ(client_ticks, (std::vector<int>{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(ReliableStream, ClientReportsTheResendLimitExactlyOnce) {
  ReliableStream s(Settings::client());
  sent(s, "x", kT0);
  int hits = 0;
  int hit_at = 0;
  for (int k = 1; k <= 3100; ++k) {
    auto tick = s.on_tick(kT0 + k * kTickInterval);
    EXPECT_EQ(tick.resend.has_value(), k >= 3);  // resent before and after the report
    if (tick.resend_limit_hit) {
      ++hits;
      hit_at = k;
    }
    EXPECT_EQ(s.resend_limit_reached(), k >= 3003) << k;
  }
  EXPECT_EQ(hits, 1);
  // Resends start on tick 3; the report comes once the head has been resent 3000 times.
  EXPECT_EQ(hit_at, 3 + 3000);
}

TEST(ReliableStream, AgentHasNoResendLimit) {
  ReliableStream s(Settings::agent());
  sent(s, "x", kT0);
  for (int k = 1; k <= 20'000; ++k)
    EXPECT_FALSE(s.on_tick(kT0 + k * kTickInterval).resend_limit_hit);
  EXPECT_FALSE(s.resend_limit_reached());
}

TEST(ReliableStream, LostFrameIsRecoveredByHeadRetransmission) {
  ReliableStream agent(Settings::agent());
  ReliableStream client(Settings::client());
  std::vector<wire::Message> out;
  for (const char* p : {"a", "b", "c", "d"}) out.push_back(sent(agent, p, kT0));
  std::string shown;
  for (std::size_t i : {0u, 2u, 3u}) {  // frame 1 is lost
    auto in = client.on_incoming(out[i]);
    ASSERT_TRUE(in.ack);
    agent.on_ack(acked_seq(*in.ack), kT0 + 20ms);
    shown += texts(in.deliver);
  }
  EXPECT_EQ(shown, "a");
  EXPECT_EQ(client.buffered_count(), 2u);
  EXPECT_EQ(agent.unacked_count(), 1u);

  auto tick = agent.on_tick(kT0 + 300ms);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->sequence_number, 1);
  auto in = client.on_incoming(*tick.resend);
  EXPECT_EQ(in.kind, Kind::in_order);
  shown += texts(in.deliver);
  EXPECT_EQ(shown, "abcd");
  EXPECT_TRUE(agent.on_ack(acked_seq(*in.ack), kT0 + 320ms));
  EXPECT_EQ(agent.unacked_count(), 0u);
  EXPECT_EQ(client.expected_incoming_seq(), 4);
}

// ---- incoming -------------------------------------------------------------------------------

TEST(ReliableStream, InOrderMessageIsDeliveredAndAcked) {
  ReliableStream s(Settings::agent());
  auto m = peer_data(s, 0, "hello");
  auto in = s.on_incoming(m);
  EXPECT_EQ(in.kind, Kind::in_order);
  ASSERT_TRUE(in.ack);
  EXPECT_EQ(acked_seq(*in.ack), 0);
  auto ack = wire::parse_acknowledge(in.ack->payload_text());
  EXPECT_EQ(ack->acknowledged_message_type, "input_stream_data");
  EXPECT_EQ(ack->acknowledged_message_id, m.message_id.to_string());
  ASSERT_EQ(in.deliver.size(), 1u);
  EXPECT_EQ(in.deliver[0].payload_text(), "hello");
  EXPECT_EQ(s.expected_incoming_seq(), 1);
}

TEST(ReliableStream, ReorderedMessagesAreAckedBufferedAndDrainedInOrder) {
  ReliableStream s(Settings::client());
  for (std::int64_t seq : {3, 1, 4, 2}) {
    auto in = s.on_incoming(peer_data(s, seq, std::to_string(seq)));
    EXPECT_EQ(in.kind, Kind::buffered_future);
    ASSERT_TRUE(in.ack);
    EXPECT_EQ(acked_seq(*in.ack), seq);
    EXPECT_TRUE(in.deliver.empty());
  }
  EXPECT_EQ(s.buffered_count(), 4u);
  auto in = s.on_incoming(peer_data(s, 0, "0"));
  EXPECT_EQ(in.kind, Kind::in_order);
  EXPECT_EQ(acked_seq(*in.ack), 0);  // one ack: the buffered ones were acked on arrival
  EXPECT_EQ(texts(in.deliver), "01234");
  EXPECT_EQ(s.buffered_count(), 0u);
  EXPECT_EQ(s.expected_incoming_seq(), 5);
  EXPECT_EQ(s.counters().delivered, 5u);
}

TEST(ReliableStream, DrainStopsAtTheNextGap) {
  ReliableStream s(Settings::agent());
  s.on_incoming(peer_data(s, 1, "1"));
  s.on_incoming(peer_data(s, 3, "3"));
  auto in = s.on_incoming(peer_data(s, 0, "0"));
  EXPECT_EQ(texts(in.deliver), "01");
  EXPECT_EQ(s.expected_incoming_seq(), 2);
  EXPECT_EQ(s.buffered_count(), 1u);
}

TEST(ReliableStream, AgentReacksDuplicatesButClientDoesNotAndNeitherDeliversTwice) {
  ReliableStream agent(Settings::agent());
  ReliableStream client(Settings::client());
  auto to_agent = peer_data(agent, 0, "k");
  auto to_client = peer_data(client, 0, "o");
  EXPECT_EQ(agent.on_incoming(to_agent).deliver.size(), 1u);
  EXPECT_EQ(client.on_incoming(to_client).deliver.size(), 1u);

  auto a = agent.on_incoming(to_agent);
  EXPECT_EQ(a.kind, Kind::duplicate);
  ASSERT_TRUE(a.ack);
  EXPECT_EQ(acked_seq(*a.ack), 0);
  EXPECT_TRUE(a.deliver.empty());
  EXPECT_EQ(agent.counters().reacks, 1u);

  auto c = client.on_incoming(to_client);
  EXPECT_EQ(c.kind, Kind::duplicate);
  EXPECT_FALSE(c.ack);
  EXPECT_TRUE(c.deliver.empty());
  EXPECT_EQ(client.counters().duplicates_received, 1u);
  EXPECT_EQ(client.counters().reacks, 0u);
  EXPECT_EQ(client.counters().delivered, 1u);
}

TEST(ReliableStream, ResentFutureMessageIsAckedAgainButKeptOnce) {
  // Both official ends take the "ahead of expected" path again, which acks when there is room.
  ReliableStream client(Settings::client());
  auto m = peer_data(client, 2, "two");
  EXPECT_EQ(client.on_incoming(m).kind, Kind::buffered_future);
  auto again = client.on_incoming(m);
  EXPECT_EQ(again.kind, Kind::duplicate);
  ASSERT_TRUE(again.ack);
  EXPECT_EQ(acked_seq(*again.ack), 2);
  EXPECT_EQ(client.buffered_count(), 1u);
  client.on_incoming(peer_data(client, 0, "zero"));
  auto in = client.on_incoming(peer_data(client, 1, "one"));
  EXPECT_EQ(texts(in.deliver), "onetwo");
}

TEST(ReliableStream, FullIncomingBufferDropsFutureMessagesWithoutAck) {
  auto settings = Settings::agent();
  settings.incoming_capacity = 2;
  ReliableStream s(settings);
  EXPECT_EQ(s.on_incoming(peer_data(s, 1, "1")).kind, Kind::buffered_future);
  EXPECT_EQ(s.on_incoming(peer_data(s, 2, "2")).kind, Kind::buffered_future);
  auto in = s.on_incoming(peer_data(s, 3, "3"));
  EXPECT_EQ(in.kind, Kind::dropped_buffer_full);
  EXPECT_FALSE(in.ack);
  EXPECT_EQ(s.counters().dropped_buffer_full, 1u);
  // The expected message still gets through and drains the buffer; 3 is then in order.
  EXPECT_EQ(texts(s.on_incoming(peer_data(s, 0, "0")).deliver), "012");
  EXPECT_EQ(s.on_incoming(peer_data(s, 3, "3")).kind, Kind::in_order);
}

TEST(ReliableStream, HandlerNotReadyDropsTheExpectedMessageWithoutAck) {
  ReliableStream s(Settings::client());
  auto m0 = peer_data(s, 0, "early");
  auto in = s.on_incoming(m0, /*handler_ready=*/false);
  EXPECT_EQ(in.kind, Kind::dropped_not_ready);
  EXPECT_FALSE(in.ack);
  EXPECT_TRUE(in.deliver.empty());
  EXPECT_EQ(s.expected_incoming_seq(), 0);
  // Later messages are still buffered and acked, but wait for the retransmitted one.
  EXPECT_EQ(s.on_incoming(peer_data(s, 1, "-late"), false).kind, Kind::buffered_future);
  auto retry = s.on_incoming(m0);
  EXPECT_EQ(retry.kind, Kind::in_order);
  EXPECT_EQ(texts(retry.deliver), "early-late");
}

TEST(ReliableStream, OtherMessageTypesAreLeftAlone) {
  ReliableStream s(Settings::agent());
  auto own = wire::make_message("output_stream_data", 0, 0, wire::PayloadType::output, "x");
  auto ack = make_ack(own);
  EXPECT_EQ(s.on_incoming(own).kind, Kind::not_stream_data);
  EXPECT_EQ(s.on_incoming(ack).kind, Kind::not_stream_data);
  EXPECT_EQ(s.expected_incoming_seq(), 0);
  EXPECT_EQ(s.counters().delivered, 0u);
}

// ---- capacity and pause ---------------------------------------------------------------------

TEST(ReliableStream, ClientEvictsTheOldestUnackedWhenFull) {
  auto settings = Settings::client();
  settings.outgoing_capacity = 3;
  ReliableStream s(settings);
  for (int i = 0; i < 4; ++i) sent(s, "x", kT0);
  EXPECT_EQ(s.unacked_count(), 3u);
  EXPECT_EQ(s.counters().evicted, 1u);
  EXPECT_EQ(s.next_outgoing_seq(), 4);
  EXPECT_FALSE(s.on_ack(0, kT0 + 1ms));  // evicted: never resent, its ack is unknown
  auto tick = s.on_tick(kT0 + 1s);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->sequence_number, 1);
}

TEST(ReliableStream, ClientEvictsAtTheRealCapacity) {
  ReliableStream s(Settings::client());
  for (std::size_t i = 0; i < kClientBufferCapacity + 5; ++i) sent(s, "x", kT0);
  EXPECT_EQ(s.unacked_count(), kClientBufferCapacity);
  EXPECT_EQ(s.counters().evicted, 5u);
}

TEST(ReliableStream, AgentRefusesNewMessagesWhenFull) {
  auto settings = Settings::agent();
  settings.outgoing_capacity = 2;
  ReliableStream s(settings);
  sent(s, "a", kT0);
  sent(s, "b", kT0);
  auto r = s.send(wire::PayloadType::output, "c", kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::outgoing_buffer_full);
  EXPECT_EQ(s.next_outgoing_seq(), 2);  // no sequence number used
  EXPECT_EQ(s.counters().refused, 1u);
  ASSERT_TRUE(s.on_ack(0, kT0 + 1ms));
  auto c = sent(s, "c", kT0 + 1ms);
  EXPECT_EQ(c.sequence_number, 2);
}

TEST(ReliableStream, PauseHoldsNewMessagesAndResendsUntilPublicationStarts) {
  ReliableStream s(Settings::agent());
  s.set_paused(true);
  auto r = s.send(wire::PayloadType::output, "held", kT0);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->write_now);
  EXPECT_EQ(s.unacked_count(), 1u);
  for (int k = 1; k <= 20; ++k) EXPECT_FALSE(s.on_tick(kT0 + k * kTickInterval).resend);
  s.set_paused(false);
  auto tick = s.on_tick(kT0 + 2100ms);
  ASSERT_TRUE(tick.resend);
  EXPECT_EQ(tick.resend->payload_text(), "held");
}

TEST(ReliableStream, IncomingStreamDataOrAckEndsThePause) {
  ReliableStream s(Settings::agent());
  s.set_paused(true);
  s.on_incoming(peer_data(s, 0, "x"));
  EXPECT_FALSE(s.paused());
  s.set_paused(true);
  s.on_ack(42, kT0);
  EXPECT_FALSE(s.paused());
}

}  // namespace
}  // namespace mocksvc::stream
