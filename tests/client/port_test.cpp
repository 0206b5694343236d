// Port forwarding through a real local listener on 127.0.0.1 (port chosen by the kernel) with
// test TCP clients, the engine on an Asio strand and the scripted agent answering as an smux
// server (multiplexed) or an echo (basic) (data-channel.md §10.2-§10.4).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/client/port.hpp"
#include "mocksvc/client/strand_scheduler.hpp"
#include "mocksvc/wire/smux.hpp"
#include "tests/client/fake_context.hpp"
#include "tests/client/harness.hpp"

namespace mocksvc::client::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using wire::PayloadType;
using wire::SmuxCommand;

std::string hex_bytes(std::string_view hex) {
  auto b = *base::from_hex(hex);
  return std::string(b.begin(), b.end());
}

constexpr const char* kForwarding = R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"0"})";

struct TestClient {
  TestClient(asio::io_context& io, std::uint16_t port) : socket(io) {
    socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    read();
  }
  void read() {
    socket.async_read_some(asio::buffer(buf), [this](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        eof = true;
        return;
      }
      received.append(buf.data(), n);
      read();
    });
  }
  void write(std::string_view data) { asio::write(socket, asio::buffer(data)); }
  void close() {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
  tcp::socket socket;
  std::array<char, 4096> buf{};
  std::string received;
  bool eof = false;
};

// The engine on a strand of a one-thread io_context, run by the test in short slices.
struct PortHarness {
  asio::io_context io;
  StrandScheduler scheduler{io.get_executor()};
  FakeService service{scheduler, 11};
  std::string out;
  std::optional<int> exit_code;
  std::unique_ptr<ClientSession> session;
  std::vector<std::pair<PayloadType, std::string>> agent_inputs;
  std::vector<wire::SmuxFrame> agent_frames;  // smux frames the agent received
  wire::SmuxReader agent_reader;
  bool mux = false;

  ~PortHarness() {
    session.reset();
    io.restart();
    io.poll();
  }

  bool run_until(const std::function<bool()>& pred, std::chrono::seconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io.restart();
      io.run_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  // The agent: an smux server echoing "echo:" + data (mux), or an upper-casing echo (basic).
  void agent_input(PayloadType t, std::string_view p) {
    agent_inputs.emplace_back(t, std::string(p));
    if (t != PayloadType::output) return;
    if (!mux) {
      std::string up(p);
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      service.send_output(up);
      return;
    }
    agent_reader.feed(p);
    for (auto f = agent_reader.next(); f; f = agent_reader.next()) {
      agent_frames.push_back(*f);
      if (f->command == SmuxCommand::psh) {
        service.send_output(wire::smux_encode({SmuxCommand::psh, f->stream_id, "echo:" + f->data}));
      }
    }
  }

  std::uint16_t start(std::string_view agent_version, std::string_view properties = kForwarding) {
    service.on_agent_input = [this](PayloadType t, std::string_view p) { agent_input(t, p); };
    SessionHooks hooks;
    hooks.dial = service.dialer();
    hooks.control = service.control_plane();
    hooks.print = [this](std::string_view s) { out.append(s); };
    hooks.on_finished = [this](int code) { exit_code = code; };
    hooks.make_handler = [this](const SessionTypeInfo& info) {
      PortOptions o;
      o.executor = scheduler.executor();
      o.listen_host = "127.0.0.1";
      return make_port_handler(info, std::move(o));
    };
    session = std::make_unique<ClientSession>(scheduler, Harness::default_config(), std::move(hooks));
    session->start();
    EXPECT_TRUE(run_until([&] { return session->connected(); }));
    service.send_handshake_request("Port", properties, agent_version);
    EXPECT_TRUE(run_until([&] { return session->session_type() == "Port"; }));
    service.send_handshake_complete();
    std::smatch m;
    static const std::regex opened(R"(Port (\d+) opened for sessionId sess-1\.)");
    EXPECT_TRUE(run_until([&] { return std::regex_search(out, m, opened); }));
    return std::regex_search(out, m, opened) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
  }

  std::vector<std::string> agent_outputs() const {
    std::vector<std::string> v;
    for (const auto& [t, p] : agent_inputs) {
      if (t == PayloadType::output) v.push_back(p);
    }
    return v;
  }
  int agent_flags(wire::FlagValue flag) const {
    int n = 0;
    for (const auto& [t, p] : agent_inputs) {
      if (t == PayloadType::flag && p == wire::encode_flag(static_cast<std::uint32_t>(flag))) ++n;
    }
    return n;
  }
  bool agent_saw(SmuxCommand cmd, std::uint32_t id) const {
    for (const auto& f : agent_frames) {
      if (f.command == cmd && f.stream_id == id) return true;
    }
    return false;
  }
};

TEST(MuxPort, ForwardsConnectionsAsSmuxStreams) {
  PortHarness h;
  h.mux = true;
  const std::uint16_t port = h.start("3.3.987.0");
  ASSERT_NE(port, 0);
  EXPECT_EQ(h.out,
            "\nStarting session with SessionId: sess-1\nPort " + std::to_string(port) +
                " opened for sessionId sess-1.\nWaiting for connections...\n");

  TestClient a(h.io, port);
  a.write("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return a.received == "echo:GET / HTTP/1.0\r\n\r\n"; }));
  auto outputs = h.agent_outputs();
  ASSERT_GE(outputs.size(), 2u);
  EXPECT_EQ(outputs[0], hex_bytes("0100000003000000"));  // SYN, stream 3
  EXPECT_EQ(outputs[1], hex_bytes("0102120003000000") + "GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(h.out.find("\nConnection accepted for session [sess-1]\n"), std::string::npos);

  TestClient b(h.io, port);
  b.write("second");
  ASSERT_TRUE(h.run_until([&] { return b.received == "echo:second"; }));
  EXPECT_TRUE(h.agent_saw(SmuxCommand::syn, 5));
  // Printed once per session, not per connection.
  EXPECT_EQ(h.out.find("Connection accepted"), h.out.rfind("Connection accepted"));

  a.close();
  ASSERT_TRUE(h.run_until([&] { return h.agent_saw(SmuxCommand::fin, 3); }));

  h.service.send_output(wire::smux_encode({SmuxCommand::fin, 5, ""}));
  ASSERT_TRUE(h.run_until([&] { return b.eof && h.agent_saw(SmuxCommand::fin, 5); }));
  EXPECT_FALSE(h.session->finished());
}

TEST(MuxPort, ReportsConnectToPortError) {
  PortHarness h;
  h.mux = true;
  h.start("3.3.987.0");
  h.service.send(PayloadType::flag, wire::encode_flag(3));
  ASSERT_TRUE(h.run_until([&] {
    return h.out.find("\nConnection to destination port failed, check SSM Agent logs.\n") !=
           std::string::npos;
  }));
}

TEST(MuxPort, ControlKeyTerminatesTheSession) {
  PortHarness h;
  h.mux = true;
  h.start("3.3.987.0");
  EXPECT_TRUE(h.session->on_control_signal(ControlSignal::interrupt));
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_TRUE(h.out.ends_with(
      "Terminate signal received, exiting.\n\n\nExiting session with sessionId: sess-1.\n\n"));
  // The flag was written before the transport closed.
  bool flag_written = false;
  for (const auto& f : h.service.client_frames()) {
    if (f.message.payload_type == PayloadType::flag &&
        f.message.payload_text() == std::string("\0\0\0\2", 4)) {
      flag_written = true;
    }
  }
  EXPECT_TRUE(flag_written);
}

TEST(BasicPort, ForwardsOneConnectionAtATime) {
  PortHarness h;
  const std::uint16_t port = h.start("3.0.196.0");
  ASSERT_NE(port, 0);
  EXPECT_TRUE(h.out.ends_with("Port " + std::to_string(port) + " opened for sessionId sess-1.\n"));

  // Before the first local connection the plugin drops output unacked; the agent resends it.
  h.service.send_output("early ");
  ASSERT_TRUE(h.run_until([&] { return h.session->counters().dropped_stream_not_set > 0; }));
  EXPECT_EQ(h.service.client_acks(), (std::vector<std::int64_t>{0, 1}));

  TestClient a(h.io, port);
  ASSERT_TRUE(h.run_until([&] { return a.received == "early "; }));
  EXPECT_TRUE(h.out.ends_with("Connection accepted for session sess-1.\n"));
  a.write("ping");
  ASSERT_TRUE(h.run_until([&] { return a.received == "early PING"; }));
  EXPECT_EQ(h.agent_outputs().at(0), "ping");

  a.close();
  ASSERT_TRUE(h.run_until([&] { return h.agent_flags(wire::FlagValue::disconnect_to_port) == 1; }));

  TestClient b(h.io, port);
  b.write("again");
  ASSERT_TRUE(h.run_until([&] { return b.received == "AGAIN"; }));
  EXPECT_EQ(h.out.find("Connection accepted"), h.out.rfind("Connection accepted"));
}

TEST(BasicPort, ControlKeyUsesTheFlagOrTheApiByAgentVersion) {
  asio::io_context io;
  ManualScheduler sched;
  for (const auto& [agent, flag] : {std::pair{"3.0.196.0", true}, std::pair{"2.3.722.0", false}}) {
    FakeContext ctx(sched, agent);
    SessionTypeInfo info{"Port", "Port", kForwarding, agent};
    PortOptions o;
    o.executor = io.get_executor();
    o.listen_host = "127.0.0.1";
    auto port = make_port_handler(info, std::move(o));
    port->start(ctx);
    EXPECT_TRUE(port->on_control_signal(ControlSignal::interrupt));
    if (flag) {
      EXPECT_EQ(ctx.of_type(PayloadType::flag), (std::vector<std::string>{std::string("\0\0\0\2", 4)}));
      EXPECT_EQ(ctx.exit_code, 0);
    } else {
      EXPECT_TRUE(ctx.of_type(PayloadType::flag).empty());
      EXPECT_EQ(ctx.terminate_calls, 1);
      EXPECT_FALSE(ctx.exit_code);
    }
    port->stop();
  }
}

TEST(MuxPort, SendsKeepAliveOnlyToOldAgents) {
  asio::io_context io;
  for (const auto& [agent, nops] : {std::pair{"3.1.1511.0", 2}, std::pair{"3.1.1512.0", 0}}) {
    ManualScheduler sched;
    FakeContext ctx(sched, agent);
    SessionTypeInfo info{"Port", "Port", kForwarding, agent};
    PortOptions o;
    o.executor = io.get_executor();
    o.listen_host = "127.0.0.1";
    auto port = make_mux_port_handler(info, std::move(o));
    port->start(ctx);
    // NOPs at 10 s and 20 s; nothing received in the first 30 s, so smux closes the session.
    sched.advance(std::chrono::seconds(60));
    int seen = 0;
    for (const auto& p : ctx.of_type(PayloadType::output)) {
      EXPECT_EQ(p, hex_bytes("0103000000000000"));
      ++seen;
    }
    EXPECT_EQ(seen, nops) << agent;
    port->stop();
  }
}

TEST(Port, ReportsAListenFailure) {
  asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto busy = taken.local_endpoint().port();
  ManualScheduler sched;
  FakeContext ctx(sched);
  const std::string props = R"({"type":"LocalPortForwarding","localPortNumber":")" +
                            std::to_string(busy) + R"("})";
  PortOptions o;
  o.executor = io.get_executor();
  o.listen_host = "127.0.0.1";
  auto port = make_port_handler(SessionTypeInfo{"Port", "Port", props, "3.3.987.0"}, std::move(o));
  port->start(ctx);
  EXPECT_EQ(ctx.exit_code, 0);
  EXPECT_TRUE(ctx.printed.starts_with("Cannot perform start session: listen tcp 127.0.0.1:" +
                                      std::to_string(busy) + ": "))
      << ctx.printed;
}

TEST(Port, ChoosesTheModeFromPropertiesAndAgentVersion) {
  auto lpf = parse_port_properties(R"({"type":"LocalPortForwarding","localPortNumber":8080,"portNumber":"22"})");
  EXPECT_EQ(lpf.local_port_number, "");  // not a string: ignored, as Go's unmarshal leaves it
  EXPECT_EQ(lpf.port_number, "22");
  EXPECT_EQ(choose_port_mode(lpf, "3.0.196.1"), PortMode::multiplexed);
  EXPECT_EQ(choose_port_mode(lpf, "3.0.196.0"), PortMode::basic);
  EXPECT_EQ(choose_port_mode(parse_port_properties(R"({"portNumber":"22"})"), "3.3.987.0"),
            PortMode::stdio);
  EXPECT_EQ(choose_port_mode(parse_port_properties("null"), "3.3.987.0"), PortMode::stdio);
}

}  // namespace
}  // namespace mocksvc::client::testing
