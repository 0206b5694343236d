#include "mocksvc/client/port.hpp"

#include <charconv>
#include <cstdlib>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/client/smux_client.hpp"
#include "mocksvc/client/version.hpp"

namespace mocksvc::client {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using base::LogLevel;
constexpr std::string_view kLog = "client.port";

// One accepted local connection. Shared with its pending reads and writes, so the socket lives
// until they complete even after the handler let go of it.
struct LocalConn {
  LocalConn(const asio::any_io_executor& ex, std::size_t read_size) : socket(ex), buf(read_size) {}
  tcp::socket socket;
  std::vector<char> buf;
  std::deque<std::string> out;
  bool writing = false;
  bool close_when_drained = false;
  bool closed = false;
  std::uint32_t stream_id = 0;

  void close() {
    if (closed) return;
    closed = true;
    out.clear();
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};
using ConnPtr = std::shared_ptr<LocalConn>;

std::string resolve_listen_host(const std::string& configured) {
  if (!configured.empty()) return configured;
  const char* env = std::getenv(std::string(kLocalHostEnvVar).c_str());
  return env && *env ? std::string(env) : std::string("localhost");
}

// The listener and the local sockets' plumbing shared by basic and multiplexed modes. Pending
// operations capture a weak reference to `alive_`, so they never touch a destroyed handler.
class ListenerHandler : public LocalPortHandler {
 public:
  ListenerHandler(const SessionTypeInfo& info, PortOptions options)
      : properties_(parse_port_properties(info.properties_json)),
        options_(std::move(options)),
        acceptor_(options_.executor) {}
  // Derived destructors call shutdown(): it reaches their connections through close_all().
  ~ListenerHandler() override = default;

  std::uint16_t local_port() const override { return port_; }

 protected:
  // Opens the listener and prints "Port <p> opened for sessionId <id>."; on failure prints
  // the plugin's "Cannot perform start session" line and ends the session.
  bool listen(HandlerContext& ctx) {
    ctx_ = &ctx;
    const std::string text =
        properties_.local_port_number.empty() ? std::string("0") : properties_.local_port_number;
    std::uint16_t port = 0;
    auto [end, perr] = std::from_chars(text.data(), text.data() + text.size(), port);
    boost::system::error_code ec;
    if (perr != std::errc() || end != text.data() + text.size()) {
      ec = asio::error::invalid_argument;
    }
    const std::string host = resolve_listen_host(options_.listen_host);
    tcp::endpoint endpoint;
    if (!ec) {
      if (host == "localhost") {
        endpoint = tcp::endpoint(asio::ip::address_v4::loopback(), port);
      } else {
        auto address = asio::ip::make_address(host, ec);
        if (!ec) {
          endpoint = tcp::endpoint(address, port);
        } else {
          tcp::resolver resolver(options_.executor);
          auto results = resolver.resolve(host, text, ec);
          if (!ec && !results.empty()) endpoint = results.begin()->endpoint();
        }
      }
    }
    if (!ec) acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port_ = acceptor_.local_endpoint(ec).port();
    if (ec) {
      ctx.print("Cannot perform start session: listen tcp " + host + ":" + text + ": " +
                ec.message() + "\n");
      ctx.finish(0);
      return false;
    }
    return true;
  }

  void accept_next() {
    if (stopped_) return;
    auto conn = std::make_shared<LocalConn>(options_.executor, read_size());
    acceptor_.async_accept(conn->socket, [this, alive = std::weak_ptr<bool>(alive_),
                                          conn](const boost::system::error_code& ec) {
      if (alive.expired() || stopped_) return;
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        base::log(LogLevel::warn, kLog, "accept failed: ", ec.message());
        accept_next();
        return;
      }
      on_accepted(conn);
    });
  }

  void read(ConnPtr conn) {
    if (conn->closed) return;
    conn->socket.async_read_some(
        asio::buffer(conn->buf),
        [this, alive = std::weak_ptr<bool>(alive_), conn](const boost::system::error_code& ec,
                                                           std::size_t n) {
          if (alive.expired() || stopped_ || conn->closed) return;
          if (ec) {
            on_local_closed(conn);
            return;
          }
          on_local_data(conn, std::string_view(conn->buf.data(), n));
          read(conn);
        });
  }

  void enqueue(ConnPtr conn, std::string_view data) {
    if (conn->closed || conn->close_when_drained || data.empty()) return;
    conn->out.emplace_back(data);
    if (!conn->writing) write_next(conn);
  }

  // Closes the connection once everything queued is written; then calls on_drained_close().
  void close_after_drain(ConnPtr conn) {
    conn->close_when_drained = true;
    if (!conn->writing) write_next(conn);
  }

  HandlerContext* ctx_ = nullptr;
  PortProperties properties_;
  PortOptions options_;
  bool stopped_ = false;

  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    close_all();
  }

 private:
  virtual std::size_t read_size() const = 0;
  virtual void on_accepted(ConnPtr conn) = 0;
  virtual void on_local_data(ConnPtr conn, std::string_view data) = 0;
  virtual void on_local_closed(ConnPtr conn) = 0;
  virtual void on_drained_close(ConnPtr) {}
  virtual void close_all() = 0;

  void write_next(ConnPtr conn) {
    if (conn->closed) return;
    if (conn->out.empty()) {
      conn->writing = false;
      if (conn->close_when_drained) {
        conn->close();
        on_drained_close(conn);
      }
      return;
    }
    conn->writing = true;
    asio::async_write(conn->socket, asio::buffer(conn->out.front()),
                      [this, alive = std::weak_ptr<bool>(alive_), conn](
                          const boost::system::error_code& ec, std::size_t) {
                        if (alive.expired() || conn->closed) return;
                        if (ec) {
                          conn->out.clear();
                          conn->writing = false;
                          return;  // the read side reports the loss
                        }
                        conn->out.pop_front();
                        write_next(conn);
                      });
  }

  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

// ---- basic (§10.3) ------------------------------------------------------------------------

class BasicPortHandler final : public ListenerHandler {
 public:
  using ListenerHandler::ListenerHandler;
  ~BasicPortHandler() override { shutdown(); }

  PortMode mode() const override { return PortMode::basic; }
  std::size_t open_connections() const override { return conn_ ? 1 : 0; }

  void start(HandlerContext& ctx) override {
    if (!listen(ctx)) return;
    ctx.print("Port " + std::to_string(local_port()) + " opened for sessionId " +
              ctx.session_id() + ".\n");
    accept_next();
  }

  // The plugin drops every output message until its first local connection exists, and fails
  // (no ack) those arriving between connections.
  bool accepts_stream_data() const override { return ever_connected_; }
  bool ready() const override { return conn_ != nullptr; }

  // Basic mode writes every payload raw to the connection, whatever its type.
  void on_payload(wire::PayloadType, std::string_view payload) override {
    if (conn_) enqueue(conn_, payload);
  }

  bool on_control_signal(ControlSignal) override {
    if (!ctx_ || stopped_) return false;
    ctx_->print("Terminate signal received, exiting.\n");
    if (agent_supports_terminate_flag(ctx_->agent_version())) {
      ctx_->send_flag(wire::FlagValue::terminate_session);
      ctx_->print("\n\nExiting session with sessionId: " + ctx_->session_id() + ".\n\n");
      ctx_->finish(0);
    } else {
      ctx_->terminate_session();
    }
    return true;
  }

  void stop() override { shutdown(); }

 private:
  std::size_t read_size() const override { return options_.basic_read_size; }

  void on_accepted(ConnPtr conn) override {
    if (!ever_connected_) {
      ctx_->print("Connection accepted for session " + ctx_->session_id() + ".\n");
    }
    ever_connected_ = true;
    conn_ = conn;
    read(conn);  // one connection at a time: the next accept waits for this one to end
  }

  void on_local_data(ConnPtr, std::string_view data) override { ctx_->send_output(data); }

  void on_local_closed(ConnPtr conn) override {
    if (conn != conn_) return;
    ctx_->send_flag(wire::FlagValue::disconnect_to_port);
    conn->close();
    conn_.reset();
    accept_next();
  }

  void close_all() override {
    if (conn_) conn_->close();
    conn_.reset();
  }

  ConnPtr conn_;
  bool ever_connected_ = false;
};

// ---- multiplexed (§10.4) ------------------------------------------------------------------

class MuxPortHandler final : public ListenerHandler {
 public:
  MuxPortHandler(const SessionTypeInfo& info, PortOptions options)
      : ListenerHandler(info, std::move(options)),
        smux_(SmuxClient::Callbacks{
            [this](std::string_view bytes) {
              if (ctx_) ctx_->send_output(bytes);
            },
            [this](std::uint32_t id, std::string_view data) {
              if (auto it = conns_.find(id); it != conns_.end()) enqueue(it->second, data);
            },
            [this](std::uint32_t id) {
              if (auto it = conns_.find(id); it != conns_.end()) close_after_drain(it->second);
            },
            [this] { close_all(); },
        }) {}
  ~MuxPortHandler() override { shutdown(); }

  PortMode mode() const override { return PortMode::multiplexed; }
  std::size_t open_connections() const override { return conns_.size(); }
  const SmuxClient& smux() const { return smux_; }

  void start(HandlerContext& ctx) override {
    if (!listen(ctx)) return;
    ctx.print("Port " + std::to_string(local_port()) + " opened for sessionId " +
              ctx.session_id() + ".");
    ctx.print("\nWaiting for connections...\n");
    if (!agent_supports_disabling_keepalive(ctx.agent_version())) {
      nop_timer_ = ctx.scheduler().make_timer();
      timeout_timer_ = ctx.scheduler().make_timer();
      arm_keepalive();
    }
    accept_next();
  }

  void on_payload(wire::PayloadType type, std::string_view payload) override {
    if (type == wire::PayloadType::output) {
      smux_.on_bytes(payload);
    } else if (type == wire::PayloadType::flag) {
      auto flag = wire::decode_flag(payload);
      if (flag && *flag == static_cast<std::uint32_t>(wire::FlagValue::connect_to_port_error)) {
        // The flag names no stream: the agent's FIN on that stream closes the connection.
        ctx_->print("\nConnection to destination port failed, check SSM Agent logs.\n");
      }
    }
  }

  bool on_control_signal(ControlSignal) override {
    if (!ctx_ || stopped_) return false;
    ctx_->print("Terminate signal received, exiting.\n");
    ctx_->send_flag(wire::FlagValue::terminate_session);
    ctx_->print("\n\nExiting session with sessionId: " + ctx_->session_id() + ".\n\n");
    ctx_->finish(0);
    return true;
  }

  void stop() override {
    if (nop_timer_) nop_timer_->cancel();
    if (timeout_timer_) timeout_timer_->cancel();
    shutdown();
  }

 private:
  std::size_t read_size() const override { return options_.mux_read_size; }

  void arm_keepalive() {
    nop_timer_->start(kSmuxKeepAliveInterval, [this] { send_nop(); });
    timeout_timer_->start(kSmuxKeepAliveTimeout, [this] { check_alive(); });
  }
  void send_nop() {
    smux_.send_nop();
    if (!smux_.dead()) nop_timer_->start(kSmuxKeepAliveInterval, [this] { send_nop(); });
  }
  void check_alive() {
    if (!smux_.take_data_ready()) {
      base::log(LogLevel::warn, kLog, "smux keep-alive timeout, closing all streams");
      smux_.kill();
      nop_timer_->cancel();
      return;
    }
    timeout_timer_->start(kSmuxKeepAliveTimeout, [this] { check_alive(); });
  }

  void on_accepted(ConnPtr conn) override {
    if (!printed_accept_) {
      printed_accept_ = true;
      ctx_->print("\nConnection accepted for session [" + ctx_->session_id() + "]\n");
    }
    const std::uint32_t id = smux_.open_stream();
    if (id == 0) {
      conn->close();
    } else {
      conn->stream_id = id;
      conns_[id] = conn;
      read(conn);
    }
    accept_next();
  }

  void on_local_data(ConnPtr conn, std::string_view data) override {
    smux_.write(conn->stream_id, data);
  }

  // Local EOF or error: smux's Stream.Close sends FIN, then the copy in the other direction
  // stops and the local socket is closed, unread replies included (the plugin's io.Copy pair).
  void on_local_closed(ConnPtr conn) override {
    const std::uint32_t id = conn->stream_id;
    smux_.close_stream(id);
    conn->close();
    conns_.erase(id);
  }

  void on_drained_close(ConnPtr conn) override {
    const std::uint32_t id = conn->stream_id;
    smux_.close_stream(id);
    conns_.erase(id);
  }

  void close_all() override {
    for (auto& [id, conn] : conns_) conn->close();
    conns_.clear();
  }

  SmuxClient smux_;
  std::map<std::uint32_t, ConnPtr> conns_;
  bool printed_accept_ = false;
  std::unique_ptr<Timer> nop_timer_;
  std::unique_ptr<Timer> timeout_timer_;
};

}  // namespace

PortProperties parse_port_properties(std::string_view text) {
  PortProperties p;
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return p;
  auto str = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  str("portNumber", p.port_number);
  str("localPortNumber", p.local_port_number);
  str("localUnixSocket", p.local_unix_socket);
  str("localConnectionType", p.local_connection_type);
  str("type", p.type);
  str("host", p.host);
  return p;
}

PortMode choose_port_mode(const PortProperties& properties, std::string_view agent_version) {
  if (properties.type != kLocalPortForwardingType) return PortMode::stdio;
  return agent_supports_multiplexing(agent_version) ? PortMode::multiplexed : PortMode::basic;
}

std::unique_ptr<LocalPortHandler> make_basic_port_handler(const SessionTypeInfo& info,
                                                          PortOptions options) {
  return std::make_unique<BasicPortHandler>(info, std::move(options));
}

std::unique_ptr<LocalPortHandler> make_mux_port_handler(const SessionTypeInfo& info,
                                                        PortOptions options) {
  return std::make_unique<MuxPortHandler>(info, std::move(options));
}

std::unique_ptr<SessionHandler> make_port_handler(const SessionTypeInfo& info,
                                                  PortOptions options) {
  switch (choose_port_mode(parse_port_properties(info.properties_json), info.agent_version)) {
    case PortMode::basic:
      return make_basic_port_handler(info, std::move(options));
    case PortMode::multiplexed:
      return make_mux_port_handler(info, std::move(options));
    case PortMode::stdio:
      break;
  }
  return std::make_unique<StdioPortHandler>(std::move(options.stdio));
}

}  // namespace mocksvc::client
