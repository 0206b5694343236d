// scenarios/scenario.schema.json documents the format for editors; the loader checks the same
// rules in C++. These tests hold the two, and every shipped scenario, to each other.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mocksvc/fault/catalog.hpp"
#include "mocksvc/fault/scenario.hpp"

namespace mocksvc::fault {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const fs::path kDir = SSMH_SCENARIOS_DIR;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

std::vector<fs::path> scenario_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.path().extension() == ".json" && e.path().filename() != "scenario.schema.json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::set<std::string> keys_of(const json& properties) {
  std::set<std::string> out;
  for (auto it = properties.begin(); it != properties.end(); ++it) out.insert(it.key());
  return out;
}

std::set<std::string> as_set(const std::vector<std::string_view>& v) { return {v.begin(), v.end()}; }

const json& schema() {
  static const json s = read_json(kDir / "scenario.schema.json");
  return s;
}

TEST(ShippedScenarios, EveryOneLoadsAndIsNamedAfterItsFile) {
  const auto files = scenario_files();
  ASSERT_GE(files.size(), 10u);
  for (const auto& f : files) {
    auto s = load_scenario_file(f);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    EXPECT_EQ(s->name, f.stem().string());
    EXPECT_TRUE(s->workload.has_value()) << f << ": a shipped scenario is a test: give it a workload";
    EXPECT_FALSE(s->expect.empty()) << f << ": a shipped scenario is a test: give it expectations";
  }
}

TEST(ShippedScenarios, IncludeTheOnesTheIssueAsksFor) {
  for (const char* name : {"baseline", "drop_5_percent", "reorder_window", "throttle_start_session", "hourly_close",
                           "resume_refused", "out_of_order_bursts", "dead_far_end", "lost_acks", "throttled_api"})
    EXPECT_TRUE(fs::exists(kDir / (std::string(name) + ".json"))) << name;
}

TEST(Schema, ObjectFieldsMatchTheLoader) {
  const json& defs = schema()["$defs"];
  EXPECT_EQ(keys_of(schema()["properties"]), as_set(known_fields("scenario")));
  EXPECT_EQ(keys_of(defs["rule"]["properties"]), as_set(known_fields("rule")));
  EXPECT_EQ(keys_of(defs["match"]["properties"]), as_set(known_fields("match")));
  EXPECT_EQ(keys_of(defs["timeline_step"]["properties"]), as_set(known_fields("timeline")));
  EXPECT_EQ(keys_of(defs["workload"]["properties"]), as_set(known_fields("workload")));
  EXPECT_EQ(keys_of(defs["workload_step"]["properties"]), as_set(known_fields("workload_step")));
  EXPECT_EQ(keys_of(defs["expect"]["properties"]), as_set(known_fields("expect")));
}

TEST(Schema, FaultTypesAndAttributesMatchTheCatalog) {
  const json& defs = schema()["$defs"];
  std::set<std::string> enum_types;
  for (const auto& t : defs["rule"]["properties"]["type"]["enum"]) enum_types.insert(t.get<std::string>());
  std::set<std::string> catalog_types;
  for (const FaultType* t : fault_types()) {
    catalog_types.insert(std::string(t->name));
    const std::string def = "attributes_" + std::string(t->name);
    ASSERT_TRUE(defs.contains(def)) << def;
    const json& props = defs[def]["properties"];
    std::set<std::string> names;
    for (const auto& a : t->attributes) {
      names.insert(std::string(a.name));
      ASSERT_TRUE(props.contains(std::string(a.name))) << t->name << "." << a.name;
      const json& p = props[std::string(a.name)];
      if (a.default_value) {
        ASSERT_TRUE(p.contains("default")) << t->name << "." << a.name;
        std::visit([&](const auto& v) { EXPECT_EQ(p["default"], json(v)) << t->name << "." << a.name; },
                   *a.default_value);
      } else {
        EXPECT_NE(std::find(defs[def]["required"].begin(), defs[def]["required"].end(), std::string(a.name)),
                  defs[def]["required"].end())
            << t->name << "." << a.name << " has no default: the schema must require it";
      }
      if (!a.choices.empty()) {
        std::set<std::string> choices(a.choices.begin(), a.choices.end());
        std::set<std::string> in_schema;
        for (const auto& c : p["enum"]) in_schema.insert(c.get<std::string>());
        EXPECT_EQ(choices, in_schema) << t->name << "." << a.name;
      }
    }
    EXPECT_EQ(keys_of(props), names) << t->name;
  }
  EXPECT_EQ(enum_types, catalog_types);
}

// Every key a shipped scenario uses is one the schema names at that place.
void check_keys(const json& value, const json& schema_node, const std::string& where) {
  const json& defs = schema()["$defs"];
  const json* node = &schema_node;
  if (node->contains("$ref")) {
    const std::string ref = (*node)["$ref"].get<std::string>();
    node = &defs[ref.substr(ref.rfind('/') + 1)];
  }
  if (value.is_array() && node->contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) check_keys(value[i], (*node)["items"], where + "[" + std::to_string(i) + "]");
    return;
  }
  if (!value.is_object() || !node->contains("properties")) return;
  const json& props = (*node)["properties"];
  for (auto it = value.begin(); it != value.end(); ++it) {
    ASSERT_TRUE(props.contains(it.key())) << where << "." << it.key() << " is not in the schema";
    const json* child = &props[it.key()];
    if (it.key() == "attributes" && value.contains("type"))
      child = &defs["attributes_" + value["type"].get<std::string>()];
    check_keys(it.value(), *child, where + "." + it.key());
  }
}

TEST(Schema, NamesEveryKeyTheShippedScenariosUse) {
  for (const auto& f : scenario_files()) check_keys(read_json(f), schema(), f.filename().string());
}

}  // namespace
}  // namespace mocksvc::fault
