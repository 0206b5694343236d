#include "plugin/session_runner.hpp"

#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "mocksvc/auth/sigv4.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/ws_client.hpp"

namespace ssmh::plugin {
namespace {

namespace asio = boost::asio;
namespace auth = mocksvc::auth;
namespace broker = mocksvc::broker;
namespace client = mocksvc::client;
namespace wire = mocksvc::wire;
using ConnectResult = boost::system::result<std::shared_ptr<broker::Peer>, std::string>;

// One dial attempt's link to the engine, used on the strand only. Reads can be posted before
// the attempt's own completion has reported opened(); they wait in `early` until it has.
struct Link {
  std::shared_ptr<client::ConnectionEvents> events;
  bool opened = false;
  std::vector<std::function<void(client::ConnectionEvents&)>> early;
};

// Reads of one connection, copied and posted onto the session's strand in arrival order
// (a strand runs posted work first in, first out).
class EventsInbound final : public broker::Inbound {
 public:
  EventsInbound(Strand strand, std::shared_ptr<Link> link) : strand_(std::move(strand)), link_(std::move(link)) {}

  void on_text(std::string_view text) override {
    // The plugin parses text frames exactly like binary ones (§3.3).
    deliver(wire::Bytes(text.begin(), text.end()));
  }
  void on_binary(wire::ByteView frame) override { deliver(wire::Bytes(frame.begin(), frame.end())); }
  void on_closed(bool clean, std::string_view why) override {
    mocksvc::base::log(mocksvc::base::LogLevel::debug, "plugin", "data channel closed (",
                       clean ? "clean" : "not clean", "): ", why);
    run([](client::ConnectionEvents& e) { e.closed(); });
  }

 private:
  void deliver(wire::Bytes frame) {
    run([frame = std::move(frame)](client::ConnectionEvents& e) { e.received(frame); });
  }
  template <typename Fn>
  void run(Fn fn) {
    asio::post(strand_, [link = link_, fn = std::move(fn)]() mutable {
      if (link->opened) {
        fn(*link->events);
      } else {
        link->early.emplace_back(std::move(fn));
      }
    });
  }

  Strand strand_;
  std::shared_ptr<Link> link_;
};

std::function<void(auth::HttpRequest&)> upgrade_signer(const DialOptions& options) {
  return [credentials = options.credentials, region = options.region](auth::HttpRequest& r) {
    std::optional<auth::Credentials> c;
    if (credentials) c = credentials();
    if (!c) return;  // sent unsigned; the service answers 403 and the engine retries
    auth::SignOptions o;
    o.service = "ssmmessages";
    o.region = region;
    o.now = auth::Clock::now();
    auth::sign_in_place(r, *c, o);
  };
}

}  // namespace

bool has_presign_query(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return false;
  const std::string query = auth::to_lower(url.substr(q + 1));
  for (std::string_view key : {"x-amz-signature=", "x-amz-credential="}) {
    for (auto at = query.find(key); at != std::string::npos; at = query.find(key, at + 1))
      if (at == 0 || query[at - 1] == '&') return true;
  }
  return false;
}

std::string default_ssm_endpoint(std::string_view region) {
  return "https://ssm." + std::string(region) + ".amazonaws.com";
}

client::Transport make_transport(std::shared_ptr<broker::Peer> peer) {
  client::Transport t;
  t.send_text = [peer](std::string text) { peer->send_text(std::move(text)); };
  t.send_binary = [peer](wire::Bytes frame) { peer->send_binary(std::move(frame)); };
  t.close = [peer] { peer->close(broker::CloseSpec{}); };
  return t;
}

client::Dialer make_dialer(Strand strand, DialOptions options) {
  auto shared = std::make_shared<const DialOptions>(std::move(options));
  return [strand, shared](const std::string& url, std::shared_ptr<client::ConnectionEvents> events) {
    auto link = std::make_shared<Link>();
    link->events = std::move(events);
    mocksvc::net::WsConnectOptions o;
    o.url = url;
    o.tls = shared->tls;
    o.timeout = shared->timeout;
    o.keepalive_interval = kKeepaliveInterval;
    if (shared->sign_upgrade && !has_presign_query(url)) o.sign = upgrade_signer(*shared);
    mocksvc::net::BindInbound bind = [strand, link](std::shared_ptr<broker::Peer>) {
      return std::make_shared<EventsInbound>(strand, link);
    };
    asio::co_spawn(
        strand,
        [strand, o = std::move(o), bind = std::move(bind)]() mutable {
          return mocksvc::net::connect_websocket(strand, std::move(o), std::move(bind));
        },
        asio::bind_executor(strand, [link, shared, dialed_at = std::chrono::steady_clock::now()](
                                        std::exception_ptr e, ConnectResult r) {
          if (e || !r) {
            const std::string why = e ? std::string("the WebSocket connect failed unexpectedly") : r.error();
            if (shared->failed) shared->failed(why);
            link->events->failed(why);
            return;
          }
          if (shared->opened) shared->opened(std::chrono::steady_clock::now() - dialed_at);
          link->opened = true;
          link->events->opened(make_transport(*r));
          auto early = std::move(link->early);
          for (auto& fn : early) fn(*link->events);
        }));
  };
}

// ---- SessionRunner ------------------------------------------------------------------------

SessionRunner::SessionRunner(Strand strand, RunnerOptions o) : scheduler_(std::move(strand)), api_(std::move(o.api)) {
  const std::string region = o.session.region;
  if (!api_) {
    SsmEndpoint endpoint;
    endpoint.url = o.ssm_endpoint.empty() ? default_ssm_endpoint(region) : o.ssm_endpoint;
    endpoint.region = region;
    endpoint.credentials = o.credentials;
    endpoint.tls = o.tls;
    endpoint.retry = o.retry;
    endpoint.timeout = o.api_timeout;
    api_ = SsmApi::create(scheduler_.strand().get_inner_executor(), std::move(endpoint));
  }
  DialOptions dial;
  dial.tls = o.tls;
  dial.sign_upgrade = o.sign_upgrade;
  dial.credentials = o.credentials;
  dial.region = region;
  dial.timeout = o.connect_timeout;

  client::SessionHooks hooks;
  hooks.dial = make_dialer(scheduler_.strand(), std::move(dial));
  hooks.control = make_control_plane(api_, scheduler_.executor());
  hooks.make_handler = std::move(o.make_handler);
  hooks.print = std::move(o.print);
  hooks.on_finished = std::move(o.on_finished);
  session_ = std::make_unique<client::ClientSession>(scheduler_, std::move(o.session), std::move(hooks));
}

SessionRunner::~SessionRunner() = default;

void SessionRunner::start() {
  scheduler_.post([this] { session_->start(); });
}

void SessionRunner::stop(int exit_code) {
  scheduler_.post([this, exit_code] { session_->stop(exit_code); });
}

}  // namespace ssmh::plugin
