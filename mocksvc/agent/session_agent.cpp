#include "mocksvc/agent/session_agent.hpp"

#include <deque>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "mocksvc/agent/document.hpp"
#include "mocksvc/agent/plugin.hpp"
#include "mocksvc/agent/utf8.hpp"
#include "mocksvc/base/log.hpp"
#include "mocksvc/stream/reliable_stream.hpp"

namespace mocksvc::agent {
namespace {

using boost::system::error_code;
using stream::Clock;
using wire::PayloadType;

constexpr std::string_view kLog = "agent";

// "Handshake timed out..." is the real agent's text for a missing HandshakeResponse (§6.1).
constexpr std::string_view kHandshakeTimeoutText =
    "Handshake timed out. Please ensure that you have the latest version of the session manager "
    "plugin.";

class DataChannelAgent final : public SessionAgent,
                               public PluginHost,
                               public std::enable_shared_from_this<DataChannelAgent> {
 public:
  DataChannelAgent(Strand strand, InstanceProfile profile, wire::InteractiveShellTask task,
                   SendFrame send, OnEnd on_end, SessionOptions options)
      : strand_(std::move(strand)),
        profile_(std::move(profile)),
        task_(std::move(task)),
        send_(std::move(send)),
        on_end_(std::move(on_end)),
        options_(options),
        document_(parse_session_document(task_.document_content_json)),
        stream_(stream::Settings::agent()),
        tick_timer_(strand_),
        handshake_timer_(strand_),
        drain_timer_(strand_),
        quiet_timer_(strand_) {}

  ~DataChannelAgent() override {
    if (plugin_) plugin_->stop();
  }

  void start() override;
  void on_frame(wire::ByteView frame) override;
  void stop() override;
  SessionStats stats() const override;

  // PluginHost
  void emit(PayloadType type, std::string_view bytes, bool utf8) override;
  bool output_blocked() const override;
  void finish(SessionEnd end) override;

 private:
  enum class Phase { created, handshaking, running, draining, ended };
  struct Pending {
    PayloadType type;
    std::string payload;
    bool is_handshake_complete = false;
  };

  bool over() const { return phase_ == Phase::ended; }
  void write(const wire::Message& m);
  void send_session_state(std::string_view state);
  void enqueue(PayloadType type, std::string payload, bool is_handshake_complete = false);
  void pump();
  void arm_tick();
  void on_tick();
  void on_input(wire::Message m);
  void on_ack(const wire::Message& m);
  void handle_handshake_response(const wire::Message& m);
  void start_plugin();
  void fail(std::string output);
  void maybe_terminate();
  void terminate();
  void notify_writable();
  void shut_down();
  void report(SessionEnd end);

  Strand strand_;
  InstanceProfile profile_;
  wire::InteractiveShellTask task_;
  SendFrame send_;
  OnEnd on_end_;
  SessionOptions options_;
  Result<SessionDocument> document_;
  stream::ReliableStream stream_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer handshake_timer_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer quiet_timer_;
  bool tick_armed_ = false;

  Phase phase_ = Phase::created;
  std::deque<Pending> queue_;
  // Set once HandshakeComplete is written; cleared post_handshake_quiet after its ack.
  bool hold_output_ = false;
  std::optional<std::int64_t> handshake_complete_seq_;
  Clock::time_point handshake_started_;
  std::string client_version_;
  std::shared_ptr<SessionPlugin> plugin_;
  std::optional<SessionEnd> end_;
  bool reported_ = false;
  SessionStats stats_;
};

void DataChannelAgent::start() {
  if (phase_ != Phase::created) return;
  if (!document_) {
    base::log(base::LogLevel::warn, kLog, "session ", task_.session_id,
              ": document refused: ", document_.error().message());
    phase_ = Phase::ended;
    report(SessionEnd{SessionEnd::Reason::bad_document, "Failed", document_.error().message()});
    return;
  }
  send_session_state("Connected");
  if (!requires_handshake(document_->session_type)) {
    phase_ = Phase::running;
    start_plugin();
    return;
  }
  phase_ = Phase::handshaking;
  handshake_started_ = Clock::now();
  wire::HandshakeRequest request;
  request.agent_version = profile_.agent_version;
  request.requested_client_actions.push_back(
      {"SessionType", wire::session_type_action_parameters(to_string(document_->session_type),
                                                           document_->handshake_properties_json)});
  enqueue(PayloadType::handshake_request, request.to_json());
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->phase_ != Phase::handshaking) return;
    self->fail(std::string(kHandshakeTimeoutText));
  });
}

void DataChannelAgent::on_frame(wire::ByteView frame) {
  if (over()) return;
  // The real agent checks neither the digest nor the payload length (agent.md §4), and takes
  // NUL-padded types too.
  auto decoded = wire::decode(frame, wire::DecodeMode::trusting);
  if (!decoded) {
    ++stats_.bad_frames;
    return;
  }
  wire::Message& m = decoded->message;
  if (m.message_type == wire::msg::kInputStreamData) {
    on_input(std::move(m));
  } else if (m.message_type == wire::msg::kAcknowledge) {
    on_ack(m);
  } else if (m.message_type == wire::msg::kChannelClosed) {
    // Like the real agent: the plugin is killed and no Terminating goes out (agent.md §5.2).
    shut_down();
    report(SessionEnd{SessionEnd::Reason::channel_closed, "Success", ""});
  } else if (m.message_type == wire::msg::kPausePublication) {
    stream_.set_paused(true);
  } else if (m.message_type == wire::msg::kStartPublication) {
    stream_.set_paused(false);
    pump();
    notify_writable();
  } else {
    ++stats_.bad_frames;
  }
}

void DataChannelAgent::stop() {
  if (over()) return;
  shut_down();
}

SessionStats DataChannelAgent::stats() const {
  SessionStats s = stats_;
  const auto& c = stream_.counters();
  s.data_sent = c.sent;
  s.resent = c.resent;
  s.acks_received = c.acked;
  s.delivered = c.delivered;
  s.duplicates = c.duplicates_received;
  s.not_ready_drops = c.dropped_not_ready;
  s.unacked = stream_.unacked_count();
  s.queued = queue_.size();
  return s;
}

void DataChannelAgent::write(const wire::Message& m) {
  ++stats_.frames_sent;
  if (send_) send_(wire::encode(m));
}

// agent_session_state and acknowledge: Seq 0, Flags SYN|FIN, PayloadType 0 (agent.md §4).
void DataChannelAgent::send_session_state(std::string_view state) {
  wire::AgentSessionState s;
  s.session_state = std::string(state);
  s.session_id = task_.session_id;
  write(wire::make_message(wire::msg::kAgentSessionState, 0, wire::kFlagSyn | wire::kFlagFin,
                           PayloadType::none, s.to_json()));
}

void DataChannelAgent::enqueue(PayloadType type, std::string payload, bool is_handshake_complete) {
  queue_.push_back(Pending{type, std::move(payload), is_handshake_complete});
  pump();
}

void DataChannelAgent::pump() {
  if (over()) return;
  const auto now = Clock::now();
  while (!queue_.empty() && !stream_.paused() && !hold_output_) {
    Pending& p = queue_.front();
    auto sent = stream_.send(p.type, p.payload, now);
    if (!sent) break;  // 100 000 unacked: wait for acks
    write(sent->message);
    if (p.is_handshake_complete) {
      handshake_complete_seq_ = sent->message.sequence_number;
      hold_output_ = true;
    }
    queue_.pop_front();
  }
  arm_tick();
  maybe_terminate();
}

void DataChannelAgent::arm_tick() {
  if (tick_armed_ || over() || stream_.unacked_count() == 0) return;
  tick_armed_ = true;
  tick_timer_.expires_after(stream::kTickInterval);
  tick_timer_.async_wait([self = shared_from_this()](error_code ec) {
    self->tick_armed_ = false;
    if (ec) return;
    self->on_tick();
  });
}

void DataChannelAgent::on_tick() {
  if (over()) return;
  auto tick = stream_.on_tick(Clock::now());
  if (tick.resend) write(*tick.resend);
  arm_tick();
}

void DataChannelAgent::on_input(wire::Message m) {
  ++stats_.data_received;
  // Before the handshake completes everything is taken (and discarded unless it is the
  // response); afterwards the plugin decides whether it can take data yet.
  bool ready = true;
  if (phase_ == Phase::running) ready = plugin_ && plugin_->ready();
  auto in = stream_.on_incoming(std::move(m), ready);
  if (in.ack) {
    ++stats_.acks_sent;
    write(*in.ack);
  }
  for (auto& msg : in.deliver) {
    if (over()) break;
    if (phase_ == Phase::handshaking) {
      if (msg.payload_type == PayloadType::handshake_response) handle_handshake_response(msg);
      else ++stats_.discarded;  // EncChallengeResponse is irrelevant: no KMS
    } else if (phase_ == Phase::running && plugin_) {
      plugin_->on_input(msg);
    } else {
      ++stats_.discarded;
    }
  }
  // Input also clears a pause (agent.md §6.2).
  pump();
  notify_writable();
}

void DataChannelAgent::on_ack(const wire::Message& m) {
  auto ack = wire::parse_acknowledge(m.payload_text());
  if (!ack) {
    stream_.on_ack(m, Clock::now());  // counted as malformed; still clears a pause
    pump();
    return;
  }
  const std::int64_t seq = ack->acknowledged_message_sequence_number;
  stream_.on_ack(seq, Clock::now());
  if (hold_output_ && handshake_complete_seq_ == seq) {
    quiet_timer_.expires_after(options_.post_handshake_quiet);
    quiet_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->over()) return;
      self->hold_output_ = false;
      self->pump();
      self->notify_writable();
    });
  }
  pump();
  notify_writable();
}

void DataChannelAgent::handle_handshake_response(const wire::Message& m) {
  auto resp = wire::parse_handshake_response(m.payload_text());
  if (!resp) {
    fail("Handshake failed: the HandshakeResponse did not parse: " + resp.error().message());
    return;
  }
  for (const auto& a : resp->processed_client_actions) {
    if (a.action_status != static_cast<int>(wire::ActionStatus::success)) {
      fail("Handshake failed: the client reported action " + a.action_type + " as failed: " + a.error);
      return;
    }
  }
  handshake_timer_.cancel();
  client_version_ = resp->client_version;
  wire::HandshakeComplete done;
  done.handshake_time_to_complete_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - handshake_started_).count();
  phase_ = Phase::running;
  enqueue(PayloadType::handshake_complete, done.to_json(), /*is_handshake_complete=*/true);
  start_plugin();
}

void DataChannelAgent::start_plugin() {
  PluginContext ctx{strand_, std::weak_ptr<PluginHost>(shared_from_this()), profile_, *document_,
                    client_version_};
  plugin_ = make_session_plugin(std::move(ctx));
  plugin_->start();
}

// The session cannot go on: report Failed after Terminating, as a plugin failure does.
void DataChannelAgent::fail(std::string output) {
  base::log(base::LogLevel::info, kLog, "session ", task_.session_id, " failed: ", output);
  finish(SessionEnd{SessionEnd::Reason::failed, "Failed", std::move(output)});
}

void DataChannelAgent::emit(PayloadType type, std::string_view bytes, bool utf8) {
  if (phase_ != Phase::running) return;
  if (bytes.empty()) return;
  for (auto piece : split_chunks(bytes, kStreamChunkSize, utf8)) {
    queue_.push_back(Pending{type, std::string(piece), false});
  }
  pump();
}

bool DataChannelAgent::output_blocked() const {
  return over() || stream_.paused() ||
         queue_.size() + stream_.unacked_count() >= options_.backpressure_messages;
}

void DataChannelAgent::finish(SessionEnd end) {
  if (phase_ != Phase::running && phase_ != Phase::handshaking) return;
  handshake_timer_.cancel();
  phase_ = Phase::draining;
  end_ = std::move(end);
  drain_timer_.expires_after(options_.drain_timeout);
  drain_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->phase_ != Phase::draining) return;
    self->terminate();
  });
  // Output the plugin queued before finishing still goes out and must drain; a post-handshake
  // hold still applies to it.
  pump();
  maybe_terminate();
}

void DataChannelAgent::maybe_terminate() {
  if (phase_ == Phase::draining && queue_.empty() && stream_.unacked_count() == 0) terminate();
}

void DataChannelAgent::terminate() {
  if (phase_ != Phase::draining) return;
  send_session_state("Terminating");
  shut_down();
  report(end_.value_or(SessionEnd{}));
}

void DataChannelAgent::notify_writable() {
  if (phase_ == Phase::running && plugin_ && !output_blocked()) plugin_->on_writable();
}

void DataChannelAgent::shut_down() {
  phase_ = Phase::ended;
  tick_timer_.cancel();
  handshake_timer_.cancel();
  drain_timer_.cancel();
  quiet_timer_.cancel();
  queue_.clear();
  if (plugin_) plugin_->stop();
}

void DataChannelAgent::report(SessionEnd end) {
  if (reported_ || !on_end_) return;
  reported_ = true;
  boost::asio::post(strand_, [cb = std::move(on_end_), e = std::move(end)]() mutable { cb(std::move(e)); });
}

}  // namespace

std::shared_ptr<SessionAgent> SessionAgent::create(Strand strand, InstanceProfile profile,
                                                   wire::InteractiveShellTask task, SendFrame send,
                                                   OnEnd on_end, SessionOptions options) {
  return std::make_shared<DataChannelAgent>(std::move(strand), std::move(profile), std::move(task),
                                            std::move(send), std::move(on_end), options);
}

std::shared_ptr<SessionPlugin> make_session_plugin(PluginContext context) {
  if (context.document.session_type == SessionType::port) return make_port_plugin(std::move(context));
  return make_shell_plugin(std::move(context));
}

}  // namespace mocksvc::agent
