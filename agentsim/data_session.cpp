#include "agentsim/data_session.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agentsim/control_messages.hpp"
#include "agentsim/ssm_bodies.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/net/ws_client.hpp"

namespace ssmh::agentsim {

namespace asio = boost::asio;
namespace broker = mocksvc::broker;
namespace wire = mocksvc::wire;
using mocksvc::base::LogLevel;

namespace {
constexpr std::string_view kLog = "agentsim";
// The error text that ends the data channel's reconnect loop at once (agent.md §1, §2.6).
constexpr std::string_view kSessionTerminated = "Session is already terminated";
// How often the final flush looks at the socket's queue.
constexpr std::chrono::milliseconds kFlushPoll{5};
}  // namespace

std::shared_ptr<DataSession> DataSession::create(asio::any_io_executor executor, SessionEnv env,
                                                 wire::InteractiveShellTask task, OnEnd on_end) {
  return std::shared_ptr<DataSession>(new DataSession(executor, std::move(env), std::move(task), std::move(on_end)));
}

DataSession::DataSession(asio::any_io_executor executor, SessionEnv env, wire::InteractiveShellTask task, OnEnd on_end)
    : strand_(asio::make_strand(executor)),
      env_(std::move(env)),
      task_(std::move(task)),
      on_end_(std::move(on_end)),
      rng_(env_.seed),
      timer_(strand_) {}

DataSession::~DataSession() {
  if (agent_) agent_->stop();
  if (link_ && link_->peer) link_->peer->close(abrupt_close());
}

void DataSession::start() {
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->run(); },
                 asio::bind_executor(strand_, [self = shared_from_this()](std::exception_ptr e) {
                   if (!e) return;
                   self->ending_ = true;
                   self->close_now();
                   self->finish({"Failed", "the session stopped unexpectedly", true});
                 }));
}

void DataSession::cancel() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->ending_) return;
    self->ending_ = true;
    if (self->agent_) self->agent_->stop();
    self->close_now();
    self->finish({"Success", "", true});
  });
}

void DataSession::shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    self->ending_ = true;
    self->reported_ = true;
    if (self->agent_) self->agent_->stop();
    self->close_now();
  });
}

void DataSession::drop_connection() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->link_ && self->link_->peer) self->link_->peer->close(abrupt_close());
  });
}

asio::awaitable<bool> DataSession::sleep(std::chrono::milliseconds d) {
  if (ending_) co_return false;
  timer_.expires_after(d);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ending_;
}

asio::awaitable<void> DataSession::run() {
  auto opened = co_await connect_with_retries(false);
  if (ending_) co_return;
  if (!opened) {
    mocksvc::base::log(LogLevel::warn, kLog, env_.profile.instance_id, " session ", task_.session_id,
                       ": data channel failed: ", opened.error());
    ending_ = true;
    finish({"Failed", data_channel_setup_failure(task_.session_id, opened.error()), true});
    co_return;
  }
  std::weak_ptr<DataSession> weak = weak_from_this();
  agent_ = mocksvc::agent::SessionAgent::create(
      strand_, env_.profile, task_,
      [weak](wire::Bytes frame) {
        auto self = weak.lock();
        if (self && self->link_ && self->link_->peer) self->link_->peer->send_binary(std::move(frame));
      },
      [weak](mocksvc::agent::SessionEnd end) {
        if (auto self = weak.lock()) self->on_agent_end(std::move(end));
      });
  agent_->start();
}

asio::awaitable<Outcome<void>> DataSession::connect_with_retries(bool reconnecting) {
  Retryer retry(env_.timing->data_retry, rng_);
  for (;;) {
    auto opened = co_await open_channel();
    if (opened || ending_) co_return opened;
    if (reconnecting && opened.error().find(kSessionTerminated) != std::string::npos) co_return opened;
    const auto wait = retry.next();
    if (!wait) co_return opened;
    mocksvc::base::log(LogLevel::debug, kLog, env_.profile.instance_id, " session ", task_.session_id,
                       ": data channel attempt failed (", opened.error(), "), retrying in ", wait->count(), " ms");
    const bool alive = co_await sleep(*wait);
    if (!alive) co_return opened;
  }
}

asio::awaitable<Outcome<void>> DataSession::open_channel() {
  auto credentials = env_.credentials->get();
  if (!credentials) co_return Outcome<void>(std::string("no credentials"));
  const std::string request_id = mocksvc::base::random_uuid_string();
  std::string path = "/v1/data-channel/" + task_.session_id;
  std::string body = create_data_channel_body(request_id);
  auto token = co_await fetch_channel_token(*env_.endpoint, *credentials, std::move(path), std::move(body));
  if (!token) co_return Outcome<void>(token.error());
  if (ending_) co_return Outcome<void>(std::string("session ended"));

  auto link = std::make_shared<ChannelLink>();
  std::weak_ptr<DataSession> weak = weak_from_this();
  mocksvc::net::WsConnectOptions options;
  options.url = env_.endpoint->ws_base + "/v1/data-channel/" + task_.session_id + "?role=publish_subscribe";
  options.tls = env_.endpoint->tls;
  options.sign = websocket_signer(*credentials, env_.endpoint->region);
  options.timeout = env_.timing->websocket_handshake_timeout;
  options.keepalive_interval = std::chrono::duration_cast<std::chrono::milliseconds>(env_.timing->websocket_ping);
  options.headers.emplace_back("User-Agent", std::string(kGoUserAgent));
  mocksvc::net::BindInbound bind = [strand = strand_, weak, link](std::shared_ptr<broker::Peer>) {
    return std::make_shared<PostingInbound>(
        strand,
        [weak, link](wire::Bytes frame) {
          if (auto self = weak.lock()) self->on_frame(link, std::move(frame));
        },
        [weak, link](std::string why) {
          if (auto self = weak.lock()) self->on_closed(link, std::move(why));
        });
  };
  auto peer = co_await mocksvc::net::connect_websocket(strand_, std::move(options), std::move(bind));
  if (!peer) co_return Outcome<void>(peer.error());
  link->peer = *peer;
  if (ending_ || link->closed) {
    link->peer->close(abrupt_close());
    co_return Outcome<void>(std::string(ending_ ? "session ended" : "the data channel closed at once"));
  }
  wire::OpenDataChannel open;
  open.variant = wire::OpenDataChannel::Variant::agent;
  open.request_id = mocksvc::base::random_uuid_string();
  open.token_value = *token;
  open.client_instance_id = env_.profile.instance_id;
  open.client_id = "";
  link->peer->send_text(open.to_json());
  link_ = link;
  co_return Outcome<void>();
}

void DataSession::on_frame(const std::shared_ptr<ChannelLink>& link, wire::Bytes frame) {
  if (link != link_ || !agent_ || ending_) return;
  agent_->on_frame(frame);
}

void DataSession::on_closed(const std::shared_ptr<ChannelLink>& link, std::string why) {
  link->closed = true;
  link->close_reason = why;
  if (link != link_) return;
  link_.reset();
  if (ending_ || reconnecting_) return;
  mocksvc::base::log(LogLevel::debug, kLog, env_.profile.instance_id, " session ", task_.session_id,
                     ": data channel lost (", why, "), reconnecting");
  reconnecting_ = true;
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->reconnect(); },
                 asio::bind_executor(strand_, [self = shared_from_this()](std::exception_ptr) {
                   self->reconnecting_ = false;
                 }));
}

asio::awaitable<void> DataSession::reconnect() {
  auto opened = co_await connect_with_retries(true);
  if (ending_) co_return;
  if (!opened) {
    mocksvc::base::log(LogLevel::warn, kLog, env_.profile.instance_id, " session ", task_.session_id,
                       ": data channel reconnect gave up: ", opened.error());
    ending_ = true;
    if (agent_) agent_->stop();
    finish({"Failed", opened.error(), true});
  }
}

void DataSession::on_agent_end(mocksvc::agent::SessionEnd end) {
  if (ending_) return;
  ending_ = true;
  timer_.cancel();
  SessionResult result{end.final_status, end.output, true};
  // A document the engine refuses is dropped without a word, as the real agent does (§5.1).
  if (end.reason == mocksvc::agent::SessionEnd::Reason::bad_document) result.report = false;
  asio::co_spawn(strand_, [self = shared_from_this(), result = std::move(result)]() mutable {
    return self->close_after_flush(std::move(result));
  }, asio::detached);
}

asio::awaitable<void> DataSession::close_after_flush(SessionResult result) {
  // Terminating was queued just before the end was reported; let the socket write it, then
  // close without a close frame, then report (agent.md §6.1 step 7).
  const auto deadline = std::chrono::steady_clock::now() + env_.timing->flush_before_close;
  while (link_ && link_->peer && link_->peer->queued_bytes() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer_.expires_after(kFlushPoll);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  close_now();
  finish(std::move(result));
}

void DataSession::close_now() {
  timer_.cancel();
  if (link_) {
    auto link = std::move(link_);
    if (link->peer) link->peer->close(abrupt_close());
  }
}

void DataSession::finish(SessionResult result) {
  if (reported_) return;
  reported_ = true;
  if (on_end_) {
    auto on_end = std::move(on_end_);
    on_end(std::move(result));
  }
}

}  // namespace ssmh::agentsim
