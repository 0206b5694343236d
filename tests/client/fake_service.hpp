// A scripted Session Manager service and agent for client tests, built from the frame codec and
// the ReliableStream in the agent role. It serves a ClientSession's Dialer and ControlPlane and
// joins the two ends with an in-memory link per direction that can lose, duplicate, delay and
// reorder frames (seeded). Everything runs on the Scheduler it is given (virtual or Asio time).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "mocksvc/client/scheduler.hpp"
#include "mocksvc/client/session.hpp"
#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::client::testing {

using namespace std::chrono_literals;

struct LinkFaults {
  double loss = 0;
  double duplicate = 0;
  Duration min_delay = 1ms;
  Duration max_delay = 1ms;
};

// A frame the client wrote, as the service saw it.
struct SeenFrame {
  TimePoint at;
  int connection;
  wire::Message message;
};

class FakeService {
 public:
  FakeService(Scheduler& scheduler, std::uint32_t seed);
  ~FakeService();

  Dialer dialer();
  ControlPlane control_plane();

  // ---- knobs ----
  LinkFaults to_client;
  LinkFaults to_agent;
  int fail_next_dials = 0;
  std::deque<ResumeResult> resume_replies;  // empty: a fresh token "token-<n>"
  bool agent_acks = true;                   // the agent acks client stream data
  bool agent_resends = true;                // the agent's 100 ms resend timer
  // Called with each in-order client payload the agent receives.
  std::function<void(wire::PayloadType, std::string_view)> on_agent_input;

  // ---- agent actions ----
  wire::Message send(wire::PayloadType type, std::string_view payload);
  void send_output(std::string_view text) { send(wire::PayloadType::output, text); }
  // HandshakeRequest with a SessionType action (+ extra actions as {type, parameters JSON}).
  void send_handshake_request(std::string_view session_type, std::string_view properties_json,
                              std::string_view agent_version = "3.3.987.0",
                              std::vector<std::pair<std::string, std::string>> extra = {});
  void send_handshake_complete(std::string_view customer_message = "");
  // Writes a message as is, outside the agent's stream (no numbering, no retransmission).
  void send_raw(const wire::Message& m);
  void send_bytes(wire::Bytes bytes);
  void send_channel_closed(std::string_view output);
  // The socket dies: in-flight frames are lost and the client sees closed().
  void drop_connection();
  // One failed read reported to the client.
  void fail_read();

  // ---- observations ----
  bool connected() const { return connected_; }
  int connections() const { return connection_; }
  const std::vector<std::string>& dialed_urls() const { return dialed_urls_; }
  const std::vector<std::string>& open_frames() const { return open_frames_; }
  const std::vector<SeenFrame>& client_frames() const { return client_frames_; }
  const std::vector<TimePoint>& resume_calls() const { return resume_calls_; }
  int terminate_calls() const { return terminate_calls_; }
  int transport_closes() const { return transport_closes_; }
  // In-order client stream messages, as the agent delivered them.
  const std::vector<wire::Message>& agent_received() const { return agent_received_; }
  std::string agent_received_output() const;
  stream::ReliableStream& agent_stream() { return agent_; }
  // Client stream messages (input_stream_data) the client wrote with this sequence number.
  std::vector<SeenFrame> client_stream_frames(std::int64_t seq) const;
  // Sequence numbers the client acknowledged, in order.
  std::vector<std::int64_t> client_acks() const;

 private:
  struct Link {
    std::map<std::tuple<TimePoint, std::uint64_t>, wire::Bytes> in_flight;
    std::unique_ptr<Timer> timer;
  };
  void write(Link& link, const LinkFaults& faults, wire::Bytes bytes, bool to_client_side);
  void arm(Link& link, bool to_client_side);
  void deliver_due(Link& link, bool to_client_side);
  void on_client_frame(const wire::Bytes& bytes);
  void on_tick();
  bool chance(double p);

  Scheduler& scheduler_;
  std::mt19937 rng_;
  stream::ReliableStream agent_;
  std::shared_ptr<ConnectionEvents> events_;
  bool connected_ = false;
  int connection_ = 0;
  std::uint64_t order_ = 0;
  Link down_;  // service -> client
  Link up_;    // client -> service
  std::unique_ptr<Timer> tick_timer_;
  int tokens_issued_ = 1;

  std::vector<std::string> dialed_urls_;
  std::vector<std::string> open_frames_;
  std::vector<SeenFrame> client_frames_;
  std::vector<TimePoint> resume_calls_;
  int terminate_calls_ = 0;
  int transport_closes_ = 0;
  std::vector<wire::Message> agent_received_;
};

// A SessionHandler that records what the engine gives it.
class RecordingHandler final : public SessionHandler {
 public:
  bool started = false;
  bool stopped = false;
  bool is_ready = true;
  bool accepts = true;
  HandlerContext* ctx = nullptr;
  std::vector<std::pair<wire::PayloadType, std::string>> payloads;

  void start(HandlerContext& c) override {
    ctx = &c;
    started = true;
  }
  bool ready() const override { return is_ready; }
  bool accepts_stream_data() const override { return accepts; }
  void on_payload(wire::PayloadType type, std::string_view payload) override {
    payloads.emplace_back(type, std::string(payload));
  }
  void stop() override { stopped = true; }
  std::string text() const {
    std::string s;
    for (const auto& p : payloads) s += p.second;
    return s;
  }
};

}  // namespace mocksvc::client::testing
