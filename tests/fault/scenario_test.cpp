// Loading scenario documents: defaults in one place, and errors that name the file, the rule and
// the field.
#include <gtest/gtest.h>

#include "mocksvc/fault/catalog.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault {
namespace {

LoadError error_of(std::string_view json, std::optional<std::string_view> name = std::nullopt) {
  auto s = parse_scenario(json, "scenarios/x.json", name);
  EXPECT_FALSE(s.has_value());
  return s ? LoadError{} : s.error();
}

std::string doc(std::string_view rules) {
  return R"({"name":"x","description":"A test.","seed":3,"rules":)" + std::string(rules) + "}";
}

TEST(Scenario, AppliesDefaultsInOnePlace) {
  auto s = parse_scenario(doc(R"([{"name":"d","type":"delay"}])"), "x.json");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  const Rule& r = s->rules.at(0);
  EXPECT_EQ(r.direction, DirectionSet::both);
  EXPECT_EQ(r.probability, 1.0);
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.attributes.integer("latency_ms"), 100);
  EXPECT_EQ(r.attributes.integer("jitter_ms"), 0);
  EXPECT_TRUE(r.attributes.boolean("keep_order"));
  EXPECT_FALSE(s->workload.has_value());
  EXPECT_EQ(s->seed, 3u);
}

TEST(Scenario, ReadsEveryPartOfADocument) {
  auto s = parse_scenario(R"({
    "$schema": "./scenario.schema.json",
    "name": "x", "description": "Everything at once.", "seed": 9,
    "rules": [
      {"name": "t", "type": "throttle", "match": {"operations": ["StartSession"], "access_keys": "AKIA"},
       "attributes": {"rate_per_second": 0.5, "burst": 2}},
      {"name": "a", "type": "agent_disconnect", "enabled": false, "match": {"targets": "i-0123456789abcdef0"},
       "attributes": {"at_ms": 10, "duration_ms": 20}}
    ],
    "timeline": [{"after": "sessions_connected", "at_ms": 5000, "action": "enable_rule", "rule": "a"},
                 {"at_ms": 8000, "action": "instance_online", "target": "i-0123456789abcdef0"}],
    "workload": {"sessions": 2, "steps": [{"expect": "$ "}, {"api": "DescribeSessions", "timeout_ms": 5000},
                                          {"exit": true}]},
    "expect": {"all_sessions_completed": true, "min_throttled_calls": 2, "min_applied": {"t": 1}}
  })",
                          "x.json", "x");
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(s->rules[0].attributes.number("rate_per_second"), 0.5);
  EXPECT_EQ(s->rules[0].match.access_keys, std::vector<std::string>{"AKIA"});
  EXPECT_FALSE(s->rules[1].enabled);
  ASSERT_EQ(s->timeline.size(), 2u);
  EXPECT_EQ(s->timeline[0].action, ActionKind::enable_rule);
  EXPECT_EQ(s->timeline[1].after, kEventActivated);
  ASSERT_TRUE(s->workload);
  EXPECT_EQ(s->workload->steps[1].kind, WorkloadStep::Kind::api);
  EXPECT_EQ(s->workload->steps[1].timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(s->expect.min_applied.at(0).second, 1);
}

TEST(Scenario, RoundTripsThroughItsJson) {
  auto s = parse_scenario(doc(R"([{"name":"d","type":"drop","direction":"agent_to_client","probability":0.25,
                                  "match":{"message_types":"acknowledge","every_nth":2}}])"),
                          "x.json");
  ASSERT_TRUE(s.has_value());
  auto again = parse_scenario(to_json(*s), "again");
  ASSERT_TRUE(again.has_value()) << again.error().to_string();
  EXPECT_EQ(to_json(*again), to_json(*s));
  EXPECT_EQ(again->rules[0].match.every_nth, 2u);
}

TEST(Scenario, NamesTheFileRuleAndFieldOfAnError) {
  auto e = error_of(doc(R"([{"name":"ok","type":"drop"},{"name":"slow","type":"delay","attributes":{"latency_ms":-1}}])"));
  EXPECT_EQ(e.file, "scenarios/x.json");
  EXPECT_EQ(e.rule, 1u);
  EXPECT_EQ(e.rule_name, "slow");
  EXPECT_EQ(e.field, "attributes.latency_ms");
  EXPECT_EQ(e.to_string(),
            "scenarios/x.json: rules[1] (\"slow\"): field \"attributes.latency_ms\": must be an integer between 0 and "
            "86400000");
}

TEST(Scenario, RefusesWhatItDoesNotKnow) {
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"explode"}])")).field, "type");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","attributes":{"latency_ms":1}}])")).field,
            "attributes.latency_ms");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","colour":"red"}])")).field, "colour");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","match":{"op":1}}])")).field, "match.op");
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test.","seed":1,"extra":true})").field, "extra");
}

TEST(Scenario, ChecksFieldsAgainstTheKindOfFault) {
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"throttle","direction":"both","attributes":{"rate_per_second":1}}])")).field,
            "direction");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"error","match":{"message_types":"acknowledge"},
                              "attributes":{"code":"X"}}])"))
                .field,
            "match.message_types");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","match":{"operations":"StartSession"}}])")).field,
            "match.operations");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"agent_slow_ack","direction":"client_to_agent"}])")).field,
            "direction");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"instance_offline","probability":0.5}])")).field, "probability");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"throttle"}])")).field, "attributes.rate_per_second");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","probability":1.5}])")).field, "probability");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop","match":{"nth":2,"every_nth":3}}])")).field, "match.every_nth");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"reorder","attributes":{"mode":"spin"}}])")).field,
            "attributes.mode");
}

TEST(Scenario, ChecksTheDocumentAroundTheRules) {
  EXPECT_EQ(error_of(doc("[]"), "other").field, "name");
  EXPECT_EQ(error_of(R"({"name":"x","description":"No full stop","seed":1})").field, "description");
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test."})").field, "seed");
  EXPECT_EQ(error_of(doc(R"([{"name":"a","type":"drop"},{"name":"a","type":"drop"}])")).rule, 1u);
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test.","seed":1,
                         "timeline":[{"action":"enable_rule","rule":"ghost"}]})")
                .field,
            "timeline[0].rule");
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test.","seed":1,
                         "timeline":[{"after":"lunch","action":"drop_clients"}]})")
                .field,
            "timeline[0].after");
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test.","seed":1,
                         "workload":{"steps":[{"send":"a","expect":"b"}]}})")
                .field,
            "workload.steps[0]");
  EXPECT_EQ(error_of(R"({"name":"x","description":"A test.","seed":1,"expect":{"min_applied":{"ghost":1}}})").field,
            "expect.min_applied.ghost");
  EXPECT_EQ(error_of("not json").message, "not valid JSON");
}

TEST(Scenario, DerivesSeedsReproducibly) {
  EXPECT_EQ(derive_seed(1, "sess-a", 2), derive_seed(1, "sess-a", 2));
  EXPECT_NE(derive_seed(1, "sess-a", 2), derive_seed(1, "sess-b", 2));
  EXPECT_NE(derive_seed(1, "sess-a", 2), derive_seed(2, "sess-a", 2));
  EXPECT_NE(derive_seed(1, "sess-a", 2), derive_seed(1, "sess-a", 3));
}

TEST(Catalog, EveryTypeHasOneBuilderForItsKind) {
  for (const FaultType* t : fault_types()) {
    const int builders = (t->make_message != nullptr) + (t->make_api != nullptr) + (t->plan != nullptr);
    EXPECT_EQ(builders, 1) << t->name;
    if (t->kind == FaultKind::api) {
      EXPECT_NE(t->make_api, nullptr) << t->name;
    }
    for (const auto& a : t->attributes) {
      EXPECT_FALSE(a.doc.empty()) << t->name << "." << a.name;
      EXPECT_EQ(a.name.find(' '), std::string_view::npos);
    }
  }
  EXPECT_EQ(fault_types().size(), 19u);
}

}  // namespace
}  // namespace mocksvc::fault
