#include "loadgen/dialer.hpp"

#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>

#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/ws_client.hpp"

namespace ssmh::loadgen {
namespace {

namespace asio = boost::asio;
namespace broker = mocksvc::broker;
namespace client = mocksvc::client;
namespace wire = mocksvc::wire;
using Clock = std::chrono::steady_clock;
using ConnectResult = boost::system::result<std::shared_ptr<broker::Peer>, std::string>;

// One attempt's link to the engine, on the strand only. Reads can be posted before the attempt's
// completion reported opened(); they wait in `early` until it has.
struct Link {
  std::shared_ptr<client::ConnectionEvents> events;
  bool opened = false;
  std::vector<std::function<void(client::ConnectionEvents&)>> early;
};

class Inbound final : public broker::Inbound {
 public:
  Inbound(plugin::Strand strand, std::shared_ptr<Link> link) : strand_(std::move(strand)), link_(std::move(link)) {}

  void on_text(std::string_view text) override { deliver(wire::Bytes(text.begin(), text.end())); }
  void on_binary(wire::ByteView frame) override { deliver(wire::Bytes(frame.begin(), frame.end())); }
  void on_closed(bool, std::string_view) override {
    run([](client::ConnectionEvents& e) { e.closed(); });
  }

 private:
  void deliver(wire::Bytes frame) {
    run([frame = std::move(frame)](client::ConnectionEvents& e) { e.received(frame); });
  }
  template <typename Fn>
  void run(Fn fn) {
    asio::post(strand_, [link = link_, fn = std::move(fn)]() mutable {
      if (link->opened) fn(*link->events);
      else link->early.emplace_back(std::move(fn));
    });
  }

  plugin::Strand strand_;
  std::shared_ptr<Link> link_;
};

}  // namespace

client::Dialer make_timed_dialer(plugin::Strand strand, DialHooks hooks) {
  auto shared = std::make_shared<const DialHooks>(std::move(hooks));
  return [strand, shared](const std::string& url, std::shared_ptr<client::ConnectionEvents> events) {
    auto link = std::make_shared<Link>();
    link->events = std::move(events);
    mocksvc::net::WsConnectOptions o;
    o.url = url;
    o.tls = shared->tls;
    o.timeout = shared->timeout;
    o.keepalive_interval = plugin::kKeepaliveInterval;  // a ping at connect, as the plugin sends
    mocksvc::net::BindInbound bind = [strand, link](std::shared_ptr<broker::Peer>) {
      return std::make_shared<Inbound>(strand, link);
    };
    const auto dialed_at = Clock::now();
    asio::co_spawn(
        strand,
        [strand, o = std::move(o), bind = std::move(bind)]() mutable {
          return mocksvc::net::connect_websocket(strand, std::move(o), std::move(bind));
        },
        asio::bind_executor(strand, [link, shared, dialed_at](std::exception_ptr e, ConnectResult r) {
          if (e || !r) {
            const std::string why = e ? std::string("the WebSocket connect failed unexpectedly") : r.error();
            if (shared->failed) shared->failed(why);
            link->events->failed(why);
            return;
          }
          if (shared->opened) shared->opened(Clock::now() - dialed_at);
          link->opened = true;
          link->events->opened(plugin::make_transport(*r));
          auto early = std::move(link->early);
          for (auto& fn : early) fn(*link->events);
        }));
  };
}

}  // namespace ssmh::loadgen
