// The ssm-client program against the in-process mock service, run as a child process the way
// `aws ssm start-session` runs session-manager-plugin: started with a StartSession response the
// test fetched itself, or by Debian's AWS CLI with the program on PATH under the plugin's name.
// Shell sessions over HTTP and TLS, port forwarding to the built-in web page, TerminateSession
// from outside, and a dropped connection resumed through ResumeSession.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "mocksvc/app/service.hpp"
#include "mocksvc/client/scripted.hpp"
#include "mocksvc/net/http_client.hpp"
#include "mocksvc/net/tls.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "plugin/session_runner.hpp"
#include "plugin/ssm_call.hpp"
#include "tests/plugin/child_process.hpp"

namespace ssmh::plugin {
namespace {

namespace asio = boost::asio;
namespace app = mocksvc::app;
namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::ChildProcess;

constexpr auto kWait = 20s;
constexpr const char* kAwsCli = "/usr/bin/aws";

std::string make_temp_dir(const char* prefix) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return {};
  return tmpl;
}

// One service for the whole suite: sessions are independent, and starting it (certificates
// included) is the slow part.
class EndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    state_dir_ = new std::string(make_temp_dir("plugin-e2e"));
    auto config = app::default_config();
    config.listen_port = 0;
    config.state_dir = *state_dir_ + "/state";
    config.log_level = "warn";
    service_ = new app::Service(config);
    auto started = service_->start();
    ASSERT_TRUE(started) << started.error();
    info_ = new app::ServiceInfo(*started);
    // The AWS CLI finds the program by this exact name on PATH.
    bin_dir_ = new std::string(*state_dir_ + "/bin");
    fs::create_directories(*bin_dir_);
    fs::create_symlink(SSM_CLIENT_PATH, *bin_dir_ + "/session-manager-plugin");
    io_ = new mocksvc::runtime::IoThreads(1);
    io_->start();
  }

  static void TearDownTestSuite() {
    if (io_) io_->stop();
    delete io_;
    if (service_) service_->stop();
    delete service_;
    delete info_;
    std::error_code ec;
    if (state_dir_ && !state_dir_->empty()) fs::remove_all(*state_dir_, ec);
    delete state_dir_;
    delete bin_dir_;
  }

  void SetUp() override { ASSERT_TRUE(info_) << "the service did not start"; }

  static const app::ServiceInfo& info() { return *info_; }

  static SsmEndpoint endpoint(bool tls) {
    SsmEndpoint e;
    e.url = tls ? info().endpoint_tls : info().endpoint;
    e.region = info().region;
    const mocksvc::auth::Credentials c{info().access_key_id, info().secret_access_key, ""};
    e.credentials = [c] { return std::optional<mocksvc::auth::Credentials>(c); };
    if (tls) {
      auto ctx = mocksvc::net::make_client_tls(info().ca_bundle);
      if (ctx) e.tls = *ctx;
    }
    e.timeout = 10000ms;
    return e;
  }

  static SsmResult call(const std::string& op, const json& body, bool tls = false) {
    auto f = asio::co_spawn(io_->executor(), call_ssm(io_->executor(), endpoint(tls), op, body.dump()),
                            asio::use_future);
    if (f.wait_for(kWait) != std::future_status::ready) return SsmResult{0, "", "timed out", 0};
    return f.get();
  }

  // The mock's admin API (no signature): status and body; status 0 on failure.
  static std::pair<int, std::string> admin(const std::string& method, const std::string& path) {
    auto f = asio::co_spawn(
        io_->executor(),
        [method, path]() -> asio::awaitable<std::pair<int, std::string>> {
          mocksvc::net::HttpClient http(io_->executor(), info().endpoint);
          mocksvc::auth::HttpRequest req;
          req.method = method;
          req.target = path;
          req.headers.emplace_back("Content-Type", "application/json");
          auto r = co_await http.send(std::move(req), {}, 10000ms);
          std::pair<int, std::string> out{0, {}};
          if (r) out = {r->status, r->body};
          co_return out;
        },
        asio::use_future);
    if (f.wait_for(kWait) != std::future_status::ready) return {0, {}};
    return f.get();
  }

  // The audit records of one API operation on one session, as the mock keeps them.
  static std::vector<json> audit_events(const std::string& event_name, const std::string& session_id) {
    std::vector<json> found;
    auto [status, body] = admin("GET", "/_mock/audit");
    auto j = json::parse(body, nullptr, false);
    if (status != 200 || !j.is_object() || !j.contains("events") || !j["events"].is_array()) return found;
    for (const auto& e : j["events"]) {
      if (e.is_object() && e.value("eventName", "") == event_name && e.dump().find(session_id) != std::string::npos)
        found.push_back(e);
    }
    return found;
  }

  // StartSession's response body; fails the test if the call did.
  static std::string start_session(const json& request, bool tls = false) {
    auto r = call("StartSession", request, tls);
    EXPECT_TRUE(r.ok()) << r.status << " " << r.error << " " << r.body;
    return r.body;
  }

  static std::vector<std::string> environment(bool tls, std::vector<std::string> extra = {}) {
    std::vector<std::string> env = {
        "PATH=" + *bin_dir_ + ":/usr/bin:/bin",
        "HOME=" + *state_dir_,
        "LANG=C.UTF-8",
        "AWS_ACCESS_KEY_ID=" + info().access_key_id,
        "AWS_SECRET_ACCESS_KEY=" + info().secret_access_key,
        "AWS_DEFAULT_REGION=" + info().region,
        "AWS_CONFIG_FILE=/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
        "AWS_PAGER=",
        "AWS_EC2_METADATA_DISABLED=true",
        "SSM_CLIENT_LOG=debug",
    };
    if (tls) env.push_back("AWS_CA_BUNDLE=" + info().ca_bundle);
    for (auto& e : extra) env.push_back(std::move(e));
    return env;
  }

  // The program started with the argv `aws ssm start-session` would give it (§1.1).
  static std::unique_ptr<ChildProcess> spawn_client(const std::string& response, const json& request, bool tls,
                                                    std::vector<std::string> extra_env = {}) {
    std::string error;
    auto child = ChildProcess::spawn(
        {SSM_CLIENT_PATH, response, info().region, "StartSession", "", request.dump(),
         tls ? info().endpoint_tls : info().endpoint},
        environment(tls, std::move(extra_env)), &error);
    EXPECT_TRUE(child) << error;
    return child;
  }

  static std::unique_ptr<ChildProcess> spawn_cli(const std::vector<std::string>& args, bool tls) {
    std::vector<std::string> argv = {kAwsCli, "ssm", "start-session", "--region", info().region, "--endpoint-url",
                                     tls ? info().endpoint_tls : info().endpoint};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string error;
    auto child = ChildProcess::spawn(argv, environment(tls), &error);
    EXPECT_TRUE(child) << error;
    return child;
  }

  // Runs commands in a shell session whose start line was seen, and exits it. The evaluated
  // output (hello-42) differs from the echoed input line, so only the shell's answer matches.
  static void converse_and_exit(ChildProcess& c, const std::string& session_id) {
    ASSERT_TRUE(c.expect("$ ", kWait)) << c.transcript();
    ASSERT_TRUE(c.write("echo hello-$(echo 42)\n"));
    ASSERT_TRUE(c.expect("hello-42", kWait)) << c.transcript();
    ASSERT_TRUE(c.write("hostname\n"));
    ASSERT_TRUE(c.expect("ip-10-0-0-11", kWait)) << c.transcript();
    ASSERT_TRUE(c.write("exit\n"));
    ASSERT_TRUE(c.expect("\n\nExiting session with sessionId: " + session_id + ".\n\n", kWait)) << c.transcript();
    EXPECT_EQ(c.wait_exit(kWait), std::optional<int>(0)) << c.transcript();
  }

  static std::string session_id_of(const std::string& response) {
    auto j = json::parse(response, nullptr, false);
    if (!j.is_object() || !j.contains("SessionId") || !j["SessionId"].is_string()) return {};
    return j["SessionId"].get<std::string>();
  }

  static inline app::Service* service_ = nullptr;
  static inline app::ServiceInfo* info_ = nullptr;
  static inline std::string* state_dir_ = nullptr;
  static inline std::string* bin_dir_ = nullptr;
  static inline mocksvc::runtime::IoThreads* io_ = nullptr;
};

json shell_request() { return json{{"Target", app::kDefaultShellInstance}}; }

// ---- shell sessions -----------------------------------------------------------------------

TEST_F(EndToEnd, RunsAShellSessionFromAStartSessionResponse) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  ASSERT_FALSE(id.empty()) << response;
  auto c = spawn_client(response, shell_request(), false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("\nStarting session with SessionId: " + id + "\n", kWait)) << c->transcript();
  converse_and_exit(*c, id);
}

TEST_F(EndToEnd, RunsAShellSessionThroughTheAwsCli) {
  if (::access(kAwsCli, X_OK) != 0) GTEST_SKIP() << kAwsCli << " is not installed";
  auto c = spawn_cli({"--target", app::kDefaultShellInstance}, false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("Starting session with SessionId: ", kWait)) << c->transcript();
  const auto eol = c->unconsumed().find('\n');
  ASSERT_NE(eol, std::string_view::npos);
  const std::string id(c->unconsumed().substr(0, eol));
  ASSERT_FALSE(id.empty());
  converse_and_exit(*c, id);
}

TEST_F(EndToEnd, RunsAShellSessionOverTls) {
  ASSERT_FALSE(info().endpoint_tls.empty());
  const auto response = start_session(shell_request(), /*tls=*/true);
  const auto id = session_id_of(response);
  ASSERT_FALSE(id.empty()) << response;
  EXPECT_EQ(json::parse(response).value("StreamUrl", "").rfind("wss://", 0), 0u) << response;
  auto c = spawn_client(response, shell_request(), true);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("\nStarting session with SessionId: " + id + "\n", kWait)) << c->transcript();
  converse_and_exit(*c, id);
}

TEST_F(EndToEnd, RunsAShellSessionOverTlsThroughTheAwsCli) {
  if (::access(kAwsCli, X_OK) != 0) GTEST_SKIP() << kAwsCli << " is not installed";
  auto c = spawn_cli({"--target", app::kDefaultShellInstance}, true);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("Starting session with SessionId: ", kWait)) << c->transcript();
  const auto eol = c->unconsumed().find('\n');
  ASSERT_NE(eol, std::string_view::npos);
  const std::string id(c->unconsumed().substr(0, eol));
  converse_and_exit(*c, id);
}

// ---- port forwarding ----------------------------------------------------------------------

// One HTTP/1.0 GET to 127.0.0.1:port; the whole response, or empty on failure/timeout.
std::string http_get(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /through-the-tunnel HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        response.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  return response;
}

TEST_F(EndToEnd, ForwardsALocalPortToTheBuiltInWebPage) {
  const json request = {{"Target", app::kDefaultPortInstance},
                        {"DocumentName", "AWS-StartPortForwardingSession"},
                        {"Parameters", {{"portNumber", {"80"}}, {"localPortNumber", {"0"}}}}};
  const auto response = start_session(request);
  const auto id = session_id_of(response);
  ASSERT_FALSE(id.empty()) << response;
  auto c = spawn_client(response, request, false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("\nStarting session with SessionId: " + id + "\n", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect("Port ", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect(" opened for sessionId " + id + ".", kWait)) << c->transcript();
  std::smatch m;
  const std::string out = c->out();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("Port ([0-9]+) opened for sessionId"))) << out;
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
  ASSERT_NE(port, 0);
  ASSERT_TRUE(c->expect("Waiting for connections...", kWait)) << c->transcript();

  // Two connections, one smux stream each; the plugin announces only the first.
  for (int i = 0; i < 2; ++i) {
    const auto page = http_get(port);
    EXPECT_NE(page.find("200 OK"), std::string::npos) << page;
    EXPECT_NE(page.find("Hello from ssm-harness"), std::string::npos) << page;
    EXPECT_NE(page.find("GET /through-the-tunnel"), std::string::npos) << page;
  }
  EXPECT_TRUE(c->expect("\nConnection accepted for session [" + id + "]\n", kWait)) << c->transcript();
  EXPECT_EQ(c->unconsumed().find("Connection accepted"), std::string_view::npos) << c->transcript();

  // Ctrl-C: the TerminateSession flag, then an immediate exit 0 (§10.4).
  c->send_signal(SIGINT);
  EXPECT_TRUE(c->expect("Exiting session with sessionId: " + id + ".", kWait)) << c->transcript();
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0)) << c->transcript();
}

// ---- ending and resuming from the service's side ------------------------------------------

TEST_F(EndToEnd, EndsWhenTheSessionIsTerminated) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  ASSERT_FALSE(id.empty()) << response;
  auto c = spawn_client(response, shell_request(), false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  auto r = call("TerminateSession", json{{"SessionId", id}});
  ASSERT_TRUE(r.ok()) << r.status << " " << r.body;
  // Either form the plugin prints for channel_closed (§9), then exit 0.
  ASSERT_TRUE(c->expect("\n\n", kWait)) << c->transcript();
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0)) << c->transcript();
  const std::string tail(c->out());
  EXPECT_TRUE(tail.find("\n\nExiting session with sessionId: " + id + ".\n\n") != std::string::npos ||
              tail.find("\n\nSessionId: " + id + " : ") != std::string::npos)
      << c->transcript();
}

TEST_F(EndToEnd, ResumesAfterTheServiceDropsTheConnection) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  ASSERT_FALSE(id.empty()) << response;
  auto c = spawn_client(response, shell_request(), false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  ASSERT_TRUE(c->write("echo before-$(echo 42)\n"));
  ASSERT_TRUE(c->expect("before-42", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect_stderr("connected to ", kWait)) << c->transcript();

  ASSERT_EQ(admin("POST", "/_mock/sessions/" + id + "/drop-client").first, 200);
  // Five failed reads, ResumeSession, a new connection to the same StreamUrl.
  ASSERT_TRUE(c->expect_stderr("resuming the session", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect_stderr("connected to ", kWait)) << c->transcript();
  auto resumed = audit_events("ResumeSession", id);
  ASSERT_EQ(resumed.size(), 1u) << c->transcript();
  EXPECT_FALSE(resumed[0].contains("errorCode") && resumed[0]["errorCode"].is_string() &&
               !resumed[0]["errorCode"].get<std::string>().empty())
      << resumed[0].dump();

  // Both directions continue their numbering: input after the resume is run, output arrives.
  ASSERT_TRUE(c->write("echo after-$(echo 42)\n"));
  ASSERT_TRUE(c->expect("after-42", kWait)) << c->transcript();
  ASSERT_TRUE(c->write("hostname\n"));
  ASSERT_TRUE(c->expect("ip-10-0-0-11", kWait)) << c->transcript();
  ASSERT_TRUE(c->write("exit\n"));
  ASSERT_TRUE(c->expect("\n\nExiting session with sessionId: " + id + ".\n\n", kWait)) << c->transcript();
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0)) << c->transcript();
}

TEST_F(EndToEnd, ForwardsCtrlCToTheShellAndDiesOnSigterm) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  auto c = spawn_client(response, shell_request(), false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  // A sleep longer than the wait below: only the forwarded ^C (0x03) brings the prompt back.
  ASSERT_TRUE(c->write("sleep 600\n"));
  ASSERT_TRUE(c->expect("sleep 600", kWait)) << c->transcript();
  c->send_signal(SIGINT);
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  ASSERT_TRUE(c->write("echo still-$(echo here)\n"));
  ASSERT_TRUE(c->expect("still-here", kWait)) << c->transcript();
  // SIGTERM is not the plugin's: it ends the process as the signal would, telling nobody.
  c->send_signal(SIGTERM);
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(128 + SIGTERM)) << c->transcript();
  EXPECT_TRUE(call("TerminateSession", json{{"SessionId", id}}).ok());
}

// ---- the library in-process, as the load generator uses it --------------------------------

TEST_F(EndToEnd, RunsAScriptedSessionInProcess) {
  const auto response = json::parse(start_session(shell_request()), nullptr, false);
  ASSERT_TRUE(response.is_object());
  const std::string id = response.value("SessionId", "");
  mocksvc::runtime::IoThreads io(1);
  io.start();
  std::promise<bool> found;
  std::promise<int> finished;
  std::unique_ptr<SessionRunner> runner;

  RunnerOptions o;
  o.session.session_id = id;
  o.session.token_value = response.value("TokenValue", "");
  o.session.stream_url = response.value("StreamUrl", "");
  o.session.target = app::kDefaultShellInstance;
  o.session.region = info().region;
  o.session.print_starting_line = false;
  o.ssm_endpoint = info().endpoint;
  o.credentials = endpoint(false).credentials;
  o.make_handler = [&](const mocksvc::client::SessionTypeInfo&) -> std::unique_ptr<mocksvc::client::SessionHandler> {
    mocksvc::client::ScriptedHandler::Options ho;
    ho.on_started = [&found](mocksvc::client::ScriptedHandler& h) {
      h.send("hostname\n");
      h.expect("ip-10-0-0-11", 10s, [&found, &h](bool ok) {
        found.set_value(ok);
        h.send("exit\n");
      });
    };
    return std::make_unique<mocksvc::client::ScriptedHandler>(runner->scheduler(), ho);
  };
  std::string printed;
  o.print = [&printed](std::string_view s) { printed.append(s); };
  o.on_finished = [&finished](int code) { finished.set_value(code); };
  runner = std::make_unique<SessionRunner>(asio::make_strand(io.executor()), std::move(o));
  runner->start();

  auto found_f = found.get_future();
  auto finished_f = finished.get_future();
  const bool found_ready = found_f.wait_for(kWait) == std::future_status::ready;
  const bool finished_ready = finished_f.wait_for(kWait) == std::future_status::ready;
  if (!finished_ready) runner->stop(1);
  io.stop();
  runner.reset();
  ASSERT_TRUE(found_ready);
  EXPECT_TRUE(found_f.get());
  ASSERT_TRUE(finished_ready);
  EXPECT_EQ(finished_f.get(), 0);
  EXPECT_NE(printed.find("Exiting session with sessionId: " + id), std::string::npos) << printed;
}

// ---- the argv contract --------------------------------------------------------------------

TEST_F(EndToEnd, PrintsItsVersionForTheAwsCli) {
  std::string error;
  auto c = ChildProcess::spawn({SSM_CLIENT_PATH, "--version"}, environment(false), &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0));
  EXPECT_EQ(c->out(), "1.2.677.0\n");
}

TEST_F(EndToEnd, EndsAtStdinEofLikeThePlugin) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  auto c = spawn_client(response, shell_request(), false);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->expect("$ ", kWait)) << c->transcript();
  c->close_stdin();
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0)) << c->transcript();
  // The session stays open on the service: nothing told it otherwise (§9).
  auto r = call("TerminateSession", json{{"SessionId", id}});
  EXPECT_TRUE(r.ok());
}

TEST_F(EndToEnd, KeepsTheSessionAfterStdinEofWhenAsked) {
  const auto response = start_session(shell_request());
  const auto id = session_id_of(response);
  auto c = spawn_client(response, shell_request(), false, {"SSM_CLIENT_KEEP_AFTER_EOF=1"});
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->write("echo piped-$(echo 42)\nexit\n"));
  c->close_stdin();
  ASSERT_TRUE(c->expect("piped-42", kWait)) << c->transcript();
  ASSERT_TRUE(c->expect("Exiting session with sessionId: " + id + ".", kWait)) << c->transcript();
  EXPECT_EQ(c->wait_exit(kWait), std::optional<int>(0)) << c->transcript();
}

// What the program prints for argument errors, without a service (§1.1).
struct ArgsCase {
  std::vector<std::string> args;
  int exit_code;
  std::string stdout_text;  // exact; or, when stderr_contains is set, empty
  std::string stderr_contains;
};

TEST(SsmClientArgs, AnswersBadArgumentsLikeThePlugin) {
  const std::string response = R"({"SessionId":"s-1","TokenValue":"t","StreamUrl":"ws://127.0.0.1:9/x"})";
  const std::vector<ArgsCase> cases = {
      {{}, 0, "\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n", ""},
      {{"bogus"}, 0, "\nUnknown operation bogus. \nUse session-manager-plugin --version to check the version.\n\n", ""},
      {{response, "us-east-1", "Bogus", "", R"({"Target":"i-1"})", "http://127.0.0.1:9"}, 0, "Invalid Operation", ""},
      {{"{not json", "us-east-1", "StartSession", "", R"({"Target":"i-1"})", "http://127.0.0.1:9"},
       0,
       "Cannot perform start session: the StartSession response is not valid JSON\n",
       ""},
      {{response, "us-east-1", "StartSession", "", R"({"Reason":"no target"})", "http://127.0.0.1:9"},
       2,
       "",
       "no string Target"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {SSM_CLIENT_PATH};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    std::string error;
    auto child = ChildProcess::spawn(argv, {"PATH=/usr/bin:/bin"}, &error);
    ASSERT_TRUE(child) << error;
    EXPECT_EQ(child->wait_exit(kWait), std::optional<int>(c.exit_code)) << child->transcript();
    EXPECT_EQ(child->out(), c.stdout_text);
    if (!c.stderr_contains.empty()) {
      EXPECT_NE(child->err().find(c.stderr_contains), std::string::npos) << child->err();
    }
  }
}

}  // namespace
}  // namespace ssmh::plugin
