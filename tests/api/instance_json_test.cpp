#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mocksvc/api/instance_json.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::api {
namespace {

using json = nlohmann::json;

TEST(InstanceJson, ParsesEveryField) {
  auto s = parse_instance_spec(R"({
    "InstanceId":"mi-0123456789abcdef0", "Name":"edge", "Tags":[{"Key":"Env","Value":"lab"},{"Key":"Solo"}],
    "PlatformType":"Linux", "PlatformName":"Ubuntu", "PlatformVersion":"24.04", "AgentVersion":"3.3.987.0",
    "PingStatus":"Inactive", "IPAddress":"10.1.1.1", "ComputerName":"edge.lab", "IamRole":"Role",
    "ActivationId":"11111111-2222-4333-8444-555555555555", "AssociationStatus":"Success",
    "RegistrationDate":"2026-11-24T05:54:23Z", "account_id":"999988887777", "region":"ap-south-1",
    "kind":"agent", "shell":"pty", "port_targets":{"22":"10.0.0.1:22","80":"web:8080"},
    "hostname":"edge", "user":"ops", "ResourceType":"ManagedInstance"})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->instance_id, "mi-0123456789abcdef0");
  EXPECT_EQ(s->name, "edge");
  ASSERT_EQ(s->tags.size(), 2u);
  EXPECT_EQ(s->tags[1].key, "Solo");
  EXPECT_EQ(s->tags[1].value, "");
  EXPECT_EQ(s->platform_name, "Ubuntu");
  EXPECT_EQ(s->agent_version, "3.3.987.0");
  EXPECT_EQ(s->ping_status, backend::PingStatus::inactive);
  EXPECT_EQ(s->kind, backend::InstanceKind::agent);
  EXPECT_EQ(s->registration_date, backend::from_epoch_millis(1795499663000));
  EXPECT_EQ(s->account_id, "999988887777");
  EXPECT_EQ(s->region, "ap-south-1");
  EXPECT_EQ(s->virtual_options.shell, "pty");
  EXPECT_EQ(s->virtual_options.port_targets.at(80), "web:8080");
  EXPECT_EQ(s->virtual_options.hostname, "edge");
  EXPECT_EQ(s->virtual_options.user, "ops");
}

TEST(InstanceJson, DefaultsForAnEmptyObject) {
  auto s = parse_instance_spec("{}");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, backend::InstanceSpec{});
  auto epoch = parse_instance_spec(R"({"RegistrationDate":1795499663.5,"Tags":{"a":"b"}})");
  ASSERT_TRUE(epoch);
  EXPECT_EQ(epoch->registration_date, backend::from_epoch_millis(1795499663500));
  EXPECT_EQ(epoch->tags.at(0).key, "a");
}

TEST(InstanceJson, RejectionsNameTheKey) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {"[]", "an instance must be a JSON object"},
      {"{", "the instance is not valid JSON"},
      {R"({"Name":5})", "'Name' must be a string"},
      {R"({"PingStatus":"Up"})",
       "'PingStatus' must be Online, ConnectionLost or Inactive, not 'Up'"},
      {R"({"kind":"robot"})", "'kind' must be \"virtual\" or \"agent\", not 'robot'"},
      {R"({"RegistrationDate":true})", "'RegistrationDate' must be epoch seconds or ISO-8601"},
      {R"({"RegistrationDate":"someday"})", "'RegistrationDate' must be epoch seconds or ISO-8601"},
      {R"({"RegistrationDate":1e300})", "'RegistrationDate' must be epoch seconds or ISO-8601"},
      {R"({"Tags":[{"Value":"x"}]})",
       "each entry of 'Tags' must be {\"Key\":string,\"Value\":string}"},
      {R"({"Tags":{"a":1}})", "tag 'a' must have a string value"},
      {R"({"Tags":"a=b"})", "'Tags' must be a list of {\"Key\",\"Value\"} or an object"},
      {R"({"port_targets":[80]})",
       "'port_targets' must be an object mapping port to \"host:port\""},
      {R"({"port_targets":{"http":"a:1"}})",
       "'port_targets' key 'http' must be a port number 1-65535"},
      {R"({"port_targets":{"70000":"a:1"}})",
       "'port_targets' key '70000' must be a port number 1-65535"},
      {R"({"port_targets":{"80":8080}})", "'port_targets' entry 80 must be a \"host:port\" string"},
      {R"({"InstanceId":"i-0123456789abcdef0","ResourceType":"ManagedInstance"})",
       "'ResourceType' ManagedInstance does not match instance id i-0123456789abcdef0"},
      {R"({"shoe_size":44})", "unknown key 'shoe_size'"},
      {R"({"Tags":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       "the instance nests too deeply"},
  };
  for (const auto& c : cases) {
    auto r = parse_instance_spec(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().code, "invalid_instance");
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_EQ(r.error().message, c.message) << c.json;
  }
}

TEST(InstanceJson, OutputCarriesLiveState) {
  backend::InstanceInfo info;
  info.spec.instance_id = "i-0123456789abcdef0";
  info.spec.virtual_options.port_targets[80] = "127.0.0.1:8080";
  info.resource_type = "EC2Instance";
  info.ping_status = backend::PingStatus::connection_lost;
  info.last_ping = backend::from_epoch_millis(1000);
  info.agent_connected = true;
  json j = json::parse(instance_to_json(info));
  EXPECT_EQ(j["PingStatus"], "ConnectionLost");
  EXPECT_EQ(j["LastPingDateTime"], 1.0);
  EXPECT_EQ(j["port_targets"]["80"], "127.0.0.1:8080");
  EXPECT_EQ(j["agent_connected"], true);
  EXPECT_EQ(j["kind"], "virtual");
  auto back = parse_instance_spec(j.dump());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->virtual_options.port_targets, info.spec.virtual_options.port_targets);
}

}  // namespace
}  // namespace mocksvc::api
