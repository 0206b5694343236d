// Simulated agents against the whole in-process service (app::Service) over real sockets, TLS
// for the agents: CustomIdentity and activation registration, Online in
// DescribeInstanceInformation, shell, port and NonInteractiveCommands sessions started by a
// client (the plugin library's SessionRunner with a ScriptedHandler) and relayed by the broker,
// ConnectionLost and TargetNotConnected while an agent is away, its reconnect, and
// TerminateSession reaching the agent as channel_closed.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <future>

#include <nlohmann/json.hpp>

#include "agentsim/simulator.hpp"
#include "mocksvc/app/config.hpp"
#include "mocksvc/app/service.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/client/scripted.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "plugin/session_runner.hpp"
#include "plugin/ssm_call.hpp"

namespace ssmh::agentsim {
namespace {

namespace asio = boost::asio;
namespace client = mocksvc::client;
using namespace std::chrono_literals;
using json = nlohmann::json;
using tcp = asio::ip::tcp;

constexpr auto kWait = 20s;
constexpr const char* kAgent = "mi-0a9e00000000000a1";

// A TCP server that echoes what it reads, for port sessions (agent.md §6.5: the agent dials
// localhost:<portNumber>).
class EchoServer {
 public:
  explicit EchoServer(asio::any_io_executor ex) : acceptor_(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(ex, accept_loop(), asio::detached);
  }
  ~EchoServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), echo(std::move(socket)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(tcp::socket socket) {
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      const auto n = co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      co_await asio::async_write(socket, asio::buffer(buf, n), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }
  tcp::acceptor acceptor_;
};

// One client session driven by a script: `script` runs when the session's handler starts and
// reports through `done` (found/not found); `finished` gets the exit code.
struct ScriptedClient {
  std::promise<bool> done;
  std::promise<int> finished;
  std::unique_ptr<plugin::SessionRunner> runner;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* level = std::getenv("AGENTSIM_TEST_LOG")) mocksvc::base::set_log_level(level);
    dir_ = std::filesystem::temp_directory_path() / ("ssmh-agentsim-e2e-" + std::to_string(::getpid()));
    auto c = mocksvc::app::default_config();
    c.listen_host = "127.0.0.1";
    c.listen_port = 0;
    c.state_dir = dir_;
    c.threads = 2;
    c.log_level = std::getenv("AGENTSIM_TEST_LOG") ? std::getenv("AGENTSIM_TEST_LOG") : "warn";
    c.audit_log = "-";
    c.builtin_targets = false;
    service_ = std::make_unique<mocksvc::app::Service>(std::move(c));
    auto info = service_->start();
    ASSERT_TRUE(info) << info.error();
    info_ = *info;
    io_.start();
  }
  void TearDown() override {
    if (sim_) {
      EXPECT_TRUE(sim_->stop(5s));
    }
    if (service_) service_->stop();
    io_.stop();
    std::filesystem::remove_all(dir_);
  }

  SimConfig config() const {
    SimConfig c;
    c.endpoint = info_.endpoint_tls;  // the agents use TLS and the service's CA, like the real one
    c.ca_bundle = info_.ca_bundle;
    c.region = info_.region;
    c.identity.credentials = mocksvc::auth::Credentials{info_.access_key_id, info_.secret_access_key, ""};
    c.timing = Timing{}.scaled(0.01);
    c.timing.task_complete_resend = 500ms;
    c.timing.request_timeout = 10s;
    c.timing.websocket_handshake_timeout = 10s;
    c.seed = 5;
    return c;
  }

  void start(SimConfig c) {
    sim_ = std::make_unique<Simulator>(io_.executor(), std::move(c));
    SimEvents e;
    e.ready = [this](const std::vector<std::string>& ids) {
      std::lock_guard lock(mu_);
      ready_ids_ = ids;
      ready_ = true;
      cv_.notify_all();
    };
    e.failed = [this](const AgentStatus& s) {
      std::lock_guard lock(mu_);
      failure_ = s.last_error.empty() ? "failed" : s.last_error;
      cv_.notify_all();
    };
    e.session_ended = [this](const AgentStatus&, const std::string& id, const SessionResult& r) {
      std::lock_guard lock(mu_);
      ended_[id] = r.final_status;
      cv_.notify_all();
    };
    auto started = sim_->start(std::move(e));
    ASSERT_TRUE(started) << started.error();
  }

  bool wait_ready() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kWait, [&] { return ready_ || !failure_.empty(); });
    EXPECT_EQ(failure_, "");
    return ready_;
  }
  bool wait_ended(const std::string& id) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return ended_.count(id) > 0; });
  }

  plugin::SsmEndpoint endpoint() const {
    plugin::SsmEndpoint e;
    e.url = info_.endpoint;
    e.region = info_.region;
    e.credentials = [k = info_.access_key_id, s = info_.secret_access_key]() {
      return std::optional<mocksvc::auth::Credentials>(mocksvc::auth::Credentials{k, s, ""});
    };
    e.timeout = 10s;
    return e;
  }

  plugin::SsmResult call(const std::string& op, const json& body) {
    auto f = asio::co_spawn(io_.executor(), plugin::call_ssm(io_.executor(), endpoint(), op, body.dump()),
                            asio::use_future);
    if (f.wait_for(kWait) != std::future_status::ready) return plugin::SsmResult{0, "", "timed out", 0};
    return f.get();
  }

  std::string ping_status(const std::string& id) {
    auto r = call("DescribeInstanceInformation",
                  json{{"InstanceInformationFilterList", json::array({json{{"key", "InstanceIds"}, {"valueSet", {id}}}})}});
    auto j = json::parse(r.body, nullptr, false);
    if (!r.ok() || !j.contains("InstanceInformationList") || j["InstanceInformationList"].empty()) return "";
    return j["InstanceInformationList"][0].value("PingStatus", "");
  }

  // Polls the record the control channel's open and loss are written to.
  bool wait_ping(const std::string& id, const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ping_status(id) == want) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  bool wait_history(const std::string& sid) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = service_->backend().find_session(sid);
      if (s && !mocksvc::backend::is_active(s->status)) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  // StartSession, then a SessionRunner whose ScriptedHandler runs `script`.
  std::string run_client(ScriptedClient& sc, const json& request,
                         std::function<void(client::ScriptedHandler&, std::promise<bool>&)> script,
                         bool send_size = true) {
    auto r = call("StartSession", request);
    EXPECT_TRUE(r.ok()) << r.status << " " << r.body;
    auto response = json::parse(r.body, nullptr, false);
    if (!r.ok() || !response.is_object()) return "";
    plugin::RunnerOptions o;
    o.session.session_id = response.value("SessionId", "");
    o.session.token_value = response.value("TokenValue", "");
    o.session.stream_url = response.value("StreamUrl", "");
    o.session.target = request.value("Target", "");
    o.session.region = info_.region;
    o.session.print_starting_line = false;
    o.ssm_endpoint = info_.endpoint;
    o.credentials = endpoint().credentials;
    o.make_handler = [&sc, script, send_size](const client::SessionTypeInfo&) -> std::unique_ptr<client::SessionHandler> {
      client::ScriptedHandler::Options ho;
      ho.send_size = send_size;
      ho.on_started = [&sc, script](client::ScriptedHandler& h) { script(h, sc.done); };
      return std::make_unique<client::ScriptedHandler>(sc.runner->scheduler(), ho);
    };
    o.on_finished = [&sc](int code) { sc.finished.set_value(code); };
    sc.runner = std::make_unique<plugin::SessionRunner>(asio::make_strand(io_.executor()), std::move(o));
    sc.runner->start();
    return response.value("SessionId", "");
  }

  // Waits for the script's verdict and the client's end; stops a client that did not end.
  void finish_client(ScriptedClient& sc, bool expect_found = true) {
    auto done = sc.done.get_future();
    auto finished = sc.finished.get_future();
    const bool done_ready = done.wait_for(kWait) == std::future_status::ready;
    const bool finished_ready = finished.wait_for(kWait) == std::future_status::ready;
    if (!finished_ready) sc.runner->stop(1);
    ASSERT_TRUE(done_ready);
    EXPECT_EQ(done.get(), expect_found);
    ASSERT_TRUE(finished_ready);
    EXPECT_EQ(finished.get(), 0);
  }

  std::filesystem::path dir_;
  std::unique_ptr<mocksvc::app::Service> service_;
  mocksvc::app::ServiceInfo info_;
  mocksvc::runtime::IoThreads io_{2};
  std::unique_ptr<Simulator> sim_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
  std::vector<std::string> ready_ids_;
  std::string failure_;
  std::map<std::string, std::string> ended_;
};

// Sends `input`, waits for `needle`, then sends `after` (e.g. "exit\n").
auto send_expect(std::string input, std::string needle, std::string after = "") {
  return [input, needle, after](client::ScriptedHandler& h, std::promise<bool>& done) {
    h.send(input);
    h.expect(needle, 15s, [&h, &done, after](bool found) {
      done.set_value(found);
      if (!after.empty()) h.send(after);
    });
  };
}

TEST_F(ServiceTest, CustomIdentityAgentIsOnlineAndServesAShell) {
  auto c = config();
  c.identity.instance_ids = {kAgent};
  start(c);
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_ping(kAgent, "Online"));
  auto info = call("DescribeInstanceInformation",
                   json{{"InstanceInformationFilterList", json::array({json{{"key", "InstanceIds"}, {"valueSet", {kAgent}}}})}});
  auto j = json::parse(info.body, nullptr, false);
  ASSERT_TRUE(info.ok()) << info.body;
  EXPECT_EQ(j["InstanceInformationList"][0].value("AgentVersion", ""), "3.3.987.0");

  ScriptedClient sc;
  const std::string sid =
      run_client(sc, json{{"Target", kAgent}}, send_expect("echo hello-from-''e2e\n", "hello-from-e2e", "exit\n"));
  ASSERT_FALSE(sid.empty());
  finish_client(sc);
  ASSERT_TRUE(wait_ended(sid));
  EXPECT_EQ(ended_[sid], "Success");
  ASSERT_TRUE(wait_history(sid));
  auto s = service_->backend().find_session(sid);
  ASSERT_TRUE(s);
  EXPECT_EQ(mocksvc::backend::to_string(s->status), "Terminated");
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (sim_->agent(kAgent)->task_completes_acked < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(sim_->agent(kAgent)->task_completes_acked, 1u);
}

TEST_F(ServiceTest, ActivationRegistersAnAgentThatRunsCommands) {
  auto act = call("CreateActivation", json{{"IamRole", "SSMServiceRole"}, {"RegistrationLimit", 2}});
  ASSERT_TRUE(act.ok()) << act.body;
  auto a = json::parse(act.body);
  auto c = config();
  c.identity.credentials.reset();
  c.identity.activation = Activation{a.value("ActivationCode", ""), a.value("ActivationId", "")};
  c.identity.count = 2;
  start(c);
  ASSERT_TRUE(wait_ready());
  ASSERT_EQ(ready_ids_.size(), 2u);
  for (const auto& id : ready_ids_) {
    EXPECT_EQ(id.rfind("mi-", 0), 0u) << id;
    ASSERT_TRUE(wait_ping(id, "Online")) << id;
  }

  ScriptedClient sc;
  const std::string sid = run_client(
      sc,
      json{{"Target", ready_ids_[1]},
           {"DocumentName", "AWS-StartNonInteractiveCommand"},
           {"Parameters", {{"command", {"echo non-interactive-''42"}}}}},
      [](client::ScriptedHandler& h, std::promise<bool>& done) {
        h.expect("non-interactive-42", 15s, [&done](bool found) { done.set_value(found); });
      });
  ASSERT_FALSE(sid.empty());
  finish_client(sc);
  ASSERT_TRUE(wait_ended(sid));
  EXPECT_EQ(ended_[sid], "Success");
  auto status = sim_->agent(ready_ids_[1]);
  ASSERT_TRUE(status);
  EXPECT_GE(status->credential_refreshes, 1u);
}

TEST_F(ServiceTest, PortSessionReachesALocalServer) {
  EchoServer echo(io_.executor());
  auto c = config();
  c.identity.instance_ids = {kAgent};
  start(c);
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_ping(kAgent, "Online"));
  ScriptedClient sc;
  // AWS-StartSSHSession's properties have no type: basic mode, raw bytes both ways (§6.5).
  const std::string sid = run_client(
      sc,
      json{{"Target", kAgent},
           {"DocumentName", "AWS-StartSSHSession"},
           {"Parameters", {{"portNumber", {std::to_string(echo.port())}}}}},
      [this](client::ScriptedHandler& h, std::promise<bool>& done) {
        h.send("ping-through-the-port\n");
        h.expect("ping-through-the-port\n", 15s, [this, &h, &done](bool found) {
          done.set_value(found);
          h.context()->terminate_session();
        });
      },
      false);
  ASSERT_FALSE(sid.empty());
  finish_client(sc);
  ASSERT_TRUE(wait_ended(sid));
  ASSERT_TRUE(wait_history(sid));
}

TEST_F(ServiceTest, AnAbsentAgentIsConnectionLostUntilItReconnects) {
  auto c = config();
  c.identity.instance_ids = {kAgent};
  start(c);
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_ping(kAgent, "Online"));

  ASSERT_TRUE(sim_->set_offline(kAgent, true));
  ASSERT_TRUE(wait_ping(kAgent, "ConnectionLost"));
  auto refused = call("StartSession", json{{"Target", kAgent}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.error, "TargetNotConnected") << refused.body;

  ASSERT_TRUE(sim_->set_offline(kAgent, false));
  ASSERT_TRUE(wait_ping(kAgent, "Online"));

  // A dropped socket (no close frame) is noticed by the service and repaired by the agent's
  // reconnect loop on its own.
  const auto opens = sim_->agent(kAgent)->control_channel_opens;
  ASSERT_TRUE(sim_->drop_control_channel(kAgent));
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (sim_->agent(kAgent)->control_channel_opens == opens && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_GT(sim_->agent(kAgent)->control_channel_opens, opens);
  EXPECT_TRUE(wait_ping(kAgent, "Online"));
}

TEST_F(ServiceTest, TerminateSessionReachesTheAgent) {
  auto c = config();
  c.identity.instance_ids = {kAgent};
  start(c);
  ASSERT_TRUE(wait_ready());
  ASSERT_TRUE(wait_ping(kAgent, "Online"));
  ScriptedClient sc;
  const std::string sid = run_client(sc, json{{"Target", kAgent}}, send_expect("echo before-terminate\n", "before-terminate"));
  ASSERT_FALSE(sid.empty());
  {
    auto done = sc.done.get_future();
    ASSERT_EQ(done.wait_for(kWait), std::future_status::ready);
    ASSERT_TRUE(done.get());
  }
  auto t = call("TerminateSession", json{{"SessionId", sid}});
  ASSERT_TRUE(t.ok()) << t.body;
  // channel_closed on the control channel ends the agent's session with Success (agent.md §5.2).
  ASSERT_TRUE(wait_ended(sid));
  EXPECT_EQ(ended_[sid], "Success");
  auto finished = sc.finished.get_future();
  ASSERT_EQ(finished.wait_for(kWait), std::future_status::ready);
  ASSERT_TRUE(wait_history(sid));
}

}  // namespace
}  // namespace ssmh::agentsim
