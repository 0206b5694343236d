// An in-memory client for driving a SessionAgent: the client end of the reliable stream
// (stream::ReliableStream in the client role) and the frame codec, joined to the agent by a link
// that posts every frame, can drop frames in either direction and records everything the agent
// sent. Plus small TCP targets on 127.0.0.1:0. Everything runs on one io_context in the test
// thread; waits are run_until(predicate, timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/agent/session_agent.hpp"
#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::agent::test {

using namespace std::chrono_literals;

// {"schemaVersion":"1.0","sessionType":<type>,"inputs":<inputs>,"properties":<properties>}
std::string document(std::string_view session_type, std::string_view properties = "{}",
                     std::string_view inputs = "{}");

class Harness {
 public:
  Harness();
  ~Harness();

  // Creates and starts the agent for session "sess-1" on instance "i-0123456789abcdef0".
  void start(InstanceProfile profile, std::string document_json, SessionOptions options = {});

  // Runs the io_context until pred() holds or the timeout passes; returns pred().
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s);
  // Runs for a fixed time (to show that something does NOT happen).
  void run_for(std::chrono::milliseconds d);

  // Client stream messages to the agent (numbered, resent by the client's 100 ms tick).
  void send(wire::PayloadType type, std::string_view payload);
  void type(std::string_view keys) { send(wire::PayloadType::output, keys); }
  // A frame outside the client's stream (channel_closed, pause_publication, a duplicate...).
  void send_raw(const wire::Message& m);

  // Agent -> client frames, decoded strictly (as the official client checks them), in order.
  std::vector<wire::Message> frames;
  // output_stream_data messages the client stream delivered, in sequence order.
  std::vector<wire::Message> delivered;
  // Input messages the client sent, in order (for re-sending duplicates).
  std::vector<wire::Message> sent;
  std::optional<SessionEnd> end;
  std::size_t frames_at_end = 0;  // frames.size() when OnEnd ran

  // Concatenated payloads of delivered messages of one type (PT 1 by default).
  std::string text(wire::PayloadType type = wire::PayloadType::output) const;
  std::vector<const wire::Message*> frames_of(std::string_view message_type) const;
  bool has_session_state(std::string_view state) const;

  // Link behaviour, settable at any time.
  std::function<bool(const wire::Message&)> drop_to_client;
  std::function<bool(const wire::Message&)> drop_to_agent;
  bool client_acks = true;        // ack output_stream_data as the client stream says
  bool client_ready = true;       // the client's handler-not-ready drop (no ack, no delivery)
  bool auto_handshake = true;     // answer a HandshakeRequest with success
  std::string client_version = "1.2.677.0";
  int handshake_action_status = 1;

  boost::asio::io_context& io() { return ioc_; }
  SessionAgent::Strand strand() { return strand_; }
  SessionAgent& agent() { return *agent_; }
  stream::ReliableStream& client() { return client_; }

 private:
  void on_agent_frame(const wire::Bytes& bytes);
  void to_agent(const wire::Message& m);
  void arm_client_tick();

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  SessionAgent::Strand strand_;
  std::shared_ptr<SessionAgent> agent_;
  stream::ReliableStream client_;
  boost::asio::steady_timer client_tick_;
  bool closed_ = false;
};

// A TCP target on 127.0.0.1:0: echo (writes back what it reads), http (answers one request with a
// fixed response and closes), or flood (writes `flood_bytes` of a counting pattern, then closes).
class TcpTarget {
 public:
  enum class Mode { echo, http, flood };
  TcpTarget(boost::asio::io_context& io, Mode mode, std::size_t flood_bytes = 0);
  ~TcpTarget();
  std::uint16_t port() const { return port_; }
  int accepted() const { return *accepted_; }
  static std::string http_response();
  static std::string flood_pattern(std::size_t n);

 private:
  void accept();
  boost::asio::ip::tcp::acceptor acceptor_;
  Mode mode_;
  std::size_t flood_bytes_;
  std::uint16_t port_ = 0;
  std::shared_ptr<int> accepted_ = std::make_shared<int>(0);
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
};

// A port on 127.0.0.1 that nothing listens on (bound, read back, then closed).
std::uint16_t closed_port(boost::asio::io_context& io);

}  // namespace mocksvc::agent::test
