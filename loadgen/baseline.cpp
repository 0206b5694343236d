#include "loadgen/baseline.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "loadgen/histogram.hpp"
#include "mocksvc/broker/peer.hpp"
#include "mocksvc/net/server.hpp"
#include "mocksvc/net/ws_client.hpp"
#include "mocksvc/runtime/io_threads.hpp"

namespace ssmh::loadgen {
namespace {

namespace asio = boost::asio;
namespace broker = mocksvc::broker;
namespace wire = mocksvc::wire;
using Clock = std::chrono::steady_clock;
using ConnectResult = boost::system::result<std::shared_ptr<broker::Peer>, std::string>;

std::uint64_t ns(Clock::duration d) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()));
}

// The server's end of one connection: every binary frame straight back.
class EchoInbound final : public broker::Inbound {
 public:
  explicit EchoInbound(std::weak_ptr<broker::Peer> peer) : peer_(std::move(peer)) {}
  void on_text(std::string_view text) override {
    if (auto p = peer_.lock()) p->send_text(std::string(text));
  }
  void on_binary(wire::ByteView frame) override {
    if (auto p = peer_.lock()) p->send_binary(wire::Bytes(frame.begin(), frame.end()));
  }
  void on_closed(bool, std::string_view) override {}
  std::shared_ptr<broker::Peer> congested() override {
    auto p = peer_.lock();
    return p && p->queued_bytes() > 1024 * 1024 ? p : nullptr;
  }

 private:
  std::weak_ptr<broker::Peer> peer_;
};

// Shared by the connections of one baseline run.
struct Shared {
  BaselineSpec spec;
  std::string payloads;  // random bytes messages are cut from
  std::mutex mu;
  std::condition_variable cv;
  Histogram connect{2};
  Histogram rtt{2};
  std::uint64_t finished = 0;
  std::uint64_t errors = 0;
  std::uint64_t opened = 0;
  Clock::time_point first_start{};
  Clock::time_point last_open{};
  std::uint64_t messages_sent = 0, messages_received = 0, bytes_sent = 0, bytes_received = 0;
  Clock::time_point first_send{};
  Clock::time_point last_echo{};
};

// One client connection, on its own strand (its reads run there too).
class EchoClient : public std::enable_shared_from_this<EchoClient> {
 public:
  EchoClient(std::uint64_t index, asio::any_io_executor executor, std::shared_ptr<Shared> shared)
      : index_(index),
        strand_(asio::make_strand(executor)),
        owner_(std::move(shared)),
        shared_(*owner_),
        pacer_(strand_),
        watchdog_(strand_) {}

  void start(Clock::time_point at) {
    asio::post(strand_, [self = shared_from_this(), at] {
      self->timer_start(at);
    });
  }
  void stop() {
    asio::post(strand_, [self = shared_from_this()] {
      if (!self->done_) self->finish(true);
      if (self->peer_) self->peer_->close(broker::CloseSpec{});
    });
  }

  class Inbound final : public broker::Inbound {
   public:
    explicit Inbound(std::weak_ptr<EchoClient> c) : client_(std::move(c)) {}
    void on_text(std::string_view) override {}
    void on_binary(wire::ByteView frame) override {
      if (auto c = client_.lock()) c->on_echo(frame);
    }
    void on_closed(bool, std::string_view) override {
      if (auto c = client_.lock()) {
        if (!c->done_) c->finish(true);
      }
    }

   private:
    std::weak_ptr<EchoClient> client_;
  };

 private:
  void timer_start(Clock::time_point at) {
    pacer_.expires_at(at);
    pacer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->connect();
    });
  }

  void connect() {
    started_ = Clock::now();
    {
      std::lock_guard lock(shared_.mu);
      if (shared_.first_start == Clock::time_point{} || started_ < shared_.first_start) shared_.first_start = started_;
    }
    arm_watchdog();
    mocksvc::net::WsConnectOptions o;
    o.url = shared_.spec.url;
    o.timeout = shared_.spec.step_timeout;
    std::weak_ptr<EchoClient> weak = weak_from_this();
    mocksvc::net::BindInbound bind = [weak](std::shared_ptr<broker::Peer>) { return std::make_shared<Inbound>(weak); };
    asio::co_spawn(
        strand_,
        [strand = strand_, o = std::move(o), bind = std::move(bind)]() mutable {
          return mocksvc::net::connect_websocket(strand, std::move(o), std::move(bind));
        },
        asio::bind_executor(strand_, [self = shared_from_this()](std::exception_ptr e, ConnectResult r) {
          if (self->done_) {
            if (!e && r) (*r)->close(broker::CloseSpec{});
            return;
          }
          if (e || !r) {
            self->finish(true);
            return;
          }
          self->peer_ = *r;
          self->opened();
        }));
  }

  void opened() {
    const auto now = Clock::now();
    {
      std::lock_guard lock(shared_.mu);
      shared_.connect.record(ns(now - started_));
      ++shared_.opened;
      shared_.last_open = std::max(shared_.last_open, now);
    }
    echo_start_ = now;
    arm_watchdog();
    if (shared_.spec.messages == 0) {
      finish(false);
      return;
    }
    send_due();
  }

  void send_due() {
    if (done_) return;
    const auto& spec = shared_.spec;
    if (spec.message_rate <= 0) {
      while (sent_ < spec.messages && sent_ - received_ < spec.pipeline) send(Clock::now());
      return;
    }
    const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / spec.message_rate));
    const auto now = Clock::now();
    while (sent_ < spec.messages && echo_start_ + interval * static_cast<std::int64_t>(sent_) <= now)
      send(echo_start_ + interval * static_cast<std::int64_t>(sent_));
    if (sent_ < spec.messages) {
      pacer_.expires_at(echo_start_ + interval * static_cast<std::int64_t>(sent_));
      pacer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (!ec) self->send_due();
      });
    }
  }

  void send(Clock::time_point intended) {
    const auto size = static_cast<std::size_t>(shared_.spec.size);
    const std::size_t span = shared_.payloads.size() - size;
    const std::size_t at = span ? static_cast<std::size_t>((index_ * 7919 + sent_ * 104729) % span) : 0;
    wire::Bytes frame(shared_.payloads.begin() + static_cast<std::ptrdiff_t>(at),
                      shared_.payloads.begin() + static_cast<std::ptrdiff_t>(at + size));
    outstanding_.push_back({at, intended});
    if (sent_ == 0) {
      std::lock_guard lock(shared_.mu);
      if (shared_.first_send == Clock::time_point{} || intended < shared_.first_send) shared_.first_send = intended;
    }
    ++sent_;
    peer_->send_binary(std::move(frame));
  }

  void on_echo(wire::ByteView frame) {
    if (done_ || outstanding_.empty()) return;
    const auto [at, intended] = outstanding_.front();
    outstanding_.pop_front();
    const auto size = static_cast<std::size_t>(shared_.spec.size);
    if (frame.size() != size || std::memcmp(frame.data(), shared_.payloads.data() + at, size) != 0) {
      finish(true);
      return;
    }
    const auto now = Clock::now();
    {
      std::lock_guard lock(shared_.mu);
      shared_.rtt.record(ns(now - intended));
      shared_.last_echo = std::max(shared_.last_echo, now);
    }
    ++received_;
    arm_watchdog();
    if (received_ >= shared_.spec.messages) {
      finish(false);
      return;
    }
    if (shared_.spec.message_rate <= 0) send_due();
  }

  void arm_watchdog() {
    watchdog_.expires_after(shared_.spec.step_timeout);
    watchdog_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->done_) self->finish(true);
    });
  }

  void finish(bool error) {
    done_ = true;
    pacer_.cancel();
    watchdog_.cancel();
    std::lock_guard lock(shared_.mu);
    shared_.messages_sent += sent_;
    shared_.messages_received += received_;
    shared_.bytes_sent += sent_ * shared_.spec.size;
    shared_.bytes_received += received_ * shared_.spec.size;
    if (error) ++shared_.errors;
    ++shared_.finished;
    shared_.cv.notify_all();
  }

  const std::uint64_t index_;
  asio::strand<asio::any_io_executor> strand_;
  std::shared_ptr<Shared> owner_;  // outlives the run: late completions may still touch it
  Shared& shared_;
  asio::steady_timer pacer_;
  asio::steady_timer watchdog_;
  std::shared_ptr<broker::Peer> peer_;
  Clock::time_point started_{};
  Clock::time_point echo_start_{};
  std::deque<std::pair<std::size_t, Clock::time_point>> outstanding_;
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
  bool done_ = false;
};

}  // namespace

EchoServer::EchoServer(asio::any_io_executor executor) {
  mocksvc::net::ServerHandlers h;
  h.handle = [](const mocksvc::auth::HttpRequest&, const mocksvc::api::RequestContext&) {
    mocksvc::api::HttpResponse r;
    r.status = 404;
    r.body = "WebSocket echo only";
    return r;
  };
  h.transport_error = [](int status, std::string_view why) {
    mocksvc::api::HttpResponse r;
    r.status = status;
    r.body = std::string(why);
    return r;
  };
  h.upgrade = [](const mocksvc::auth::HttpRequest&, const mocksvc::api::RequestContext&) {
    mocksvc::net::UpgradeDecision d;
    d.bind = [](std::shared_ptr<broker::Peer> peer) { return std::make_shared<EchoInbound>(peer); };
    return d;
  };
  mocksvc::net::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  server_ = std::make_unique<mocksvc::net::Server>(std::move(executor), std::move(o), std::move(h));
}

EchoServer::~EchoServer() { stop(); }

boost::system::result<unsigned short, std::string> EchoServer::start() {
  if (auto r = server_->start(); !r) return boost::system::result<unsigned short, std::string>(boost::system::in_place_error, r.error());
  return server_->local_endpoint().port();
}

void EchoServer::stop() {
  if (server_) server_->stop();
}

int run_echo_server_program(unsigned threads) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  mocksvc::runtime::IoThreads io(threads);
  EchoServer server(io.executor());
  auto port = server.start();
  if (!port) {
    std::cerr << "loadgen echo-server: " << port.error() << std::endl;
    return 2;
  }
  io.start();
  std::cout << "{\"event\":\"ready\",\"port\":" << *port << "}" << std::endl;
  // Ends on a signal, or when the parent goes away (stdin reaches EOF).
  for (;;) {
    timespec zero{0, 0};
    if (sigtimedwait(&signals, nullptr, &zero) > 0) break;
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      char c;
      if (::read(STDIN_FILENO, &c, 1) <= 0) break;
    }
  }
  server.stop();
  io.stop();
  return 0;
}

BaselineFigures run_baseline(asio::any_io_executor executor, const BaselineSpec& spec) {
  auto owner = std::make_shared<Shared>();
  Shared& shared = *owner;
  shared.spec = spec;
  shared.spec.connections = std::max<std::uint64_t>(1, spec.connections);
  std::mt19937_64 rng(spec.seed);
  shared.payloads.resize(std::max<std::size_t>(64 * 1024, static_cast<std::size_t>(spec.size) * 2));
  for (auto& c : shared.payloads) c = static_cast<char>(rng());

  const std::uint64_t n = shared.spec.connections;
  std::vector<std::shared_ptr<EchoClient>> clients;
  clients.reserve(n);
  const auto t0 = Clock::now();
  const auto ramp = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(spec.ramp_up_s));
  for (std::uint64_t i = 0; i < n; ++i) {
    clients.push_back(std::make_shared<EchoClient>(i, executor, owner));
    clients.back()->start(t0 + ramp * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(n));
  }
  {
    std::unique_lock lock(shared.mu);
    shared.cv.wait_until(lock, t0 + spec.max_time, [&] { return shared.finished >= n; });
  }
  const auto end = Clock::now();
  for (auto& c : clients) c->stop();
  {
    // Stop counts what the stragglers did; give them the moment it takes.
    std::unique_lock lock(shared.mu);
    shared.cv.wait_for(lock, std::chrono::seconds(5), [&] { return shared.finished >= n; });
  }

  std::lock_guard lock(shared.mu);
  BaselineFigures b;
  b.connections = n;
  b.connect = LatencyStats::of(shared.connect);
  b.rtt = LatencyStats::of(shared.rtt);
  const double open_span = std::chrono::duration<double>(shared.last_open - shared.first_start).count();
  b.connects_per_second = open_span > 0 ? static_cast<double>(shared.opened) / open_span : 0.0;
  b.traffic.messages_sent = shared.messages_sent;
  b.traffic.messages_received = shared.messages_received;
  b.traffic.bytes_sent = shared.bytes_sent;
  b.traffic.bytes_received = shared.bytes_received;
  // Throughput counts from the first round trip sent to the last echo, as for the load run.
  b.traffic.seconds = shared.last_echo > shared.first_send
                          ? std::chrono::duration<double>(shared.last_echo - shared.first_send).count()
                          : std::chrono::duration<double>(end - t0).count();
  b.errors = shared.errors + (n - std::min(n, shared.finished));
  return b;
}

}  // namespace ssmh::loadgen
