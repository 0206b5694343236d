// Port sessions against real TCP targets on 127.0.0.1:0: the handshake, basic mode, multiplexed
// (smux) mode, dial failures, the remote-host deny list and back-pressure.
#include <gtest/gtest.h>

#include <map>

#include "mocksvc/wire/payloads.hpp"
#include "mocksvc/wire/smux.hpp"
#include "tests/agent/harness.hpp"

namespace mocksvc::agent::test {
namespace {

using wire::PayloadType;
using wire::SmuxCommand;

constexpr std::string_view kOldClient = "1.0.37.0";  // before smux: basic mode

InstanceProfile mapped(std::string key, std::uint16_t port) {
  InstanceProfile p;
  p.port_targets[std::move(key)] = "127.0.0.1:" + std::to_string(port);
  return p;
}

std::string port_doc(std::string_view type = "LocalPortForwarding", std::string_view extra = "") {
  std::string props = R"({"portNumber":"80","type":")" + std::string(type) + "\"" + std::string(extra) + "}";
  return document("Port", props);
}

bool handshake_done(const Harness& h) {
  for (const auto& m : h.delivered) {
    if (m.payload_type == PayloadType::handshake_complete) return true;
  }
  return false;
}

std::string smux(SmuxCommand cmd, std::uint32_t sid, std::string data = "") {
  return wire::smux_encode(wire::SmuxFrame{cmd, sid, std::move(data)});
}

struct MuxView {
  std::map<std::uint32_t, std::string> data;
  std::map<std::uint32_t, bool> fin;
  int nops = 0;
  bool ok = true;
};
MuxView mux_view(const Harness& h) {
  wire::SmuxReader r;
  r.feed(h.text());
  MuxView v;
  for (;;) {
    auto f = r.next();
    if (!f) {
      v.ok = f.error() == wire::Error::smux_incomplete;
      return v;
    }
    if (f->command == SmuxCommand::psh) v.data[f->stream_id] += f->data;
    if (f->command == SmuxCommand::fin) v.fin[f->stream_id] = true;
    if (f->command == SmuxCommand::nop) ++v.nops;
  }
}

TEST(Port, HandshakeCarriesTheDocumentPropertiesWithSortedKeys) {
  Harness h;
  h.auto_handshake = false;
  h.start({}, document("Port", R"({"portNumber":"80","type":"LocalPortForwarding","localPortNumber":"8080"})"));
  ASSERT_TRUE(h.run_until([&] { return !h.delivered.empty(); }));
  EXPECT_EQ(h.frames[0].message_type, "agent_session_state");
  EXPECT_EQ(h.delivered[0].payload_type, PayloadType::handshake_request);
  EXPECT_EQ(h.delivered[0].payload_text(),
            R"({"AgentVersion":"3.3.987.0","RequestedClientActions":[{"ActionType":"SessionType",)"
            R"("ActionParameters":{"SessionType":"Port","Properties":{"localPortNumber":"8080",)"
            R"("portNumber":"80","type":"LocalPortForwarding"}}}]})");
}

TEST(Port, BasicModeRelaysBytesBothWays) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.client_version = kOldClient;
  h.start(mapped("80", echo.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type("ping\n");
  ASSERT_TRUE(h.run_until([&] { return h.text() == "ping\n"; }));
  h.type(std::string(3000, 'z'));
  ASSERT_TRUE(h.run_until([&] { return h.text().size() == 5 + 3000; }));
  EXPECT_EQ(echo.accepted(), 1);
}

TEST(Port, BasicLocalForwardingRedialsAfterDisconnectToPort) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.client_version = kOldClient;
  h.start(mapped("80", echo.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type("one");
  ASSERT_TRUE(h.run_until([&] { return h.text() == "one"; }));
  h.send(PayloadType::flag, wire::encode_flag(1));  // DisconnectToPort
  h.type("two");    // re-dials
  h.type("three");  // arrives while dialing: neither processed nor acked, so the client resends
  ASSERT_TRUE(h.run_until([&] { return h.text() == "onetwothree"; }));
  EXPECT_EQ(echo.accepted(), 2);
  EXPECT_GE(h.agent().stats().not_ready_drops, 1u);
  EXPECT_FALSE(h.end.has_value());
}

TEST(Port, SshStyleSessionEndsWhenTheTargetCloses) {
  Harness h;
  TcpTarget http(h.io(), TcpTarget::Mode::http);
  h.start(mapped("80", http.port()), document("Port", R"({"portNumber":"80"})"));
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type("GET / HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.text(), TcpTarget::http_response());
  EXPECT_EQ(h.end->final_status, "Success");
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

TEST(Port, TerminateSessionFlagEndsTheSession) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.client_version = kOldClient;
  h.start(mapped("80", echo.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.send(PayloadType::flag, wire::encode_flag(2));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->reason, SessionEnd::Reason::completed);
  EXPECT_EQ(h.end->final_status, "Success");
}

TEST(Port, BasicDialFailureFailsTheSession) {
  Harness h;
  const auto port = closed_port(h.io());
  h.client_version = kOldClient;
  h.start(mapped("80", port), port_doc());
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.end->output.rfind("dial tcp 127.0.0.1:" + std::to_string(port) + ": ", 0), 0u) << h.end->output;
}

TEST(Port, EmptyPortNumberFailsAfterTheHandshake) {
  Harness h;
  h.start({}, document("Port", R"({"portNumber":"","type":"LocalPortForwarding"})"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->output, "Port number is empty in session properties.");
  EXPECT_TRUE(handshake_done(h));
}

TEST(Port, MuxHttpRequestReturnsTheResponse) {
  Harness h;
  TcpTarget http(h.io(), TcpTarget::Mode::http);
  h.start(mapped("80", http.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type(smux(SmuxCommand::syn, 3) + smux(SmuxCommand::psh, 3, "GET / HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(h.run_until([&] { return mux_view(h).fin[3]; }));
  auto v = mux_view(h);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.data[3], TcpTarget::http_response());
  EXPECT_EQ(v.nops, 0);  // the client is newer than 1.2.331.0: no keepalive
  h.type(smux(SmuxCommand::fin, 3));
  h.run_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(h.end.has_value());
}

TEST(Port, MuxFramesSplitAcrossMessagesAndStreamsStayApart) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.start(mapped("80", echo.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  std::string wire_bytes = smux(SmuxCommand::syn, 3) + smux(SmuxCommand::syn, 5) +
                           smux(SmuxCommand::psh, 3, "three") + smux(SmuxCommand::psh, 5, "five") +
                           smux(SmuxCommand::fin, 3);
  for (std::size_t i = 0; i < wire_bytes.size(); i += 7) h.type(wire_bytes.substr(i, 7));
  ASSERT_TRUE(h.run_until([&] {
    auto v = mux_view(h);
    return v.data[3] == "three" && v.data[5] == "five" && v.fin[3];
  }));
  auto v = mux_view(h);
  EXPECT_FALSE(v.fin[5]);
  EXPECT_EQ(echo.accepted(), 2);
}

TEST(Port, MuxClosedPortSendsConnectToPortErrorAndFin) {
  Harness h;
  h.start(mapped("80", closed_port(h.io())), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type(smux(SmuxCommand::syn, 3));
  ASSERT_TRUE(h.run_until([&] { return mux_view(h).fin[3]; }));
  EXPECT_EQ(h.text(PayloadType::flag), std::string("\0\0\0\3", 4));
  EXPECT_FALSE(h.end.has_value());  // the session survives a failed stream
}

TEST(Port, MuxSendsNothingBetweenHandshakeCompleteAndTheClientsFirstMessage) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.client_version = "1.2.0.0";  // keepalive on (<= 1.2.331.0): still nothing before the client
  h.start(mapped("80", echo.port()), port_doc());
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  const auto n = h.frames_of("output_stream_data").size();
  h.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(h.frames_of("output_stream_data").size(), n);
  EXPECT_EQ(n, 2u);  // HandshakeRequest, HandshakeComplete
}

TEST(Port, RemoteHostOnTheDenyListIsRefused) {
  Harness h;
  h.start({}, port_doc("LocalPortForwarding", R"(,"host":"169.254.169.254")"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }));
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_EQ(h.end->output, "Forwarding to IP address 169.254.169.254 is forbidden.");
}

TEST(Port, RemoteHostIsDialedThroughTheProfileMap) {
  Harness h;
  TcpTarget echo(h.io(), TcpTarget::Mode::echo);
  h.client_version = kOldClient;
  h.start(mapped("localhost:80", echo.port()), port_doc("LocalPortForwarding", R"(,"host":"localhost")"));
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  h.type("remote");
  ASSERT_TRUE(h.run_until([&] { return h.text() == "remote"; }));
}

TEST(Port, BackPressureStopsReadingTheTargetUntilAcksArrive) {
  Harness h;
  constexpr std::size_t kBytes = 1 << 20;
  TcpTarget flood(h.io(), TcpTarget::Mode::flood, kBytes);
  h.client_version = kOldClient;
  SessionOptions o;
  o.backpressure_messages = 50;
  bool holding = true;
  std::vector<wire::Message> held;
  h.drop_to_agent = [&](const wire::Message& m) {
    if (!holding || m.message_type != "acknowledge") return false;
    auto a = wire::parse_acknowledge(m.payload_text());
    if (!a || a->acknowledged_message_sequence_number < 2) return false;  // let the handshake through
    held.push_back(m);
    return true;
  };
  h.start(mapped("80", flood.port()), port_doc(), o);
  ASSERT_TRUE(h.run_until([&] { return handshake_done(h); }));
  ASSERT_TRUE(h.run_until([&] { return h.agent().stats().unacked >= 50; }));
  h.run_for(std::chrono::milliseconds(200));
  auto s = h.agent().stats();
  EXPECT_LE(s.unacked + s.queued, 51u);
  EXPECT_LT(h.text().size(), kBytes / 4);
  holding = false;
  for (const auto& m : held) h.send_raw(m);
  held.clear();
  ASSERT_TRUE(h.run_until([&] { return h.text().size() >= kBytes; }, 30s))
      << "got " << h.text().size() << " unacked " << h.agent().stats().unacked << " queued "
      << h.agent().stats().queued << " resent " << h.agent().stats().resent << " held " << held.size()
      << " client unacked " << h.client().unacked_count() << " buffered " << h.client().buffered_count();
  EXPECT_EQ(h.text(), TcpTarget::flood_pattern(kBytes));
}

}  // namespace
}  // namespace mocksvc::agent::test
