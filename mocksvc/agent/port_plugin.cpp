// The Port session plugin (agent.md §6.5, data-channel.md §10): basic mode relays one TCP
// connection as raw Output payloads; multiplexed mode runs an smux v1 server over the Output byte
// stream with one TCP connection per client stream. Targets come from the instance profile's
// port map; remote hosts that resolve to instance-metadata or VPC service addresses are refused.
#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "mocksvc/agent/plugin.hpp"
#include "mocksvc/wire/payloads.hpp"
#include "mocksvc/wire/smux.hpp"

namespace mocksvc::agent {
namespace {

using boost::asio::ip::tcp;
using boost::system::error_code;
using wire::PayloadType;

// Mgs.DeniedPortForwardingRemoteIPs defaults: IMDS, the Route 53 resolver, the time-sync
// service and the other link-local service addresses, IPv4 and IPv6.
constexpr std::array<std::string_view, 9> kDeniedRemoteIps = {
    "169.254.169.254", "fd00:ec2::254", "169.254.169.253", "fd00:ec2::253", "169.254.169.123",
    "fd00:ec2::123",   "169.254.169.250", "169.254.169.251", "fd00:ec2::250"};
constexpr std::string_view kLocalPortForwarding = "LocalPortForwarding";
// Clients from 1.1.70 speak smux; clients up to 1.2.331.0 also expect the agent's smux keepalive
// (data-channel.md §10.2, §10.4): a NOP every 10 s, the session closed after 30 s of silence.
constexpr std::string_view kMuxMinClientVersion = "1.1.70";
constexpr std::string_view kKeepaliveMaxClientVersion = "1.2.331.0";
constexpr auto kSmuxKeepaliveInterval = std::chrono::seconds(10);
constexpr auto kSmuxKeepaliveTimeout = std::chrono::seconds(30);
// One PSH frame plus its 8-byte header fills one 1024-byte Output message.
constexpr std::size_t kMuxReadSize = kStreamChunkSize - wire::kSmuxHeaderSize;

SessionEnd completed() { return SessionEnd{SessionEnd::Reason::completed, "Success", ""}; }
SessionEnd failed(std::string output) {
  return SessionEnd{SessionEnd::Reason::failed, "Failed", std::move(output)};
}

struct Target {
  std::string host;
  std::string port;
  std::string text() const {
    return host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
  }
};

Target parse_host_port(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return {std::string(s), ""};
  std::string host(s.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, std::string(s.substr(colon + 1))};
}

Target target_for(const InstanceProfile& profile, const SessionDocument& doc) {
  const bool remote = !doc.host.empty();
  const std::string key = remote ? doc.host + ":" + doc.port_number : doc.port_number;
  if (auto it = profile.port_targets.find(key); it != profile.port_targets.end()) {
    return parse_host_port(it->second);
  }
  return remote ? Target{doc.host, doc.port_number} : Target{"127.0.0.1", doc.port_number};
}

bool denied(const tcp::endpoint& ep) {
  for (auto ip : kDeniedRemoteIps) {
    error_code ec;
    auto a = boost::asio::ip::make_address(std::string(ip), ec);
    if (!ec && a == ep.address()) return true;
  }
  return false;
}

// Resolves and connects; `done` runs on the strand with the connected socket or the error.
void dial(const Strand& strand, const Target& target,
          std::function<void(error_code, tcp::socket)> done) {
  auto resolver = std::make_shared<tcp::resolver>(strand);
  resolver->async_resolve(
      target.host, target.port,
      [resolver, strand, done = std::move(done)](error_code ec, tcp::resolver::results_type results) mutable {
        if (ec) {
          done(ec, tcp::socket(strand));
          return;
        }
        auto sock = std::make_shared<tcp::socket>(strand);
        boost::asio::async_connect(*sock, results,
                                   [sock, done = std::move(done)](error_code ec2, const tcp::endpoint&) {
                                     done(ec2, std::move(*sock));
                                   });
      });
}

std::string dial_error(const Target& t, const error_code& ec) {
  return "dial tcp " + t.text() + ": " + ec.message();
}

// Shared by both modes: parameter checks and the remote-host deny list, then start_session().
class PortPluginBase : public PluginBase {
 public:
  void start() override {
    if (ctx_.document.port_number.empty()) {
      finish(failed("Port number is empty in session properties."));
      return;
    }
    if (ctx_.document.host.empty()) {
      start_session();
      return;
    }
    // The check uses the requested host, not the profile's mapping of it. A name that does not
    // resolve passes, as with the real agent; the dial then fails.
    auto resolver = std::make_shared<tcp::resolver>(ctx_.strand);
    resolver->async_resolve(ctx_.document.host, ctx_.document.port_number,
                            [resolver, weak = weak_self()](error_code ec, tcp::resolver::results_type r) {
                              auto self = weak.lock();
                              if (!self || self->stopped_) return;
                              if (!ec) {
                                for (const auto& entry : r) {
                                  if (denied(entry.endpoint())) {
                                    self->finish(failed("Forwarding to IP address " +
                                                        self->ctx_.document.host + " is forbidden."));
                                    return;
                                  }
                                }
                              }
                              self->start_session();
                            });
  }

 protected:
  explicit PortPluginBase(PluginContext ctx)
      : PluginBase(std::move(ctx)), target_(target_for(ctx_.profile, ctx_.document)) {}

  virtual void start_session() = 0;
  virtual std::weak_ptr<PortPluginBase> weak_self() = 0;

  Target target_;
};

// ---------------------------------------------------------------------------------------------
// Basic mode: one TCP connection, raw bytes both ways.

class BasicPortPlugin final : public PortPluginBase,
                              public std::enable_shared_from_this<BasicPortPlugin> {
 public:
  explicit BasicPortPlugin(PluginContext ctx)
      : PortPluginBase(std::move(ctx)),
        redial_on_eof_(ctx_.document.port_type == kLocalPortForwarding) {}

  bool ready() const override { return started_ && !connecting_; }

  void on_input(const wire::Message& m) override {
    if (m.payload_type == PayloadType::flag) {
      auto flag = wire::decode_flag(m.payload_text());
      if (!flag) return;
      if (*flag == static_cast<std::uint32_t>(wire::FlagValue::terminate_session)) {
        finish(completed());
      } else if (*flag == static_cast<std::uint32_t>(wire::FlagValue::disconnect_to_port)) {
        close_connection();
      }
      return;
    }
    if (m.payload_type != PayloadType::output) return;
    writes_.emplace_back(m.payload_text());
    if (socket_) write_next();
    else connect();  // the next data after a disconnect re-dials
  }

  void on_writable() override {
    if (!waiting_writable_) return;
    waiting_writable_ = false;
    read();
  }

  void stop() override {
    stopped_ = true;
    close_connection();
  }

 private:
  std::weak_ptr<PortPluginBase> weak_self() override { return shared_from_this(); }

  void start_session() override {
    started_ = true;
    connect();
  }

  void connect() {
    if (connecting_ || stopped_) return;
    connecting_ = true;
    dial(ctx_.strand, target_, [self = shared_from_this()](error_code ec, tcp::socket sock) {
      self->connecting_ = false;
      if (self->stopped_) return;
      if (ec) {
        self->finish(failed(dial_error(self->target_, ec)));
        return;
      }
      self->socket_.emplace(std::move(sock));
      ++self->connection_;
      self->read();
      self->write_next();
    });
  }

  void close_connection() {
    if (!socket_) return;
    error_code ignored;
    socket_->close(ignored);
    socket_.reset();
    writes_.clear();
    writing_ = false;
    reading_ = false;
    waiting_writable_ = false;
    ++connection_;
  }

  void read() {
    if (reading_ || !socket_ || stopped_) return;
    auto h = host();
    if (!h) return;
    if (h->output_blocked()) {
      waiting_writable_ = true;
      return;
    }
    reading_ = true;
    socket_->async_read_some(boost::asio::buffer(buf_),
                             [self = shared_from_this(), conn = connection_](error_code ec, std::size_t n) {
                               if (conn != self->connection_ || self->stopped_) return;
                               self->reading_ = false;
                               if (ec) {
                                 self->on_target_closed();
                                 return;
                               }
                               if (auto h2 = self->host()) {
                                 h2->emit(PayloadType::output, {self->buf_.data(), n}, false);
                               }
                               self->read();
                             });
  }

  // LocalPortForwarding keeps the session and re-dials on the next data; SSH-style sessions
  // (no type) end successfully when the target closes.
  void on_target_closed() {
    if (redial_on_eof_) close_connection();
    else finish(completed());
  }

  void write_next() {
    if (writing_ || writes_.empty() || !socket_) return;
    writing_ = true;
    boost::asio::async_write(*socket_, boost::asio::buffer(writes_.front()),
                             [self = shared_from_this(), conn = connection_](error_code ec, std::size_t) {
                               if (conn != self->connection_ || self->stopped_) return;
                               self->writing_ = false;
                               if (ec) {
                                 self->on_target_closed();
                                 return;
                               }
                               self->writes_.pop_front();
                               self->write_next();
                             });
  }

  const bool redial_on_eof_;
  bool started_ = false;
  bool connecting_ = false;
  std::optional<tcp::socket> socket_;
  std::uint64_t connection_ = 0;  // handlers of a closed connection see a newer number and stop
  std::array<char, kStreamChunkSize> buf_{};
  bool reading_ = false;
  bool waiting_writable_ = false;
  std::deque<std::string> writes_;
  bool writing_ = false;
};

// ---------------------------------------------------------------------------------------------
// Multiplexed mode: an smux v1 server; the client opens one stream per local connection.

class MuxPortPlugin final : public PortPluginBase, public std::enable_shared_from_this<MuxPortPlugin> {
 public:
  explicit MuxPortPlugin(PluginContext ctx)
      : PortPluginBase(std::move(ctx)),
        keepalive_(compare_versions(ctx_.client_version, kKeepaliveMaxClientVersion) <= 0),
        keepalive_timer_(ctx_.strand) {}

  bool ready() const override { return started_; }

  void on_input(const wire::Message& m) override {
    if (m.payload_type == PayloadType::flag) {
      auto flag = wire::decode_flag(m.payload_text());
      if (flag && *flag == static_cast<std::uint32_t>(wire::FlagValue::terminate_session)) {
        finish(completed());
      }
      return;
    }
    if (m.payload_type != PayloadType::output) return;
    last_received_ = std::chrono::steady_clock::now();
    start_keepalive();
    reader_.feed(m.payload_text());
    for (;;) {
      auto frame = reader_.next();
      if (!frame) {
        if (frame.error() != wire::Error::smux_incomplete) {
          finish(failed("smux: " + frame.error().message()));
        }
        return;
      }
      on_smux(std::move(*frame));
      if (stopped_ || finished_) return;
    }
  }

  void on_writable() override {
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto id : waiting) {
      if (auto it = streams_.find(id); it != streams_.end()) read(it->second);
    }
  }

  void stop() override {
    stopped_ = true;
    keepalive_timer_.cancel();
    for (auto& [id, s] : streams_) {
      error_code ignored;
      s->sock.close(ignored);
    }
    streams_.clear();
  }

 private:
  struct Stream {
    explicit Stream(const Strand& strand, std::uint32_t sid) : id(sid), sock(strand) {}
    std::uint32_t id;
    tcp::socket sock;
    bool connected = false;
    bool reading = false;
    bool read_closed = false;   // target EOF seen, FIN sent to the client
    bool fin_received = false;  // client FIN: shut the target's send side once writes drain
    bool write_closed = false;
    std::deque<std::string> writes;
    bool writing = false;
    std::array<char, kMuxReadSize> buf{};
  };
  using StreamPtr = std::shared_ptr<Stream>;

  std::weak_ptr<PortPluginBase> weak_self() override { return shared_from_this(); }
  void start_session() override { started_ = true; }

  void send_frame(wire::SmuxCommand cmd, std::uint32_t id, std::string_view data = {}) {
    if (auto h = host()) {
      std::string out;
      if (cmd == wire::SmuxCommand::psh) wire::smux_encode_data(id, data, out);
      else wire::smux_encode(wire::SmuxFrame{cmd, id, {}}, out);
      h->emit(PayloadType::output, out, false);
    }
  }

  void on_smux(wire::SmuxFrame f) {
    switch (f.command) {
      case wire::SmuxCommand::syn: open_stream(f.stream_id); break;
      case wire::SmuxCommand::psh:
        if (auto it = streams_.find(f.stream_id); it != streams_.end() && !it->second->write_closed) {
          it->second->writes.push_back(std::move(f.data));
          write_next(it->second);
        }
        break;
      case wire::SmuxCommand::fin:
        if (auto it = streams_.find(f.stream_id); it != streams_.end()) {
          it->second->fin_received = true;
          write_next(it->second);
        }
        break;
      case wire::SmuxCommand::nop: break;  // keepalive: receiving anything is what counts
    }
  }

  void open_stream(std::uint32_t id) {
    if (streams_.count(id) || !started_) return;
    auto s = std::make_shared<Stream>(ctx_.strand, id);
    streams_.emplace(id, s);
    dial(ctx_.strand, target_, [self = shared_from_this(), s](error_code ec, tcp::socket sock) {
      if (self->stopped_ || !self->streams_.count(s->id)) return;
      if (ec) {
        // The client prints "Connection to destination port failed..." for this flag (§5.3).
        if (auto h = self->host()) {
          h->emit(PayloadType::flag,
                  wire::encode_flag(static_cast<std::uint32_t>(wire::FlagValue::connect_to_port_error)),
                  false);
        }
        self->send_frame(wire::SmuxCommand::fin, s->id);
        self->streams_.erase(s->id);
        return;
      }
      s->sock = std::move(sock);
      s->connected = true;
      self->read(s);
      self->write_next(s);
    });
  }

  void read(const StreamPtr& s) {
    if (!s->connected || s->reading || s->read_closed || stopped_) return;
    auto h = host();
    if (!h) return;
    if (h->output_blocked()) {
      waiting_.push_back(s->id);
      return;
    }
    s->reading = true;
    s->sock.async_read_some(boost::asio::buffer(s->buf),
                            [self = shared_from_this(), s](error_code ec, std::size_t n) {
                              s->reading = false;
                              if (self->stopped_ || !self->streams_.count(s->id)) return;
                              if (ec) {
                                s->read_closed = true;
                                self->send_frame(wire::SmuxCommand::fin, s->id);
                                self->maybe_erase(s);
                                return;
                              }
                              self->send_frame(wire::SmuxCommand::psh, s->id, {s->buf.data(), n});
                              self->read(s);
                            });
  }

  void write_next(const StreamPtr& s) {
    if (!s->connected || s->writing || s->write_closed) return;
    if (s->writes.empty()) {
      if (s->fin_received) {
        error_code ignored;
        s->sock.shutdown(tcp::socket::shutdown_send, ignored);
        s->write_closed = true;
        maybe_erase(s);
      }
      return;
    }
    s->writing = true;
    boost::asio::async_write(s->sock, boost::asio::buffer(s->writes.front()),
                             [self = shared_from_this(), s](error_code ec, std::size_t) {
                               s->writing = false;
                               if (self->stopped_ || !self->streams_.count(s->id)) return;
                               if (ec) {
                                 s->writes.clear();
                                 s->write_closed = true;
                                 if (!s->read_closed) {
                                   s->read_closed = true;
                                   error_code ignored;
                                   s->sock.close(ignored);
                                   self->send_frame(wire::SmuxCommand::fin, s->id);
                                 }
                                 self->maybe_erase(s);
                                 return;
                               }
                               s->writes.pop_front();
                               self->write_next(s);
                             });
  }

  void maybe_erase(const StreamPtr& s) {
    if (!s->read_closed || !s->write_closed || s->writing || s->reading) return;
    error_code ignored;
    s->sock.close(ignored);
    streams_.erase(s->id);
  }

  // Starts with the client's first message, so nothing goes out between HandshakeComplete and it
  // (data-channel.md §11 item 8).
  void start_keepalive() {
    if (!keepalive_ || keepalive_running_) return;
    keepalive_running_ = true;
    arm_keepalive();
  }
  void arm_keepalive() {
    keepalive_timer_.expires_after(kSmuxKeepaliveInterval);
    keepalive_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->stopped_ || self->finished_) return;
      if (std::chrono::steady_clock::now() - self->last_received_ > kSmuxKeepaliveTimeout) {
        self->finish(failed("smux: keepalive timeout"));
        return;
      }
      self->send_frame(wire::SmuxCommand::nop, 0);
      self->arm_keepalive();
    });
  }

  const bool keepalive_;
  boost::asio::steady_timer keepalive_timer_;
  bool keepalive_running_ = false;
  std::chrono::steady_clock::time_point last_received_{};
  bool started_ = false;
  wire::SmuxReader reader_;
  std::map<std::uint32_t, StreamPtr> streams_;
  std::vector<std::uint32_t> waiting_;
};

}  // namespace

std::shared_ptr<SessionPlugin> make_port_plugin(PluginContext ctx) {
  const bool mux = ctx.document.port_type == kLocalPortForwarding &&
                   compare_versions(ctx.client_version, kMuxMinClientVersion) >= 0;
  if (mux) return std::make_shared<MuxPortPlugin>(std::move(ctx));
  return std::make_shared<BasicPortPlugin>(std::move(ctx));
}

}  // namespace mocksvc::agent
