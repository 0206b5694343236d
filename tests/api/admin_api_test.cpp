#include "tests/api/api_fixture.hpp"

namespace mocksvc::api::testing {
namespace {

auth::HttpRequest admin(std::string method, std::string target, std::string body = "") {
  auth::HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.headers = {{"Host", "127.0.0.1:18080"}, {"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

struct RecordingHooks final : AdminHooks {
  std::vector<std::string> dropped;
  bool connected = true;
  bool drop_client(const std::string& id) override {
    dropped.push_back(id);
    return connected;
  }
  std::string stats() override { return R"({"sessions":2,"bytes_relayed":1024})"; }
};

class AdminTest : public ApiTest {
 protected:
  HttpResponse admin_call(std::string method, std::string target, std::string body = "") {
    return send(admin(std::move(method), std::move(target), std::move(body)));
  }
  static void expect_admin_error(const HttpResponse& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j.value("error", std::string()), code) << r.body;
    EXPECT_TRUE(j.contains("message"));
    EXPECT_EQ(r.header("Content-Type"), "application/json");
  }
};

TEST_F(AdminTest, HealthNeedsNoSignature) {
  auto r = admin_call("GET", "/_mock/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(AdminTest, UnknownRoutesAndMethods) {
  expect_admin_error(admin_call("GET", "/_mock/nothing"), 404, "not_found");
  expect_admin_error(admin_call("GET", "/_mock"), 404, "not_found");
  expect_admin_error(admin_call("POST", "/_mock/health"), 405, "method_not_allowed");
  expect_admin_error(admin_call("GET", "/_mock/reset"), 405, "method_not_allowed");
  expect_admin_error(admin_call("GET", "/_mock/instances/i-0123456789abcdef0/bogus"), 404,
                     "not_found");
  EXPECT_TRUE(is_admin_path("/_mock/health?x=1"));
  EXPECT_FALSE(is_admin_path("/_mockery"));
  EXPECT_FALSE(is_admin_path("/"));
}

TEST_F(AdminTest, InstancesListAddGetDelete) {
  auto list = admin_call("GET", "/_mock/instances");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(body_of(list)["instances"].size(), 4u);

  auto added = admin_call(
      "POST", "/_mock/instances",
      R"({"InstanceId":"i-0cccccccccccccccc","Name":"db","kind":"virtual","shell":"pty",)"
      R"("port_targets":{"5432":"127.0.0.1:15432"},"Tags":{"Env":"test"},"region":"us-east-1"})");
  ASSERT_EQ(added.status, 201) << added.body;
  json a = body_of(added);
  EXPECT_EQ(a["InstanceId"], "i-0cccccccccccccccc");
  EXPECT_EQ(a["shell"], "pty");
  EXPECT_EQ(a["port_targets"]["5432"], "127.0.0.1:15432");
  EXPECT_EQ(a["Tags"], json::parse(R"([{"Key":"Env","Value":"test"}])"));
  EXPECT_EQ(a["PingStatus"], "Online");
  EXPECT_EQ(a["account_id"], "123456789012");
  EXPECT_EQ(backend.find_instance("i-0cccccccccccccccc")->spec.virtual_options.shell, "pty");

  auto generated = admin_call("POST", "/_mock/instances", "{}");
  ASSERT_EQ(generated.status, 201) << generated.body;
  EXPECT_TRUE(backend::is_valid_instance_id(body_of(generated)["InstanceId"].get<std::string>()));

  auto got = admin_call("GET", "/_mock/instances/i-0cccccccccccccccc");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(body_of(got)["Name"], "db");

  expect_admin_error(
      admin_call("POST", "/_mock/instances", R"({"InstanceId":"i-0cccccccccccccccc"})"), 409,
      "conflict");
  expect_admin_error(admin_call("POST", "/_mock/instances", R"({"InstanceId":"web-1"})"), 400,
                     "invalid_instance");
  expect_admin_error(admin_call("POST", "/_mock/instances", R"({"Colour":"blue"})"), 400,
                     "invalid_instance");
  expect_admin_error(admin_call("POST", "/_mock/instances", "[1]"), 400, "bad_json");
  expect_admin_error(admin_call("POST", "/_mock/instances", "{nope"), 400, "bad_json");
  expect_admin_error(
      admin_call("POST", "/_mock/instances", R"({"Tags":)" + std::string(50000, '[') + "}"), 400,
      "bad_json");

  auto del = admin_call("DELETE", "/_mock/instances/i-0cccccccccccccccc");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.body, R"({"InstanceId":"i-0cccccccccccccccc","deleted":true})");
  expect_admin_error(admin_call("DELETE", "/_mock/instances/i-0cccccccccccccccc"), 404,
                     "not_found");
  expect_admin_error(admin_call("GET", "/_mock/instances/i-0cccccccccccccccc"), 404, "not_found");
}

TEST_F(AdminTest, GetOutputCanBePostedBack) {
  auto got = admin_call("GET", "/_mock/instances/i-0123456789abcdef0");
  ASSERT_EQ(got.status, 200);
  json spec = body_of(got);
  spec["InstanceId"] = "i-0dddddddddddddddd";
  auto again = admin_call("POST", "/_mock/instances", spec.dump());
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(body_of(again)["ComputerName"], "web.internal");
  EXPECT_EQ(body_of(again)["account_id"], "111122223333");
}

TEST_F(AdminTest, PingStatusChangesWhatClientsSee) {
  auto r = admin_call("PUT", "/_mock/instances/i-0123456789abcdef0/ping-status",
                      R"({"PingStatus":"ConnectionLost"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["PingStatus"], "ConnectionLost");
  expect_error(call("StartSession", R"({"Target":"i-0123456789abcdef0"})"), "TargetNotConnected");
  expect_admin_error(admin_call("PUT", "/_mock/instances/i-0123456789abcdef0/ping-status",
                                R"({"PingStatus":"Napping"})"),
                     400, "invalid_request");
  expect_admin_error(admin_call("PUT", "/_mock/instances/i-0fffffffffffffff0/ping-status",
                                R"({"PingStatus":"Online"})"),
                     404, "not_found");
  expect_admin_error(admin_call("POST", "/_mock/instances/i-0123456789abcdef0/ping-status", "{}"),
                     405, "method_not_allowed");
}

TEST_F(AdminTest, SessionsTerminateAndDropClient) {
  std::string id = start_session_id();
  auto list = admin_call("GET", "/_mock/sessions");
  ASSERT_EQ(list.status, 200);
  json s = body_of(list)["sessions"][0];
  EXPECT_EQ(s["SessionId"], id);
  EXPECT_EQ(s["state"], "Active");
  EXPECT_EQ(s["Status"], "Connecting");
  EXPECT_EQ(s["account_id"], "111122223333");
  EXPECT_EQ(s["region"], "us-east-1");
  EXPECT_EQ(s["target_kind"], "virtual");
  EXPECT_EQ(s["session_type"], "Standard_Stream");

  RecordingHooks rec;
  Service with_hooks(backend, rec);
  auto dropped =
      with_hooks.handle(admin("POST", "/_mock/sessions/" + id + "/drop-client"), context);
  ASSERT_EQ(dropped.status, 200) << dropped.body;
  EXPECT_EQ(rec.dropped, std::vector<std::string>{id});
  rec.connected = false;
  expect_admin_error(
      with_hooks.handle(admin("POST", "/_mock/sessions/" + id + "/drop-client"), context), 409,
      "conflict");
  expect_admin_error(with_hooks.handle(admin("POST", "/_mock/sessions/nope/drop-client"), context),
                     404, "not_found");
  auto stats = with_hooks.handle(admin("GET", "/_mock/stats"), context);
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(body_of(stats)["broker"]["bytes_relayed"], 1024);
  EXPECT_EQ(body_of(stats)["backend"]["sessions_active"], 1);

  auto term = admin_call("POST", "/_mock/sessions/" + id + "/terminate");
  ASSERT_EQ(term.status, 200) << term.body;
  EXPECT_EQ(body_of(term)["Status"], "Terminating");
  backend.session_ended(id, backend::SessionStatus::terminated, "done");
  auto one = admin_call("GET", "/_mock/sessions/" + id);
  EXPECT_EQ(body_of(one)["state"], "History");
  EXPECT_EQ(body_of(one)["output"], "done");
  expect_admin_error(admin_call("POST", "/_mock/sessions/nope/terminate"), 404, "not_found");
  expect_admin_error(admin_call("GET", "/_mock/sessions/nope"), 404, "not_found");
}

TEST_F(AdminTest, StatsWithNullHooks) {
  auto r = admin_call("GET", "/_mock/stats");
  ASSERT_EQ(r.status, 200);
  json j = body_of(r);
  EXPECT_EQ(j["backend"]["instances"], 4);
  EXPECT_EQ(j["broker"], json::object());
}

TEST_F(AdminTest, AuditListsRecentEvents) {
  call("DescribeSessions", R"({"State":"Active"})");
  call("GetConnectionStatus", R"({"Target":"i-0123456789abcdef0"})");
  auto all = admin_call("GET", "/_mock/audit");
  ASSERT_EQ(all.status, 200);
  json events = body_of(all)["events"];
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["eventName"], "DescribeSessions");
  EXPECT_EQ(events[1]["eventName"], "GetConnectionStatus");
  auto last = admin_call("GET", "/_mock/audit?limit=1");
  ASSERT_EQ(body_of(last)["events"].size(), 1u);
  EXPECT_EQ(body_of(last)["events"][0]["eventName"], "GetConnectionStatus");
  expect_admin_error(admin_call("GET", "/_mock/audit?limit=lots"), 400, "invalid_request");
  // Admin calls are not AWS API calls and are not audited.
  EXPECT_EQ(backend.stats().audit_events, 2u);
}

TEST_F(AdminTest, PreferencesRoundTrip) {
  auto get = admin_call("GET", "/_mock/preferences");
  EXPECT_EQ(
      get.body,
      R"({"idle_timeout_minutes":20,"max_session_duration_minutes":0,"run_as_enabled":false,"run_as_default_user":"","shell_profile_linux":""})");
  auto put = admin_call("PUT", "/_mock/preferences",
                        R"({"idle_timeout_minutes":5,"run_as_enabled":true})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(backend.preferences().idle_timeout_minutes, 5);
  EXPECT_TRUE(backend.preferences().run_as_enabled);
  expect_admin_error(admin_call("PUT", "/_mock/preferences", R"({"idle_timeout_minutes":0})"), 400,
                     "invalid_preferences");
  expect_admin_error(admin_call("PUT", "/_mock/preferences", R"({"idle":5})"), 400,
                     "invalid_request");
  expect_admin_error(admin_call("PUT", "/_mock/preferences", R"({"idle_timeout_minutes":"5"})"),
                     400, "invalid_request");
  EXPECT_EQ(backend.preferences().idle_timeout_minutes, 5);
}

TEST_F(AdminTest, ResetRestoresTheConfiguration) {
  start_session_id();
  admin_call("DELETE", "/_mock/instances/i-0123456789abcdef0");
  auto r = admin_call("POST", "/_mock/reset");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(backend.find_instance(kWeb));
  EXPECT_TRUE(backend.list_sessions().empty());
  EXPECT_EQ(body_of(admin_call("GET", "/_mock/sessions"))["sessions"], json::array());
}

}  // namespace
}  // namespace mocksvc::api::testing
