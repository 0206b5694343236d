#include "mocksvc/app/service.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "mocksvc/api/aws_json.hpp"
#include "mocksvc/api/service.hpp"
#include "mocksvc/app/builtin_targets.hpp"
#include "mocksvc/app/faults.hpp"
#include "mocksvc/app/virtual_agents.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/broker/control_channel.hpp"
#include "mocksvc/broker/real_agent_launcher.hpp"
#include "mocksvc/fault/injector.hpp"
#include "mocksvc/fault/scenario.hpp"
#include "mocksvc/net/server.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace mocksvc::app {

using base::LogLevel;
namespace fs = std::filesystem;

std::string ServiceInfo::ready_json() const {
  nlohmann::ordered_json j;
  j["event"] = "ready";
  j["endpoint"] = endpoint;
  j["endpoint_tls"] = endpoint_tls;
  j["ca_bundle"] = ca_bundle;
  j["region"] = region;
  j["access_key_id"] = access_key_id;
  j["secret_access_key"] = secret_access_key;
  j["instance_ids"] = instance_ids;
  j["admin"] = endpoint + "/_mock/";
  j["state_dir"] = state_dir;
  return j.dump();
}

struct Service::Impl final : api::AdminHooks {
  ServiceConfig config;
  ServiceInfo info;
  // Declared first, reset first in ~Impl: abandoned handlers may still refer to the objects
  // below, so the I/O context goes before them.
  std::unique_ptr<runtime::IoThreads> io;
  std::unique_ptr<backend::Backend> backend;
  std::unique_ptr<broker::Broker> broker;
  std::unique_ptr<VirtualAgents> agents;
  std::unique_ptr<broker::ControlChannels> control_channels;  // real agents
  std::unique_ptr<broker::RealAgentLauncher> real_agents;
  std::unique_ptr<fault::Injector> injector;
  std::unique_ptr<FaultControl> fault_control;
  std::unique_ptr<ApiFaultsAdapter> api_faults;
  std::optional<fault::Scenario> pending_scenario;  // set before start()
  std::unique_ptr<api::Service> api;
  std::unique_ptr<net::Server> server;
  std::unique_ptr<BuiltinTargets> targets;
  std::mutex audit_mu;
  std::ofstream audit;
  bool started = false;
  bool stopped = false;

  ~Impl() override {
    if (io) io->stop();
    io.reset();
  }

  bool drop_client(const std::string& session_id) override { return broker && broker->drop_client(session_id); }
  std::string stats() override {
    if (!broker) return "{}";
    auto j = nlohmann::ordered_json::parse(broker->stats_json(), nullptr, false);
    if (control_channels && j.is_object()) {
      auto c = control_channels->stats();
      nlohmann::ordered_json cc;
      cc["connected"] = c.connected;
      cc["opened"] = c.opened;
      cc["refused"] = c.refused;
      cc["replaced"] = c.replaced;
      cc["closed"] = c.closed;
      cc["frames"] = c.frames;
      cc["bad_frames"] = c.bad_frames;
      cc["ignored_frames"] = c.ignored_frames;
      cc["tasks_completed"] = c.tasks_completed;
      j["control_channels"] = std::move(cc);
    }
    return j.dump();
  }

  backend::Result<std::string> scenario() override {
    auto s = injector ? injector->scenario() : nullptr;
    if (!s) return backend::AwsError::admin_not_found("no scenario is active");
    return fault::to_json(*s);
  }
  backend::Result<std::string> set_scenario(std::string_view json) override {
    if (!injector) return backend::AwsError::admin_not_found("the service is not running");
    auto s = fault::parse_scenario(json, "scenario");
    if (!s) return backend::AwsError::admin_bad_request("invalid_scenario", s.error().to_string());
    std::string out = fault::to_json(*s);
    injector->activate(std::move(*s));
    return out;
  }
  bool clear_scenario() override {
    if (!injector || !injector->scenario()) return false;
    injector->clear();
    return true;
  }
  void on_reset() override {
    if (injector) injector->reset();
  }
  std::string fault_stats() override { return injector ? injector->stats_json() : "null"; }
  std::string metrics() override {
    std::string out;
    if (broker) {
      // The relay's totals, from the same counters as /_mock/stats.
      auto j = nlohmann::json::parse(broker->stats_json(), nullptr, /*allow_exceptions=*/false);
      if (j.is_object() && j.contains("totals")) {
        const auto& t = j["totals"];
        auto get = [&](const char* k) { return t.value(k, std::uint64_t{0}); };
        out += "# HELP mocksvc_relay_frames_total Frames relayed between clients and agents, by direction.\n";
        out += "# TYPE mocksvc_relay_frames_total counter\n";
        out += "mocksvc_relay_frames_total{direction=\"client_to_agent\"} " +
               std::to_string(get("frames_client_to_agent")) + "\n";
        out += "mocksvc_relay_frames_total{direction=\"agent_to_client\"} " +
               std::to_string(get("frames_agent_to_client")) + "\n";
        out += "# HELP mocksvc_relay_bytes_total Bytes relayed between clients and agents, by direction.\n";
        out += "# TYPE mocksvc_relay_bytes_total counter\n";
        out += "mocksvc_relay_bytes_total{direction=\"client_to_agent\"} " +
               std::to_string(get("bytes_client_to_agent")) + "\n";
        out += "mocksvc_relay_bytes_total{direction=\"agent_to_client\"} " +
               std::to_string(get("bytes_agent_to_client")) + "\n";
      }
    }
    if (injector) out += injector->metrics_text();
    return out;
  }

  api::HttpResponse transport_error(int status, std::string_view why) const {
    std::string code = status == 413 ? "RequestEntityTooLargeException" : "SerializationException";
    return api::aws_json_error(backend::AwsError(code, "The request could not be read: " + std::string(why), status),
                               base::random_uuid_string());
  }

  net::UpgradeDecision route_upgrade(const auth::HttpRequest& req, const api::RequestContext&) {
    net::UpgradeDecision d;
    constexpr std::string_view kDataChannel = "/v1/data-channel/";
    std::string_view path = req.path();
    // A real agent's control channel: SigV4 on the upgrade (agent.md §2.2), then the registry.
    if (auto instance_id = api::channel_id(path, api::kControlChannelPath)) {
      if (auto refused = api->messages().check_control_channel_upgrade(req)) {
        d.reject = std::move(*refused);
        return d;
      }
      d.bind = [c = control_channels.get(), id = *instance_id](std::shared_ptr<broker::Peer> conn) {
        return c->bind(id, std::move(conn));
      };
      return d;
    }
    if (path.substr(0, kDataChannel.size()) == kDataChannel && path.size() > kDataChannel.size()) {
      std::string session_id(path.substr(kDataChannel.size()));
      d.bind = [b = broker.get(), session_id](std::shared_ptr<broker::Peer> conn) {
        return b->bind_data_channel(session_id, std::move(conn));
      };
      return d;
    }
    d.reject = api::aws_json_error(
        backend::AwsError("NotFoundException", "No WebSocket endpoint at " + std::string(path), 404),
        base::random_uuid_string());
    return d;
  }
};

Service::Service(ServiceConfig config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

Service::~Service() { stop(); }

const ServiceInfo& Service::info() const { return impl_->info; }
const ServiceConfig& Service::config() const { return impl_->config; }
backend::Backend& Service::backend() { return *impl_->backend; }
broker::Broker& Service::broker() { return *impl_->broker; }

boost::system::result<ServiceInfo, std::string> Service::start() {
  using R = boost::system::result<ServiceInfo, std::string>;
  auto fail = [](std::string why) { return R(boost::system::in_place_error, std::move(why)); };
  Impl& d = *impl_;
  if (d.started) return d.info;
  auto& cfg = d.config;
  if (!base::set_log_level(cfg.log_level)) return fail("unknown log level '" + cfg.log_level + "'");

  std::error_code ec;
  fs::create_directories(cfg.state_dir, ec);
  if (ec) return fail("cannot create state directory " + cfg.state_dir.string() + ": " + ec.message());

  std::optional<net::TlsFiles> tls;
  if (cfg.tls) {
    if (!cfg.tls_cert.empty() || !cfg.tls_key.empty()) {
      if (cfg.tls_cert.empty() || cfg.tls_key.empty()) return fail("--cert and --key go together");
      tls = net::TlsFiles{"", cfg.tls_cert, cfg.tls_key};
    } else {
      auto made = net::ensure_local_ca(cfg.state_dir / "tls", cfg.tls_names);
      if (!made) return fail(made.error());
      tls = *made;
    }
  }

  d.io = std::make_unique<runtime::IoThreads>(cfg.threads);
  auto ex = d.io->executor();

  if (cfg.builtin_targets) {
    d.targets = std::make_unique<BuiltinTargets>(ex);
    if (auto r = d.targets->start(); !r) return fail(r.error());
    auto host_port = [](const std::string& a) { return a; };
    for (auto& inst : cfg.backend.instances) {
      if (inst.kind != backend::InstanceKind::virtual_instance || !inst.virtual_options.port_targets.empty()) continue;
      inst.virtual_options.port_targets[80] = host_port(d.targets->http_address());
      inst.virtual_options.port_targets[7] = host_port(d.targets->echo_address());
    }
    d.info.builtin_http = d.targets->http_address();
    d.info.builtin_echo = d.targets->echo_address();
  }

  if (auto v = backend::validate_config(cfg.backend); !v) return fail("configuration: " + v.error().message);
  d.backend = std::make_unique<backend::Backend>(cfg.backend);

  broker::BrokerOptions bo;
  bo.session_logging = cfg.session_logging;
  if (cfg.session_logging) {
    auto dir = cfg.state_dir / "sessions";
    fs::create_directories(dir, ec);
    bo.transcript_sink = [dir](const std::string& session_id, const std::string& transcript) {
      std::ofstream out(dir / (session_id + ".jsonl"), std::ios::trunc);
      out << transcript;
    };
  }
  d.broker = std::make_unique<broker::Broker>(ex, *d.backend, bo);
  d.backend->set_observer(d.broker.get());
  d.agents = std::make_unique<VirtualAgents>(ex, *d.backend);
  d.broker->set_agent_launcher(d.agents.get());
  d.control_channels = std::make_unique<broker::ControlChannels>(*d.backend);
  d.real_agents = std::make_unique<broker::RealAgentLauncher>(*d.control_channels, *d.backend);
  d.agents->set_agent_launcher(d.real_agents.get());
  d.broker->set_agent_token_check(d.real_agents->token_check());
  d.injector = std::make_unique<fault::Injector>(ex);
  d.fault_control = std::make_unique<FaultControl>(*d.backend, *d.broker);
  // agent_disconnect on a real agent cuts its control channel the way a network failure does:
  // no close frame; the agent notices and reconnects with its own backoff (agent.md §2.6).
  d.fault_control->set_real_agent_hooks({[c = d.control_channels.get()](const std::string& id) {
    return c->close(id, {broker::CloseSpec::Kind::abrupt, 1006, ""});
  }});
  d.injector->set_service_control(d.fault_control.get());
  d.injector->set_pipeline_installer([b = d.broker.get()](broker::StageFactory f) { b->set_stage_factory(std::move(f)); });
  if (d.pending_scenario) {
    d.injector->activate(std::move(*d.pending_scenario));
    d.pending_scenario.reset();
  }
  d.api_faults = std::make_unique<ApiFaultsAdapter>(*d.injector);
  api::SsmApiOptions api_options;
  api_options.faults = d.api_faults.get();
  d.api = std::make_unique<api::Service>(*d.backend, d, api_options);

  if (cfg.audit_log != "-") {
    fs::path audit_path = cfg.audit_log.empty() ? cfg.state_dir / "audit.jsonl" : fs::path(cfg.audit_log);
    d.audit.open(audit_path, std::ios::app);
    if (!d.audit) return fail("cannot open audit log " + audit_path.string());
    d.backend->set_audit_sink([&d](std::string_view line) {
      std::lock_guard lock(d.audit_mu);
      d.audit << line << '\n';
      d.audit.flush();
    });
  }

  net::ServerOptions so;
  so.host = cfg.listen_host;
  so.port = cfg.listen_port;
  so.tls = tls;
  net::ServerHandlers h;
  h.handle = [&d](const auth::HttpRequest& req, const api::RequestContext& ctx) { return d.api->handle(req, ctx); };
  h.transport_error = [&d](int status, std::string_view why) { return d.transport_error(status, why); };
  h.upgrade = [&d](const auth::HttpRequest& req, const api::RequestContext& ctx) { return d.route_upgrade(req, ctx); };
  d.server = std::make_unique<net::Server>(ex, so, h);
  if (auto r = d.server->start(); !r) return fail(r.error());
  d.io->start();
  d.started = true;

  const auto port = d.server->local_endpoint().port();
  const std::string host = cfg.listen_host == "0.0.0.0" || cfg.listen_host == "::" ? "127.0.0.1"
                           : cfg.listen_host.find(':') != std::string::npos ? "[" + cfg.listen_host + "]"
                                                                             : cfg.listen_host;
  d.info.port = port;
  d.info.endpoint = "http://" + host + ":" + std::to_string(port);
  if (tls) {
    d.info.endpoint_tls = "https://" + host + ":" + std::to_string(port);
    d.info.ca_bundle = fs::absolute(tls->ca_bundle).string();
    if (tls->ca_bundle.empty()) d.info.ca_bundle.clear();
  }
  d.info.region = cfg.backend.default_region;
  if (!cfg.backend.accounts.empty()) {
    d.info.access_key_id = cfg.backend.accounts.front().access_key_id;
    d.info.secret_access_key = cfg.backend.accounts.front().secret_access_key;
  }
  for (const auto& i : d.backend->list_instances()) d.info.instance_ids.push_back(i.spec.instance_id);
  d.info.state_dir = fs::absolute(cfg.state_dir).string();
  base::log(LogLevel::info, "app", "listening on ", d.info.endpoint, tls ? " (and TLS on the same port)" : "");
  return d.info;
}

void Service::stop() {
  Impl& d = *impl_;
  if (!d.started || d.stopped) return;
  d.stopped = true;
  if (d.injector) d.injector->stop();
  if (d.broker) d.broker->shutdown();
  if (d.server) d.server->stop();
  if (d.targets) d.targets->stop();
  if (d.io) d.io->stop();
  if (d.backend) {
    d.backend->set_observer(nullptr);
    d.backend->set_audit_sink(nullptr);
  }
}

void Service::set_scenario(fault::Scenario scenario) {
  Impl& d = *impl_;
  if (d.injector) {
    d.injector->activate(std::move(scenario));
  } else {
    d.pending_scenario = std::move(scenario);
  }
}

boost::system::result<void, std::string> Service::load_scenario(const std::filesystem::path& file) {
  auto s = fault::load_scenario_file(file);
  if (!s) return boost::system::result<void, std::string>(boost::system::in_place_error, s.error().to_string());
  set_scenario(std::move(*s));
  return {};
}

void Service::clear_scenario() {
  Impl& d = *impl_;
  d.pending_scenario.reset();
  if (d.injector) d.injector->clear();
}

fault::Injector& Service::faults() { return *impl_->injector; }
FaultControl& Service::fault_control() { return *impl_->fault_control; }

}  // namespace mocksvc::app
