// Each message fault type on the injector's stage pipeline, in memory, on virtual time, with
// seeded randomness.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "mocksvc/fault/injector.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "tests/fault/harness.hpp"

namespace mocksvc::fault::testing {
namespace {

constexpr Direction kC2A = Direction::client_to_agent;
constexpr Direction kA2C = Direction::agent_to_client;

broker::SessionFacts facts(std::string id = "sess-1", std::string target = "i-0123456789abcdef0") {
  broker::SessionFacts f;
  f.session_id = std::move(id);
  f.target = std::move(target);
  return f;
}

// An injector with one scenario active and a harness on its pipelines.
struct Rig {
  explicit Rig(std::string_view rules, std::uint64_t seed = 1, broker::SessionFacts f = facts())
      : injector(io.get_executor()) {
    injector.activate(with_rules(rules, seed));
    harness = std::make_unique<PipelineHarness>(injector.stage_factory(), std::move(f));
  }
  boost::asio::io_context io;
  Injector injector;
  std::unique_ptr<PipelineHarness> harness;
  PipelineHarness& h() { return *harness; }
  const RuleStats& rule(std::string_view name) {
    stats = injector.stats();
    return *stats.rule(name);
  }
  InjectorStats stats;
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(Drop, DropsEverySelectedMessageAndCountsIt) {
  Rig r(R"([{"name":"d","type":"drop","direction":"agent_to_client"}])");
  for (int i = 0; i < 5; ++i) r.h().send(kA2C, data(kA2C, i));
  r.h().send(kC2A, data(kC2A, 0));
  EXPECT_TRUE(r.h().out[1].empty());
  EXPECT_EQ(r.h().seqs(kC2A), std::vector<std::int64_t>{0});
  EXPECT_EQ(r.h().count("dropped"), 5u);
  EXPECT_EQ(r.rule("d").matched, 5u);
  EXPECT_EQ(r.rule("d").applied, 5u);
}

TEST(Drop, ProbabilityIsReproducibleFromTheSeedAndTheSession) {
  auto run = [](std::uint64_t seed, std::string session) {
    Rig r(R"([{"name":"d","type":"drop","probability":0.5}])", seed, facts(session));
    for (int i = 0; i < 200; ++i) r.h().send(kA2C, data(kA2C, i));
    return r.h().seqs(kA2C);
  };
  const auto a = run(9, "sess-a");
  EXPECT_EQ(a, run(9, "sess-a"));
  EXPECT_NE(a, run(9, "sess-b"));
  EXPECT_NE(a, run(10, "sess-a"));
  EXPECT_GT(a.size(), 60u);
  EXPECT_LT(a.size(), 140u);
}

TEST(Drop, MatchesMessageTypePayloadTypeAndSequenceRange) {
  Rig r(R"([{"name":"d","type":"drop","match":{"message_types":"output_stream_data",
             "payload_types":["Output"],"sequence_min":3,"sequence_max":5}}])");
  for (int i = 0; i < 8; ++i) r.h().send(kA2C, data(kA2C, i));
  r.h().send(kA2C, data(kA2C, 8, "{}", wire::PayloadType::handshake_request));
  r.h().send(kA2C, ack_of(kA2C, 4));
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{0, 1, 2, 6, 7, 8}));
  EXPECT_EQ(r.h().out[1].back().message.message_type, wire::msg::kAcknowledge);
}

TEST(Drop, SequenceRangeAppliesToTheAcknowledgedNumberOfAcks) {
  Rig r(R"([{"name":"d","type":"drop","match":{"message_types":"acknowledge","sequence_min":2,"sequence_max":2}}])");
  for (int i = 0; i < 4; ++i) r.h().send(kC2A, ack_of(kC2A, i));
  ASSERT_EQ(r.h().out[0].size(), 3u);
  EXPECT_EQ(r.h().count("dropped"), 1u);
}

TEST(Drop, NthEveryNthAndLimitCountSelectedMessagesPerDirection) {
  Rig nth(R"([{"name":"d","type":"drop","match":{"nth":3}}])");
  for (int i = 0; i < 6; ++i) nth.h().send(kA2C, data(kA2C, i));
  EXPECT_EQ(nth.h().seqs(kA2C), (std::vector<std::int64_t>{0, 1, 3, 4, 5}));

  Rig every(R"([{"name":"d","type":"drop","match":{"every_nth":2,"limit":2}}])");
  for (int i = 0; i < 8; ++i) every.h().send(kC2A, data(kC2A, i));
  EXPECT_EQ(every.h().seqs(kC2A), (std::vector<std::int64_t>{0, 2, 4, 5, 6, 7}));
  EXPECT_EQ(every.rule("d").matched, 8u);
  EXPECT_EQ(every.rule("d").applied, 2u);
}

TEST(Drop, SessionAndTargetFiltersChooseWhichSessionsGetTheStage) {
  Rig other(R"([{"name":"d","type":"drop","match":{"targets":"i-00000000000000001"}}])");
  other.h().send(kA2C, data(kA2C, 0));
  EXPECT_EQ(other.h().seqs(kA2C).size(), 1u);
  Rig mine(R"([{"name":"d","type":"drop","match":{"session_ids":["sess-1"]}}])");
  mine.h().send(kA2C, data(kA2C, 0));
  EXPECT_TRUE(mine.h().seqs(kA2C).empty());
}

TEST(Duplicate, SendsCopiesBackToBackOrSpaced) {
  Rig r(R"([{"name":"d","type":"duplicate","attributes":{"copies":2}}])");
  r.h().send(kA2C, data(kA2C, 7));
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{7, 7, 7}));
  EXPECT_EQ(r.h().count("duplicated"), 2u);

  Rig spaced(R"([{"name":"d","type":"duplicate","attributes":{"copies":1,"spacing_ms":50}}])");
  spaced.h().send(kC2A, data(kC2A, 1));
  EXPECT_EQ(spaced.h().seqs(kC2A).size(), 1u);
  spaced.h().advance(49ms);
  EXPECT_EQ(spaced.h().seqs(kC2A).size(), 1u);
  spaced.h().advance(1ms);
  EXPECT_EQ(spaced.h().seqs(kC2A), (std::vector<std::int64_t>{1, 1}));
}

TEST(Reorder, HoldKeepsAMessageBackUntilLaterOnesPassed) {
  Rig r(R"([{"name":"r","type":"reorder","match":{"nth":1},"attributes":{"messages":3}}])");
  for (int i = 0; i < 5; ++i) r.h().send(kA2C, data(kA2C, i));
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{1, 2, 3, 0, 4}));
  EXPECT_EQ(r.h().count("reordered"), 1u);
}

TEST(Reorder, HoldReleasesAfterMaxHoldWhenTheSessionGoesQuiet) {
  Rig r(R"([{"name":"r","type":"reorder","attributes":{"messages":5,"max_hold_ms":200}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.h().advance(199ms);
  EXPECT_TRUE(r.h().seqs(kA2C).empty());
  r.h().advance(1ms);
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{0});
}

TEST(Reorder, ShuffleLetsAWindowGoInASeededOrder) {
  auto run = [](std::uint64_t seed) {
    Rig r(R"([{"name":"r","type":"reorder","attributes":{"mode":"shuffle","messages":8}}])", seed);
    for (int i = 0; i < 8; ++i) r.h().send(kA2C, data(kA2C, i));
    return r.h().seqs(kA2C);
  };
  auto a = run(3);
  EXPECT_EQ(a, run(3));
  EXPECT_NE(a, range(0, 8));
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, range(0, 8));
}

TEST(Reorder, ShuffleFlushesAPartialWindowAfterMaxHold) {
  Rig r(R"([{"name":"r","type":"reorder","attributes":{"mode":"shuffle","messages":4,"max_hold_ms":100}}])");
  r.h().send(kC2A, data(kC2A, 0));
  r.h().send(kC2A, data(kC2A, 1));
  EXPECT_TRUE(r.h().seqs(kC2A).empty());
  r.h().advance(100ms);
  EXPECT_EQ(r.h().seqs(kC2A).size(), 2u);
}

TEST(Delay, HoldsMessagesForTheLatency) {
  Rig r(R"([{"name":"d","type":"delay","direction":"client_to_agent","attributes":{"latency_ms":100}}])");
  r.h().send(kC2A, data(kC2A, 0));
  r.h().send(kA2C, data(kA2C, 0));
  EXPECT_TRUE(r.h().seqs(kC2A).empty());
  EXPECT_EQ(r.h().seqs(kA2C).size(), 1u);
  r.h().advance(99ms);
  EXPECT_TRUE(r.h().seqs(kC2A).empty());
  r.h().advance(1ms);
  EXPECT_EQ(r.h().seqs(kC2A), std::vector<std::int64_t>{0});
  EXPECT_EQ(r.h().count("delayed"), 1u);
}

TEST(Delay, KeepsOrderUnderJitterUnlessToldNotTo) {
  Rig ordered(R"([{"name":"d","type":"delay","attributes":{"latency_ms":50,"jitter_ms":40}}])");
  for (int i = 0; i < 50; ++i) {
    ordered.h().send(kA2C, data(kA2C, i));
    ordered.h().advance(1ms);
  }
  ordered.h().advance(200ms);
  EXPECT_EQ(ordered.h().seqs(kA2C), range(0, 50));

  Rig loose(R"([{"name":"d","type":"delay","attributes":{"latency_ms":50,"jitter_ms":40,"keep_order":false}}])");
  for (int i = 0; i < 50; ++i) {
    loose.h().send(kA2C, data(kA2C, i));
    loose.h().advance(1ms);
  }
  loose.h().advance(200ms);
  auto got = loose.h().seqs(kA2C);
  EXPECT_EQ(got.size(), 50u);
  EXPECT_NE(got, range(0, 50));
}

TEST(Corrupt, DamagesThePayloadSoTheDigestCheckFails) {
  Rig r(R"([{"name":"c","type":"corrupt","attributes":{"bytes":3}}])");
  r.h().send(kA2C, data(kA2C, 0, "hello world"));
  ASSERT_EQ(r.h().out[1].size(), 1u);
  auto d = wire::decode(r.h().out[1][0].bytes, wire::DecodeMode::lenient);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error(), wire::Error::digest_mismatch);
  EXPECT_EQ(r.h().count("corrupted"), 1u);
}

TEST(Corrupt, CanDamageTheDigestInstead) {
  Rig r(R"([{"name":"c","type":"corrupt","attributes":{"what":"digest"}}])");
  const auto m = data(kC2A, 0, "payload");
  r.h().send(kC2A, m);
  ASSERT_EQ(r.h().out[0].size(), 1u);
  const auto& bytes = r.h().out[0][0].bytes;
  const auto original = wire::encode(m);
  EXPECT_TRUE(std::equal(bytes.begin() + 120, bytes.end(), original.begin() + 120));
  EXPECT_FALSE(wire::decode(bytes, wire::DecodeMode::lenient).has_value());
}

TEST(Truncate, CutsTheFrame) {
  Rig r(R"([{"name":"t","type":"truncate","attributes":{"keep_bytes":100}}])");
  r.h().send(kA2C, data(kA2C, 0, "0123456789"));
  ASSERT_EQ(r.h().out[1].size(), 1u);
  EXPECT_EQ(r.h().out[1][0].bytes.size(), 100u);
  EXPECT_EQ(r.h().count("truncated"), 1u);
}

TEST(Bandwidth, PacesMessagesToTheRateInOrder) {
  // 130-byte frames (120 header + 10 payload) at 1300 B/s: one every 100 ms.
  Rig r(R"([{"name":"b","type":"bandwidth","direction":"agent_to_client","attributes":{"bytes_per_second":1300}}])");
  for (int i = 0; i < 3; ++i) r.h().send(kA2C, data(kA2C, i, "0123456789"));
  EXPECT_TRUE(r.h().seqs(kA2C).empty());
  r.h().advance(100ms);
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{0});
  r.h().advance(100ms);
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{0, 1}));
  r.h().advance(100ms);
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(Pause, HoldsEverythingForTheDurationThenReleasesInOrder) {
  Rig r(R"([{"name":"p","type":"pause","match":{"nth":2},"attributes":{"duration_ms":500}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kA2C, data(kA2C, 1));  // starts the pause, held
  r.h().send(kA2C, data(kA2C, 2));
  r.h().send(kC2A, data(kC2A, 0));
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{0});
  EXPECT_TRUE(r.h().seqs(kC2A).empty());
  r.h().advance(499ms);
  EXPECT_EQ(r.h().seqs(kA2C).size(), 1u);
  r.h().advance(1ms);
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(r.h().seqs(kC2A), std::vector<std::int64_t>{0});
  r.h().send(kA2C, data(kA2C, 3));
  EXPECT_EQ(r.h().seqs(kA2C).back(), 3);
}

TEST(Pause, ForeverDiscardsAndTellsTheClientAgainAndAgain) {
  Rig r(R"([{"name":"p","type":"pause","attributes":{"at_ms":100,"duration_ms":0,"hold":false,
             "pause_publication_every_ms":200}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kC2A, data(kC2A, 0));
  EXPECT_EQ(r.h().seqs(kA2C).size(), 1u);
  r.h().advance(100ms);
  r.h().send(kC2A, data(kC2A, 1));
  r.h().send(kA2C, data(kA2C, 1));
  r.h().advance(1000ms);
  EXPECT_EQ(r.h().seqs(kC2A), std::vector<std::int64_t>{0});
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{0});
  int pauses = 0;
  for (const auto& f : r.h().out[1]) pauses += f.message.message_type == wire::msg::kPausePublication;
  EXPECT_GE(pauses, 5);
  EXPECT_EQ(r.h().count("dropped"), 2u);
}

TEST(Pause, ValidationRefusesHoldingForever) {
  auto s = parse_scenario(R"({"name":"t","description":"A test.","seed":1,
      "rules":[{"name":"p","type":"pause","attributes":{"duration_ms":0}}]})",
                          "x.json");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().field, "attributes.hold");
}

TEST(Disconnect, ClosesTheClientAfterNMessagesOnce) {
  Rig r(R"([{"name":"d","type":"disconnect","direction":"agent_to_client",
             "attributes":{"after_messages":3,"close_code":4000,"close_reason":"test"}}])");
  for (int i = 0; i < 6; ++i) r.h().send(kA2C, data(kA2C, i));
  ASSERT_EQ(r.h().closes.size(), 1u);
  EXPECT_EQ(r.h().closes[0].first, broker::Side::client);
  EXPECT_EQ(r.h().closes[0].second.code, 4000);
  EXPECT_EQ(r.h().closes[0].second.reason, "test");
  EXPECT_EQ(r.h().seqs(kA2C).size(), 6u);
}

TEST(Disconnect, ClosesTheAgentAbruptlyAtATime) {
  Rig r(R"([{"name":"d","type":"disconnect","attributes":{"side":"agent","at_ms":300,"abrupt":true}}])");
  r.h().send(kC2A, data(kC2A, 0));
  r.h().advance(299ms);
  EXPECT_TRUE(r.h().closes.empty());
  r.h().advance(1ms);
  ASSERT_EQ(r.h().closes.size(), 1u);
  EXPECT_EQ(r.h().closes[0].first, broker::Side::agent);
  EXPECT_EQ(r.h().closes[0].second.kind, broker::CloseSpec::Kind::abrupt);
}

TEST(CloseAfterMs, ClosesTheClientEveryIntervalWithBye) {
  Rig r(R"([{"name":"c","type":"close_after_ms","attributes":{"interval_ms":1000}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kC2A, data(kC2A, 0));
  r.h().advance(999ms);
  EXPECT_TRUE(r.h().closes.empty());
  r.h().advance(1ms);
  ASSERT_EQ(r.h().closes.size(), 1u);
  EXPECT_EQ(r.h().closes[0].first, broker::Side::client);
  EXPECT_EQ(r.h().closes[0].second.code, 1000);
  EXPECT_EQ(r.h().closes[0].second.reason, "Bye");
  r.h().advance(2000ms);
  EXPECT_EQ(r.h().closes.size(), 3u);
  EXPECT_EQ(r.h().count("closed"), 3u);
  EXPECT_EQ(r.rule("c").applied, 3u);  // closes, not frames
  EXPECT_EQ(r.rule("c").matched, 2u);
}

TEST(CloseAfterMs, StopsWhenTheScenarioIsReplaced) {
  Rig r(R"([{"name":"c","type":"close_after_ms","attributes":{"interval_ms":1000}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.injector.clear();
  r.h().rebuild(r.injector.stage_factory());
  r.h().advance(3000ms);
  EXPECT_TRUE(r.h().closes.empty());
}

TEST(WithholdHandshake, KeepsHandshakeMessagesBackAndLetsDataThrough) {
  Rig r(R"([{"name":"w","type":"withhold_handshake"}])");
  r.h().send(kA2C, data(kA2C, 0, "{}", wire::PayloadType::handshake_request));
  r.h().send(kC2A, data(kC2A, 0, "{}", wire::PayloadType::handshake_response));
  r.h().send(kA2C, data(kA2C, 1, "$ "));
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{1});
  EXPECT_TRUE(r.h().seqs(kC2A).empty());
  EXPECT_EQ(r.h().count("withheld"), 2u);

  Rig later(R"([{"name":"w","type":"withhold_handshake","attributes":{"duration_ms":300}}])");
  later.h().send(kA2C, data(kA2C, 0, "{}", wire::PayloadType::handshake_request));
  later.h().advance(100ms);
  later.h().send(kA2C, data(kA2C, 0, "{}", wire::PayloadType::handshake_request));
  later.h().advance(199ms);
  EXPECT_TRUE(later.h().seqs(kA2C).empty());
  later.h().advance(1ms);
  EXPECT_EQ(later.h().seqs(kA2C), (std::vector<std::int64_t>{0, 0}));
}

TEST(AgentSlowAck, DelaysTheAgentsAcksOnly) {
  Rig r(R"([{"name":"s","type":"agent_slow_ack","attributes":{"latency_ms":250}}])");
  r.h().send(kA2C, ack_of(kA2C, 0));
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kC2A, ack_of(kC2A, 0));
  ASSERT_EQ(r.h().out[1].size(), 1u);
  EXPECT_EQ(r.h().out[1][0].message.message_type, wire::msg::kOutputStreamData);
  EXPECT_EQ(r.h().out[0].size(), 1u);
  r.h().advance(250ms);
  ASSERT_EQ(r.h().out[1].size(), 2u);
  EXPECT_EQ(r.h().out[1][1].message.message_type, wire::msg::kAcknowledge);
}

TEST(Tap, CountsRetransmissionsPerDirection) {
  Rig r("[]");
  r.h().send(kC2A, data(kC2A, 0));
  r.h().send(kC2A, data(kC2A, 1));
  r.h().send(kC2A, data(kC2A, 1));
  r.h().send(kC2A, data(kC2A, 0));
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kA2C, ack_of(kA2C, 0));
  r.h().send(kA2C, ack_of(kA2C, 0));
  auto s = r.injector.stats();
  ASSERT_EQ(s.sessions.size(), 1u);
  EXPECT_EQ(s.sessions[0].retransmitted_client_to_agent, 2u);
  EXPECT_EQ(s.sessions[0].retransmitted_agent_to_client, 0u);
  EXPECT_EQ(r.h().count("retransmitted"), 2u);
}

TEST(Pipelines, AReplacedScenarioStillReleasesWhatItHeldWhenItsTimeComes) {
  Rig r(R"([{"name":"d","type":"delay","attributes":{"latency_ms":100}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.injector.activate(with_rules("[]"));
  r.h().rebuild(r.injector.stage_factory());
  r.h().send(kA2C, data(kA2C, 1));
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{1});
  r.h().advance(100ms);
  EXPECT_EQ(r.h().seqs(kA2C), (std::vector<std::int64_t>{1, 0}));
}

TEST(Pipelines, SwitchingARuleOffKeepsItsCounters) {
  Rig r(R"([{"name":"d","type":"drop"}])");
  r.h().send(kA2C, data(kA2C, 0));
  ASSERT_TRUE(r.injector.set_rule_enabled("d", false));
  EXPECT_FALSE(r.injector.set_rule_enabled("nope", false));
  r.h().rebuild(r.injector.stage_factory());
  r.h().send(kA2C, data(kA2C, 1));
  EXPECT_EQ(r.h().seqs(kA2C), std::vector<std::int64_t>{1});
  EXPECT_EQ(r.rule("d").applied, 1u);
  EXPECT_FALSE(r.rule("d").enabled);
}

TEST(Pipelines, BothDirectionsShareOneFaultPerSession) {
  // One close for the session although the rule sits in both pipelines.
  Rig r(R"([{"name":"c","type":"close_after_ms","attributes":{"interval_ms":100,"repeat":false}}])");
  r.h().send(kA2C, data(kA2C, 0));
  r.h().send(kC2A, data(kC2A, 0));
  r.h().advance(200ms);
  EXPECT_EQ(r.h().closes.size(), 1u);
}

// ---- session records ----

using StageSet = std::vector<std::shared_ptr<broker::Stage>>;

// Both directions' stages of a session; holding them keeps the session live.
StageSet open_session(const broker::StageFactory& f, const std::string& id) {
  StageSet s = f(facts(id), kC2A);
  for (auto& st : f(facts(id), kA2C)) s.push_back(std::move(st));
  return s;
}

bool has_record(const InjectorStats& s, std::string_view id) {
  for (const auto& ss : s.sessions)
    if (ss.session_id == id) return true;
  return false;
}

TEST(SessionRecords, ForgetTheOldestEndedSessionsBeyondAThousand) {
  boost::asio::io_context io;
  Injector injector(io.get_executor());
  const auto f = injector.stage_factory();
  for (int i = 0; i < 3000; ++i) open_session(f, "ended-" + std::to_string(i));  // dropped at once
  const InjectorStats s = injector.stats();
  EXPECT_GE(s.sessions.size(), 1000u);
  EXPECT_LE(s.sessions.size(), 1000u + 64u);
  EXPECT_FALSE(has_record(s, "ended-0"));
  EXPECT_TRUE(has_record(s, "ended-2999"));
  EXPECT_EQ(s.sessions.back().session_id, "ended-2999");
}

TEST(SessionRecords, KeepEveryLiveSession) {
  boost::asio::io_context io;
  Injector injector(io.get_executor());
  const auto f = injector.stage_factory();
  std::vector<StageSet> live;
  for (int i = 0; i < 1500; ++i) live.push_back(open_session(f, "live-" + std::to_string(i)));
  for (int i = 0; i < 1500; ++i) open_session(f, "ended-" + std::to_string(i));
  const InjectorStats s = injector.stats();
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(has_record(s, "live-" + std::to_string(i))) << i;
  EXPECT_FALSE(has_record(s, "ended-0"));
  EXPECT_EQ(s.sessions.front().session_id, "live-0");
}

TEST(SessionRecords, StayCheapToCreateWithTwentyThousandLiveSessions) {
  boost::asio::io_context io;
  Injector injector(io.get_executor());
  const auto f = injector.stage_factory();
  std::vector<StageSet> live;
  live.reserve(20000);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20000; ++i) live.push_back(open_session(f, "live-" + std::to_string(i)));
  // Linear work takes well under a second even on a busy 2-core machine; a pass over every live
  // record per new session (2 x 10^8 lookups) takes minutes. The bound leaves 20x headroom.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(injector.stats().sessions.size(), 20000u);
}

}  // namespace
}  // namespace mocksvc::fault::testing
