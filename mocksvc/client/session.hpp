// ClientSession: the client end of one Session Manager data channel, as session-manager-plugin
// 1.2.677 runs it (data-channel.md §3-§9): OpenDataChannel, the reliable stream in the client
// role, the handshake, session-type selection, reconnection through ResumeSession, the resend
// limit's TerminateSession call and channel_closed. Sockets, HTTP and signing stay outside: the
// engine talks to a Dialer (one WebSocket attempt per call) and a ControlPlane (the two SSM API
// calls), both asynchronous by callback.
//
// Runs on one strand: its Scheduler's. Every member function, every ConnectionEvents call and
// every ControlPlane completion must run there (post to it from elsewhere). Events of a
// connection the session has moved on from are ignored, as are completions after destruction.
// Do not destroy the session from inside one of its own callbacks (on_finished included): post.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mocksvc/client/handler.hpp"
#include "mocksvc/client/scheduler.hpp"
#include "mocksvc/client/version.hpp"
#include "mocksvc/stream/reliable_stream.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::client {

struct StartSessionArgs;

// One open data-channel WebSocket, as the engine uses it. send_* queue one frame each (the
// transport keeps one writer at a time); close() ends the connection without further events.
struct Transport {
  std::function<void(std::string)> send_text;  // the OpenDataChannel frame
  std::function<void(wire::Bytes)> send_binary;
  std::function<void()> close;
};

class ClientSession;

// What a dial attempt reports back, on the session's strand. Exactly one of opened()/failed()
// first; after opened(), any number of received()/read_failed(), and closed() when the socket is
// gone for good. Both text and binary frames go to received() (§3.3). Ping/pong is the
// transport's business (§3.3: a "keepalive" ping at connect and every 5 minutes).
class ConnectionEvents {
 public:
  struct Anchor {
    ClientSession* session;
  };
  ConnectionEvents(std::weak_ptr<Anchor> anchor, std::uint64_t id) : anchor_(std::move(anchor)), id_(id) {}

  void opened(Transport transport);
  void failed(std::string_view reason);
  void received(wire::ByteView frame);
  // One failed read. The plugin counts consecutive failures and recovers at 5 (§8).
  void read_failed();
  // The socket is gone (close frame, EOF, reset): gorilla repeats the error instantly, so this
  // counts as all remaining read failures at once.
  void closed();

 private:
  ClientSession* session() const;
  std::weak_ptr<Anchor> anchor_;
  std::uint64_t id_;
};

// Opens one WebSocket to `url` and reports through `events`.
using Dialer = std::function<void(const std::string& url, std::shared_ptr<ConnectionEvents> events)>;

struct ResumeResult {
  bool call_failed = false;                // the API call failed (after SDK retries): retried
  std::optional<std::string> token_value;  // absent, null or empty: "Session: <id> timed out."
  std::optional<std::string> stream_url;
};

// The SSM API calls the plugin makes on argv[6]'s endpoint (§2). Completions run on the strand.
struct ControlPlane {
  std::function<void(const std::string& session_id, std::function<void(ResumeResult)> done)>
      resume_session;
  std::function<void(const std::string& session_id)> terminate_session;
};

// Where a reconnect dials (§2, §14): 1.2.677 ignores ResumeSession's StreamUrl; the 2026 client
// line uses it when non-empty.
enum class ReconnectTarget { original_url, returned_url };

struct SessionConfig {
  std::string session_id;
  std::string token_value;
  std::string stream_url;
  std::string target;
  std::string region;
  bool cli_upgrade_needed = false;  // legacy 4-argument start: KMSEncryption fails (§6.3)
  std::string client_version = std::string(kDefaultClientVersion);  // empty: field omitted
  std::string client_id;  // empty: process_client_id(), one per process like the plugin
  ReconnectTarget reconnect_target = ReconnectTarget::original_url;
  // Seeds the retry base delay d = U[100,200) ms (§8); unset draws from std::random_device.
  std::optional<std::uint64_t> seed;
  // The handler-not-ready window (§7.1): time between learning the session type and the
  // handler taking messages; in-order output arriving then is dropped unacked. 0 = none.
  Duration handler_start_delay{0};
  // The plugin drops what its handlers send while the socket is down (the send fails). True
  // keeps it in the unacked list instead, resent head-first by the resend timer once back.
  bool keep_input_while_disconnected = false;
  // After 6 failed attempts the plugin keeps running dead (issue #135). True finishes (exit 1).
  bool finish_when_reconnect_fails = false;
  // The error text of the refused KMSEncryption action; empty uses a default.
  std::string kms_error;
  bool print_starting_line = true;

  static SessionConfig from_args(const StartSessionArgs& args);
};

struct SessionHooks {
  Dialer dial;
  ControlPlane control;
  HandlerFactory make_handler;
  std::function<void(std::string_view)> print;  // the program's stdout; empty discards
  std::function<void(int exit_code)> on_finished;
};

struct SessionCounters {
  std::uint64_t dials = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t reconnects = 0;  // successful re-opens after the first
  std::uint64_t resume_calls = 0;
  std::uint64_t terminate_calls = 0;
  std::uint64_t recoveries_given_up = 0;
  std::uint64_t frames_received = 0;
  std::uint64_t frames_rejected = 0;  // failed the plugin's validation: dropped, no ack
  std::uint64_t frames_sent = 0;
  std::uint64_t dropped_while_disconnected = 0;  // handler sends lost with the socket down
  std::uint64_t dropped_stream_not_set = 0;      // output discarded by accepts_stream_data()
  std::uint64_t unknown_message_types = 0;
};

// The per-process ClientId (a random v4 UUID, §1.3).
const std::string& process_client_id();

// Consecutive failed reads before recovery, retry attempts and their delays (§8).
inline constexpr int kReadFailureThreshold = 5;
inline constexpr int kMaxConnectAttempts = 6;
inline constexpr auto kRetryBaseMin = std::chrono::milliseconds(100);
inline constexpr auto kRetryBaseMax = std::chrono::milliseconds(200);  // exclusive
inline constexpr auto kMaxRetryDelay = std::chrono::seconds(5);

class ClientSession : private HandlerContext {
 public:
  ClientSession(Scheduler& scheduler, SessionConfig config, SessionHooks hooks);
  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Prints the "Starting session" line, starts the resend timer and dials the StreamUrl.
  void start();
  // Routes a control key to the handler; false when none took it (no handler yet, or the
  // handler has no use for it): the program then applies the signal's default.
  bool on_control_signal(ControlSignal signal);
  // Ends the session from outside (e.g. the program is told to quit), like HandlerContext::finish.
  void stop(int exit_code) { finish(exit_code); }

  bool finished() const { return finished_; }
  int exit_code() const { return exit_code_; }
  bool connected() const { return open_; }
  const std::string& session_id() const override { return config_.session_id; }
  const std::string& agent_version() const override { return agent_version_; }
  const std::string& session_type() const { return session_type_; }
  const std::string& client_id() const { return client_id_; }
  const std::string& current_url() const { return url_; }
  const std::string& current_token() const { return token_; }
  Duration retry_base_delay() const { return retry_base_; }
  SessionHandler* handler() const { return handler_started_ ? handler_.get() : nullptr; }
  const stream::ReliableStream& stream() const { return stream_; }
  const SessionCounters& counters() const { return counters_; }

 private:
  friend class ConnectionEvents;

  // HandlerContext
  Scheduler& scheduler() override { return scheduler_; }
  bool send_output(std::string_view bytes) override;
  bool send_size(std::uint32_t cols, std::uint32_t rows) override;
  bool send_flag(wire::FlagValue flag) override;
  void print(std::string_view text) override;
  void finish(int exit_code) override;
  void terminate_session() override;

  // Connection events (id = the attempt they belong to).
  void on_opened(std::uint64_t id, Transport transport);
  void on_failed(std::uint64_t id, std::string_view reason);
  void on_frame(std::uint64_t id, wire::ByteView frame);
  void on_read_failed(std::uint64_t id, int failures);

  void dial();
  void begin_recovery(bool resume);
  void run_attempt();
  void on_resumed(std::uint64_t generation, ResumeResult result);
  void attempt_failed();
  void close_transport();

  void arm_tick();
  void on_tick();
  bool send_stream(wire::PayloadType type, std::string_view payload);
  void write(const wire::Message& m);

  void on_output_stream_data(wire::Message m);
  void process(wire::Message m);
  void handle_handshake_request(const wire::Message& m);
  void handle_handshake_complete(const wire::Message& m);
  void handle_channel_closed(const wire::Message& m);
  void schedule_handler_start();
  void start_handler();

  Scheduler& scheduler_;
  SessionConfig config_;
  SessionHooks hooks_;
  std::string client_id_;
  std::string token_;
  std::string url_;
  Duration retry_base_;
  stream::ReliableStream stream_;
  std::shared_ptr<ConnectionEvents::Anchor> anchor_;

  std::unique_ptr<Timer> tick_timer_;
  TimePoint tick_origin_{};  // start(): the resend scheduler's ticks fall on origin + k x interval
  bool tick_armed_ = false;
  std::unique_ptr<Timer> retry_timer_;
  std::unique_ptr<Timer> handler_timer_;

  std::uint64_t connection_id_ = 0;
  std::optional<Transport> transport_;
  bool open_ = false;
  bool ever_opened_ = false;
  int read_failures_ = 0;
  bool recovering_ = false;
  bool resume_ = false;
  int attempt_ = 0;
  std::uint64_t recovery_generation_ = 0;

  bool type_known_ = false;
  std::string session_type_;
  std::string requested_type_;
  std::string properties_json_ = "null";
  std::string agent_version_;
  bool handler_scheduled_ = false;
  bool handler_started_ = false;
  std::unique_ptr<SessionHandler> handler_;
  std::deque<wire::Message> pending_;  // delivered before the handler started

  bool finished_ = false;
  int exit_code_ = 0;
  SessionCounters counters_;
};

}  // namespace mocksvc::client
