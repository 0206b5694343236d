#include "agentsim/sim_agent.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agentsim/control_messages.hpp"
#include "agentsim/ssm_bodies.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/net/ws_client.hpp"

namespace ssmh::agentsim {

namespace asio = boost::asio;
namespace broker = mocksvc::broker;
namespace wire = mocksvc::wire;
using mocksvc::base::LogLevel;
using mocksvc::base::log;

namespace {

constexpr std::string_view kLog = "agentsim";
// The control-channel error text that makes the real agent fall back to ec2messages (§1).
constexpr std::string_view kAccessDenied = "<AccessDeniedException>";
// Registration is retried this often on TooManyUpdates or a transport failure (§9.2).
constexpr int kRegisterRetries = 5;
// The shortest wait between two role-token refreshes, whatever the token's lifetime says.
constexpr std::chrono::seconds kMinRefreshWait{1};

std::chrono::milliseconds to_millis(std::chrono::system_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

}  // namespace

std::shared_ptr<SimAgent> SimAgent::create(asio::any_io_executor executor, std::shared_ptr<const Fleet> fleet,
                                           std::size_t index, std::string instance_id, Hooks hooks) {
  return std::shared_ptr<SimAgent>(
      new SimAgent(executor, std::move(fleet), index, std::move(instance_id), std::move(hooks)));
}

SimAgent::SimAgent(asio::any_io_executor executor, std::shared_ptr<const Fleet> fleet, std::size_t index,
                   std::string instance_id, Hooks hooks)
    : strand_(asio::make_strand(executor)),
      fleet_(std::move(fleet)),
      timing_(*fleet_->timing),
      index_(index),
      hooks_(std::move(hooks)),
      control_timer_(strand_),
      health_timer_(strand_),
      report_timer_(strand_),
      associations_timer_(strand_),
      mds_timer_(strand_),
      credentials_timer_(strand_) {
  std::seed_seq seq{fleet_->config.seed, static_cast<std::uint64_t>(index)};
  rng_.seed(seq);
  const auto& config = fleet_->config;
  if (config.identity.credentials) credentials_->set(*config.identity.credentials);
  host_.instance_id = instance_id;
  host_.agent_version = config.agent_version;
  const auto a = 1 + (index / 250) % 250;
  const auto b = 1 + index % 250;
  host_.computer_name = "ip-10-0-" + std::to_string(a) + "-" + std::to_string(b);
  host_.ip_address = "10.0." + std::to_string(a) + "." + std::to_string(b);
  status_.index = index;
  status_.instance_id = std::move(instance_id);
}

SimAgent::~SimAgent() = default;

template <typename Fn>
void SimAgent::update(Fn fn) {
  std::lock_guard lock(status_mu_);
  fn(status_);
}

AgentStatus SimAgent::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

template <typename Coroutine>
void SimAgent::spawn(Coroutine coroutine) {
  ++live_coroutines_;
  auto self = shared_from_this();
  asio::co_spawn(strand_, [self, coroutine = std::move(coroutine)]() { return coroutine(*self); },
                 asio::bind_executor(strand_, [self](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       log(LogLevel::error, kLog, self->host_.instance_id, ": ", ex.what());
                     } catch (...) {
                       log(LogLevel::error, kLog, self->host_.instance_id, ": unknown exception");
                     }
                   }
                   self->coroutine_ended();
                 }));
}

void SimAgent::coroutine_ended() {
  --live_coroutines_;
  if (stopping_ && live_coroutines_ == 0 && !wound_down_) {
    wound_down_ = true;
    if (hooks_.wound_down) hooks_.wound_down(status());
  }
}

void SimAgent::start() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopping_) return;
    self->spawn([](SimAgent& a) { return a.run(); });
  });
}

void SimAgent::stop() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopping_) return;
    self->stopping_ = true;
    for (auto* t : {&self->control_timer_, &self->health_timer_, &self->report_timer_, &self->associations_timer_,
                    &self->mds_timer_, &self->credentials_timer_})
      t->cancel();
    for (auto& [id, pending] : self->pending_completes_)
      if (pending.timer) pending.timer->cancel();
    self->pending_completes_.clear();
    self->close_control_channel();
    for (auto& [id, session] : self->sessions_) session->shutdown();
    self->sessions_.clear();
    self->update([](AgentStatus& s) { s.sessions_active = 0; });
    if (self->live_coroutines_ == 0 && !self->wound_down_) {
      self->wound_down_ = true;
      if (self->hooks_.wound_down) self->hooks_.wound_down(self->status());
    }
  });
}

void SimAgent::set_offline(bool offline) {
  asio::post(strand_, [self = shared_from_this(), offline] {
    if (self->stopping_ || self->offline_ == offline) return;
    self->offline_ = offline;
    self->update([offline](AgentStatus& s) { s.offline = offline; });
    if (offline) self->close_control_channel();
    self->control_timer_.cancel();
  });
}

void SimAgent::drop_control_channel() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->control_ && self->control_->peer)
      self->control_->peer->close(abrupt_close());
  });
}

void SimAgent::drop_data_channel(const std::string& session_id) {
  asio::post(strand_, [self = shared_from_this(), session_id] {
    if (auto it = self->sessions_.find(session_id); it != self->sessions_.end()) it->second->drop_connection();
  });
}

asio::awaitable<bool> SimAgent::sleep(asio::steady_timer& timer, std::chrono::milliseconds d) {
  if (stopping_) co_return false;
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !stopping_;
}

mocksvc::agent::InstanceProfile SimAgent::profile() const {
  const auto& config = fleet_->config;
  mocksvc::agent::InstanceProfile p;
  p.instance_id = host_.instance_id;
  p.agent_version = config.agent_version;
  p.hostname = host_.computer_name;
  p.user = config.user;
  p.shell = config.shell;
  p.port_targets = config.port_targets;
  return p;
}

// ---- identity ------------------------------------------------------------------------------

asio::awaitable<void> SimAgent::run() {
  if (stopping_) co_return;
  if (host_.instance_id.empty()) {
    const bool registered = co_await register_instance();
    if (!registered) {
      if (stopping_) co_return;
      update([](AgentStatus& s) { s.failed = true; });
      if (hooks_.failed) hooks_.failed(status());
      co_return;
    }
  }
  if (key_) {
    Retryer retry(timing_.credential_retry, rng_);
    for (;;) {
      const bool fetched = co_await fetch_role_token();
      if (fetched) break;
      const auto wait = *retry.next();
      const bool alive = co_await sleep(credentials_timer_, wait);
      if (!alive) co_return;
    }
    spawn([](SimAgent& a) { return a.keep_credentials(); });
  }
  // The health "ping" then the full report, before anything else (agent.md §7).
  {
    std::string operation = "UpdateInstanceInformation";
    std::string body = minimal_instance_information(host_);
    auto r = co_await call_ssm(std::move(operation), std::move(body));
    if (r.ok()) update([](AgentStatus& s) { ++s.health_reports; });
  }
  {
    std::string channel;
    co_await health_report(std::move(channel));
  }
  if (stopping_) co_return;
  spawn([](SimAgent& a) { return a.send_health_reports(); });
  if (timing_.associations.count() > 0) spawn([](SimAgent& a) { return a.poll_associations(); });
  if (timing_.mds_poll) spawn([](SimAgent& a) { return a.poll_mds(); });
  co_await keep_control_channel();
}

asio::awaitable<bool> SimAgent::register_instance() {
  const auto& activation = *fleet_->config.identity.activation;
  auto key = RsaKey::generate();
  if (!key) {
    update([&](AgentStatus& s) { s.last_error = key.error(); });
    co_return false;
  }
  fingerprint_ = mocksvc::base::random_uuid_string();
  const std::string public_key = key->public_key_base64();
  if (auto valid = validate_registration(activation, public_key); !valid) {
    update([&](AgentStatus& s) { s.last_error = valid.error(); });
    co_return false;
  }
  Retryer retry(timing_.credential_retry, rng_);
  for (int attempt = 0;; ++attempt) {
    std::string target = "AmazonSSM.RegisterManagedInstance";
    std::string body = register_managed_instance(activation, public_key, fingerprint_);
    Signer unsigned_request;
    auto r = co_await call_json(*fleet_->endpoint, std::move(target), std::move(body), std::move(unsigned_request));
    if (stopping_) co_return false;
    if (r.ok()) {
      auto id = parse_register_response(r.body);
      if (!id) {
        update([&](AgentStatus& s) { s.last_error = id.error(); });
        co_return false;
      }
      host_.instance_id = *id;
      key_ = std::make_shared<const RsaKey>(std::move(*key));
      update([&](AgentStatus& s) { s.instance_id = *id; });
      log(LogLevel::info, kLog, "agent ", index_, " registered as ", *id);
      co_return true;
    }
    const std::string why = "RegisterManagedInstance failed: " + r.error + (r.body.empty() ? "" : " " + r.body);
    update([&](AgentStatus& s) {
      ++s.api_failures;
      s.last_error = why;
    });
    const bool retryable = r.status == 0 || r.error == "TooManyUpdates";
    if (!retryable || attempt >= kRegisterRetries) {
      log(LogLevel::error, kLog, "agent ", index_, ": ", why);
      co_return false;
    }
    const auto wait = *retry.next();
    const bool alive = co_await sleep(credentials_timer_, wait);
    if (!alive) co_return false;
  }
}

asio::awaitable<bool> SimAgent::fetch_role_token() {
  std::string target = "AmazonSSM.RequestManagedInstanceRoleToken";
  std::string body = request_role_token(fingerprint_);
  Signer sign = rsa_signer(key_, host_.instance_id, fleet_->config.region);
  auto r = co_await call_json(*fleet_->endpoint, std::move(target), std::move(body), std::move(sign));
  if (stopping_) co_return false;
  if (!r.ok()) {
    const std::string why = "RequestManagedInstanceRoleToken failed: " + r.error;
    log(LogLevel::warn, kLog, host_.instance_id, ": ", why);
    update([&](AgentStatus& s) {
      ++s.api_failures;
      s.last_error = why;
    });
    co_return false;
  }
  auto token = parse_role_token(r.body);
  if (!token) {
    log(LogLevel::warn, kLog, host_.instance_id, ": ", token.error());
    update([&](AgentStatus& s) { s.last_error = token.error(); });
    co_return false;
  }
  credentials_->set(token->credentials);
  credentials_expire_ = token->expires;
  update([](AgentStatus& s) { ++s.credential_refreshes; });
  if (token->update_key_pair) {
    const bool rotated = co_await rotate_key();
    if (!rotated) log(LogLevel::debug, kLog, host_.instance_id, ": key rotation postponed");
  }
  co_return true;
}

asio::awaitable<bool> SimAgent::rotate_key() {
  auto fresh = RsaKey::generate();
  if (!fresh) co_return false;
  // Signed with the key the service knows now; the new one takes over once it is accepted.
  std::string target = "AmazonSSM.UpdateManagedInstancePublicKey";
  std::string body = update_managed_instance_public_key(fresh->public_key_base64());
  Signer sign = rsa_signer(key_, host_.instance_id, fleet_->config.region);
  auto r = co_await call_json(*fleet_->endpoint, std::move(target), std::move(body), std::move(sign));
  if (!r.ok()) {
    log(LogLevel::warn, kLog, host_.instance_id, ": UpdateManagedInstancePublicKey failed: ", r.error);
    update([](AgentStatus& s) { ++s.api_failures; });
    co_return false;
  }
  key_ = std::make_shared<const RsaKey>(std::move(*fresh));
  update([](AgentStatus& s) { ++s.key_rotations; });
  co_return true;
}

asio::awaitable<void> SimAgent::keep_credentials() {
  for (;;) {
    const auto life = credentials_expire_ - std::chrono::system_clock::now();
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        to_millis(life) * timing_.credential_refresh_fraction);
    if (wait < kMinRefreshWait) wait = kMinRefreshWait;
    bool alive = co_await sleep(credentials_timer_, wait);
    if (!alive) co_return;
    Retryer retry(timing_.credential_retry, rng_);
    for (;;) {
      const bool fetched = co_await fetch_role_token();
      if (fetched) break;
      const auto retry_wait = *retry.next();
      alive = co_await sleep(credentials_timer_, retry_wait);
      if (!alive) co_return;
    }
  }
}

// ---- SSM calls -----------------------------------------------------------------------------

asio::awaitable<CallResult> SimAgent::call_ssm(std::string operation, std::string body) {
  auto credentials = credentials_->get();
  if (!credentials) {
    CallResult none;
    none.error = "no credentials";
    co_return none;
  }
  std::string target = "AmazonSSM." + operation;
  Signer sign = sigv4_json_signer(*credentials, fleet_->config.region, "ssm");
  auto r = co_await call_json(*fleet_->endpoint, std::move(target), std::move(body), std::move(sign));
  if (!r.ok()) {
    log(LogLevel::debug, kLog, host_.instance_id, ": ", operation, " failed: ", r.error);
    update([&](AgentStatus& s) {
      ++s.api_failures;
      s.last_error = operation + " failed: " + r.error;
    });
  }
  co_return r;
}

asio::awaitable<void> SimAgent::health_report(std::string channel) {
  std::string operation = "UpdateInstanceInformation";
  std::string body = full_instance_information(host_, channel);
  auto r = co_await call_ssm(std::move(operation), std::move(body));
  if (r.ok()) update([](AgentStatus& s) { ++s.health_reports; });
}

asio::awaitable<void> SimAgent::send_health_reports() {
  // The first report lands at a random point of the first period (agent.md §7).
  const auto first = uniform_millis(std::chrono::milliseconds(0), timing_.heartbeat, rng_);
  bool alive = co_await sleep(health_timer_, first);
  while (alive) {
    if (!offline_) {
      std::string channel = control_ ? "ssmmessages" : "";
      co_await health_report(std::move(channel));
    }
    const Millis period = timing_.heartbeat;
    alive = co_await sleep(health_timer_, period);
  }
}

asio::awaitable<void> SimAgent::report_connected() {
  const std::chrono::milliseconds after = timing_.connected_report_after;
  const bool alive = co_await sleep(report_timer_, after);
  if (!alive || offline_) co_return;
  std::string channel = "ssmmessages";
  co_await health_report(std::move(channel));
}

asio::awaitable<void> SimAgent::poll_associations() {
  const std::chrono::milliseconds first = timing_.associations_first;
  bool alive = co_await sleep(associations_timer_, first);
  while (alive) {
    if (!offline_) {
      std::string operation = "ListInstanceAssociations";
      std::string body = list_instance_associations(host_.instance_id);
      auto r = co_await call_ssm(std::move(operation), std::move(body));
      if (r.ok()) update([](AgentStatus& s) { ++s.association_polls; });
    }
    const std::chrono::milliseconds period = timing_.associations;
    alive = co_await sleep(associations_timer_, period);
  }
}

asio::awaitable<void> SimAgent::poll_mds() {
  for (;;) {
    if (ever_connected_ && std::chrono::steady_clock::now() >= connected_at_ + timing_.mds_poll_stop_after) co_return;
    auto credentials = credentials_->get();
    if (credentials && !offline_) {
      std::string target = "EC2WindowsMessageDeliveryService.GetMessages";
      std::string body = get_messages(host_.instance_id, mocksvc::base::random_uuid_string());
      Signer sign = sigv4_json_signer(*credentials, fleet_->config.region, "ec2messages");
      auto r = co_await call_json(*fleet_->endpoint, std::move(target), std::move(body), std::move(sign));
      if (!r.ok()) update([](AgentStatus& s) { ++s.api_failures; });
    }
    const std::chrono::milliseconds period = timing_.mds_poll_interval;
    const bool alive = co_await sleep(mds_timer_, period);
    if (!alive) co_return;
  }
}

// ---- control channel -----------------------------------------------------------------------

asio::awaitable<void> SimAgent::keep_control_channel() {
  bool lost_before = false;
  for (;;) {
    if (stopping_) co_return;
    if (offline_) {
      control_timer_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await control_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    // A lost channel waits a little before its first reconnect attempt (§2.6).
    if (lost_before) {
      const auto jitter = uniform_millis(std::chrono::milliseconds(0), timing_.reconnect_jitter_max, rng_);
      const bool alive = co_await sleep(control_timer_, jitter);
      if (!alive) co_return;
    }
    Retryer retry(timing_.control_retry, rng_);
    while (!stopping_ && !offline_) {
      auto opened = co_await open_control_channel();
      if (opened || stopping_) break;
      if (opened.error().find(kAccessDenied) != std::string::npos)
        log(LogLevel::warn, kLog, host_.instance_id, ": MGS failed due to access denied");
      const auto wait = *retry.next();
      log(LogLevel::debug, kLog, host_.instance_id, ": control channel failed (", opened.error(), "), retrying in ",
          wait.count(), " ms");
      update([&](AgentStatus& s) {
        ++s.control_channel_failures;
        s.last_error = opened.error();
      });
      const bool alive = co_await sleep(control_timer_, wait);
      if (!alive) co_return;
    }
    while (!stopping_ && control_) {
      control_timer_.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await control_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    lost_before = true;
  }
}

asio::awaitable<Outcome<void>> SimAgent::open_control_channel() {
  auto credentials = credentials_->get();
  if (!credentials) co_return Outcome<void>(std::string("no credentials"));
  const auto& endpoint = *fleet_->endpoint;
  std::string path = "/v1/control-channel/" + host_.instance_id;
  std::string body = create_control_channel_body(mocksvc::base::random_uuid_string());
  auto token = co_await fetch_channel_token(endpoint, *credentials, std::move(path), std::move(body));
  if (!token) co_return Outcome<void>(token.error());
  if (stopping_ || offline_) co_return Outcome<void>(std::string("stopped"));

  auto link = std::make_shared<ChannelLink>();
  std::weak_ptr<SimAgent> weak = weak_from_this();
  mocksvc::net::WsConnectOptions options;
  options.url = endpoint.ws_base + "/v1/control-channel/" + host_.instance_id + "?role=subscribe&stream=input";
  options.tls = endpoint.tls;
  options.sign = websocket_signer(*credentials, endpoint.region);
  options.timeout = timing_.websocket_handshake_timeout;
  options.keepalive_interval = std::chrono::duration_cast<std::chrono::milliseconds>(timing_.websocket_ping);
  options.headers.emplace_back("User-Agent", std::string(kGoUserAgent));
  mocksvc::net::BindInbound bind = [strand = strand_, weak, link](std::shared_ptr<broker::Peer>) {
    return std::make_shared<PostingInbound>(
        strand,
        [weak, link](wire::Bytes frame) {
          if (auto self = weak.lock()) self->on_control_frame(link, std::move(frame));
        },
        [weak, link](std::string why) {
          if (auto self = weak.lock()) self->on_control_closed(link, std::move(why));
        });
  };
  auto peer = co_await mocksvc::net::connect_websocket(strand_, std::move(options), std::move(bind));
  if (!peer) co_return Outcome<void>(peer.error());
  link->peer = *peer;
  if (stopping_ || offline_ || link->closed) {
    link->peer->close(abrupt_close());
    co_return Outcome<void>(std::string(link->closed ? "the control channel closed at once: " + link->close_reason
                                                     : "stopped"));
  }
  wire::OpenControlChannel open;
  open.request_id = mocksvc::base::random_uuid_string();
  open.token_value = *token;
  open.agent_version = fleet_->config.agent_version;
  link->peer->send_text(open.to_json());
  // The agent counts the channel as open once the text frame is written; no reply is awaited.
  control_ = link;
  if (!ever_connected_) {
    ever_connected_ = true;
    connected_at_ = std::chrono::steady_clock::now();
    spawn([](SimAgent& a) { return a.report_connected(); });
  }
  update([](AgentStatus& s) {
    s.control_channel_open = true;
    ++s.control_channel_opens;
  });
  log(LogLevel::debug, kLog, host_.instance_id, ": control channel open");
  if (hooks_.control_channel_changed) hooks_.control_channel_changed(status());
  co_return Outcome<void>();
}

void SimAgent::close_control_channel() {
  if (!control_) return;
  auto link = std::move(control_);
  if (link->peer) link->peer->close(abrupt_close());
  update([](AgentStatus& s) { s.control_channel_open = false; });
  if (hooks_.control_channel_changed) hooks_.control_channel_changed(status());
}

void SimAgent::on_control_closed(const std::shared_ptr<ChannelLink>& link, std::string why) {
  link->closed = true;
  link->close_reason = why;
  if (link != control_) return;
  control_.reset();
  log(LogLevel::info, kLog, host_.instance_id, ": control channel lost (", why, ")");
  update([](AgentStatus& s) { s.control_channel_open = false; });
  if (hooks_.control_channel_changed) hooks_.control_channel_changed(status());
  control_timer_.cancel();
}

void SimAgent::on_control_frame(const std::shared_ptr<ChannelLink>& link, wire::Bytes frame) {
  if (link != control_ || stopping_) return;
  auto event = classify_control_frame(frame);
  if (auto* start = std::get_if<StartSession>(&event)) {
    start_session(std::move(start->task));
  } else if (auto* close = std::get_if<CloseSession>(&event)) {
    if (auto it = sessions_.find(close->session_id); it != sessions_.end()) it->second->cancel();
  } else if (auto* ack = std::get_if<TaskAcknowledged>(&event)) {
    if (auto it = pending_completes_.find(ack->message_id); it != pending_completes_.end()) {
      if (it->second.timer) it->second.timer->cancel();
      pending_completes_.erase(it);
      update([](AgentStatus& s) { ++s.task_completes_acked; });
    }
  } else if (auto* ignored = std::get_if<Ignored>(&event)) {
    log(LogLevel::debug, kLog, host_.instance_id, ": control channel: ", ignored->why);
    update([](AgentStatus& s) { ++s.ignored_messages; });
  }
}

// ---- sessions ------------------------------------------------------------------------------

void SimAgent::start_session(wire::InteractiveShellTask task) {
  const std::string session_id = task.session_id;
  if (sessions_.count(session_id)) {
    // A second interactive_shell for a running session is a duplicate (§5.1).
    update([](AgentStatus& s) { ++s.ignored_messages; });
    return;
  }
  SessionEnv env;
  env.endpoint = fleet_->endpoint;
  env.timing = fleet_->timing;
  env.credentials = credentials_;
  env.profile = profile();
  env.seed = rng_();
  std::weak_ptr<SimAgent> weak = weak_from_this();
  auto session = DataSession::create(strand_.get_inner_executor(), std::move(env), std::move(task),
                                     [weak, strand = strand_, session_id](SessionResult result) {
                                       asio::post(strand, [weak, session_id, result = std::move(result)]() mutable {
                                         if (auto self = weak.lock()) self->on_session_end(session_id, std::move(result));
                                       });
                                     });
  sessions_.emplace(session_id, session);
  update([&](AgentStatus& s) {
    ++s.sessions_started;
    s.sessions_active = sessions_.size();
  });
  log(LogLevel::info, kLog, host_.instance_id, ": session ", session_id, " starting");
  if (hooks_.session_started) hooks_.session_started(status(), session_id);
  session->start();
}

void SimAgent::on_session_end(const std::string& session_id, SessionResult result) {
  if (sessions_.erase(session_id) == 0) return;
  update([&](AgentStatus& s) {
    ++s.sessions_ended;
    s.sessions_active = sessions_.size();
  });
  log(LogLevel::info, kLog, host_.instance_id, ": session ", session_id, " ended: ", result.final_status,
      result.output.empty() ? "" : " (" + result.output + ")");
  if (result.report && !stopping_) send_task_complete(session_id, result);
  if (hooks_.session_ended) hooks_.session_ended(status(), session_id, result);
}

void SimAgent::send_task_complete(const std::string& session_id, const SessionResult& result) {
  PendingComplete pending;
  pending.message_id = mocksvc::base::Uuid::random();
  pending.payload.task_id = session_id;
  pending.payload.final_task_status = result.final_status;
  pending.payload.instance_id = host_.instance_id;
  pending.payload.output = result.output;
  const std::string key = pending.message_id.to_string();
  pending_completes_.emplace(key, std::move(pending));
  spawn([key](SimAgent& a) { return a.deliver_task_complete(key); });
}

asio::awaitable<void> SimAgent::deliver_task_complete(std::string message_id) {
  asio::steady_timer timer(strand_);
  for (int send = 1; send <= kTaskCompleteSends; ++send) {
    auto it = pending_completes_.find(message_id);
    if (it == pending_completes_.end()) co_return;
    it->second.payload.retry_number = send;
    if (control_ && control_->peer) {
      control_->peer->send_binary(
          control_reply_frame(wire::msg::kAgentTaskComplete, it->second.message_id, it->second.payload.to_json()));
      update([](AgentStatus& s) { ++s.task_completes_sent; });
    }
    it->second.timer = &timer;
    const bool alive = co_await sleep(timer, timing_.task_complete_resend);
    if (auto again = pending_completes_.find(message_id); again != pending_completes_.end()) again->second.timer = nullptr;
    if (!alive) co_return;
  }
  // Unacknowledged after the last send: the result is dropped, as the agent does not persist it.
  pending_completes_.erase(message_id);
}

}  // namespace ssmh::agentsim
