#include "mocksvc/client/session.hpp"

#include <random>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/base/uuid.hpp"
#include "mocksvc/client/args.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::client {
namespace {

using base::LogLevel;
using wire::PayloadType;
constexpr std::string_view kLog = "client";

// Handshake action types and statuses (§6.2).
constexpr std::string_view kActionSessionType = "SessionType";
constexpr std::string_view kActionKms = "KMSEncryption";
constexpr int kStatusSuccess = 1;
constexpr int kStatusFailed = 2;
constexpr int kResultUnsupported = 3;

constexpr std::string_view kCliUpgradeError =
    "Installed version of CLI does not support Session Manager encryption feature. Please "
    "upgrade to the latest version of your CLI (e.g., AWS CLI).";
constexpr std::string_view kDefaultKmsError =
    "Error calling KMS GenerateDataKey API: this client does not call AWS KMS";

bool is_handshake_payload(PayloadType t) {
  return t == PayloadType::handshake_request || t == PayloadType::handshake_complete ||
         t == PayloadType::enc_challenge_request;
}

Duration draw_retry_base(const std::optional<std::uint64_t>& seed) {
  std::mt19937_64 rng(seed ? *seed : std::random_device{}());
  std::uniform_int_distribution<std::int64_t> ms(kRetryBaseMin.count(), kRetryBaseMax.count() - 1);
  return std::chrono::milliseconds(ms(rng));
}

struct SessionTypeRequest {
  std::string session_type;
  std::string properties_json = "null";
};

// Go unmarshals ActionParameters leniently: a malformed object leaves the fields empty.
SessionTypeRequest parse_session_type_request(std::string_view text) {
  SessionTypeRequest r;
  auto j = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return r;
  if (auto it = j.find("SessionType"); it != j.end() && it->is_string()) {
    r.session_type = it->get<std::string>();
  }
  if (auto it = j.find("Properties"); it != j.end()) r.properties_json = it->dump();
  return r;
}

}  // namespace

// ---- ConnectionEvents ---------------------------------------------------------------------

ClientSession* ConnectionEvents::session() const {
  auto anchor = anchor_.lock();
  return anchor ? anchor->session : nullptr;
}

void ConnectionEvents::opened(Transport transport) {
  if (auto* s = session()) {
    s->on_opened(id_, std::move(transport));
  } else if (transport.close) {
    transport.close();
  }
}
void ConnectionEvents::failed(std::string_view reason) {
  if (auto* s = session()) s->on_failed(id_, reason);
}
void ConnectionEvents::received(wire::ByteView frame) {
  if (auto* s = session()) s->on_frame(id_, frame);
}
void ConnectionEvents::read_failed() {
  if (auto* s = session()) s->on_read_failed(id_, 1);
}
void ConnectionEvents::closed() {
  if (auto* s = session()) s->on_read_failed(id_, kReadFailureThreshold);
}

// ---- configuration ------------------------------------------------------------------------

const std::string& process_client_id() {
  static const std::string id = base::random_uuid_string();
  return id;
}

SessionConfig SessionConfig::from_args(const StartSessionArgs& a) {
  SessionConfig c;
  c.session_id = a.session_id;
  c.token_value = a.token_value;
  c.stream_url = a.stream_url;
  c.target = a.target;
  c.region = a.region;
  c.cli_upgrade_needed = a.cli_upgrade_needed;
  return c;
}

// ---- lifetime -----------------------------------------------------------------------------

ClientSession::ClientSession(Scheduler& scheduler, SessionConfig config, SessionHooks hooks)
    : scheduler_(scheduler),
      config_(std::move(config)),
      hooks_(std::move(hooks)),
      client_id_(config_.client_id.empty() ? process_client_id() : config_.client_id),
      token_(config_.token_value),
      url_(config_.stream_url),
      retry_base_(draw_retry_base(config_.seed)),
      stream_(stream::Settings::client()),
      anchor_(std::make_shared<ConnectionEvents::Anchor>(ConnectionEvents::Anchor{this})),
      tick_timer_(scheduler.make_timer()),
      retry_timer_(scheduler.make_timer()),
      handler_timer_(scheduler.make_timer()) {}

ClientSession::~ClientSession() {
  anchor_->session = nullptr;
  if (!finished_) {
    finished_ = true;
    if (handler_started_) handler_->stop();
    close_transport();
  }
}

void ClientSession::start() {
  if (config_.print_starting_line) print(starting_session_line(config_.session_id));
  tick_origin_ = scheduler_.now();
  recovering_ = true;
  resume_ = false;
  attempt_ = 1;
  dial();
}

void ClientSession::finish(int exit_code) {
  if (finished_) return;
  finished_ = true;
  exit_code_ = exit_code;
  tick_timer_->cancel();
  retry_timer_->cancel();
  handler_timer_->cancel();
  if (handler_started_) handler_->stop();
  close_transport();
  ++connection_id_;
  base::log(LogLevel::debug, kLog, config_.session_id, ": finished, exit code ", exit_code);
  if (hooks_.on_finished) hooks_.on_finished(exit_code);
}

void ClientSession::print(std::string_view text) {
  if (hooks_.print) hooks_.print(text);
}

bool ClientSession::on_control_signal(ControlSignal signal) {
  if (finished_ || !handler_started_) return false;
  return handler_->on_control_signal(signal);
}

// ---- connection and recovery (§8) ---------------------------------------------------------

void ClientSession::dial() {
  auto events = std::make_shared<ConnectionEvents>(anchor_, ++connection_id_);
  ++counters_.dials;
  if (!hooks_.dial) {
    scheduler_.post([events] { events->failed("no dialer"); });
    return;
  }
  hooks_.dial(url_, std::move(events));
}

void ClientSession::close_transport() {
  open_ = false;
  if (!transport_) return;
  Transport t = std::move(*transport_);
  transport_.reset();
  if (t.close) t.close();
}

void ClientSession::on_opened(std::uint64_t id, Transport transport) {
  if (finished_ || id != connection_id_) {
    if (transport.close) transport.close();
    return;
  }
  transport_ = std::move(transport);
  open_ = true;
  read_failures_ = 0;
  recovering_ = false;
  retry_timer_->cancel();
  ++counters_.connections_opened;
  if (ever_opened_) ++counters_.reconnects;
  ever_opened_ = true;

  wire::OpenDataChannel hello;
  hello.variant = wire::OpenDataChannel::Variant::client;
  hello.request_id = base::random_uuid_string();
  hello.token_value = token_;
  hello.client_id = client_id_;
  if (!config_.client_version.empty()) hello.client_version = config_.client_version;
  base::log(LogLevel::debug, kLog, config_.session_id, ": connected to ", url_);
  if (transport_->send_text) transport_->send_text(hello.to_json());
}

void ClientSession::on_failed(std::uint64_t id, std::string_view reason) {
  if (finished_ || id != connection_id_ || open_) return;
  base::log(LogLevel::info, kLog, config_.session_id, ": connect attempt ", attempt_,
            " failed: ", reason);
  attempt_failed();
}

void ClientSession::on_read_failed(std::uint64_t id, int failures) {
  if (finished_ || id != connection_id_ || !open_) return;
  read_failures_ += failures;
  if (read_failures_ < kReadFailureThreshold) return;
  base::log(LogLevel::info, kLog, config_.session_id, ": ", read_failures_,
            " failed reads, resuming the session");
  begin_recovery(/*resume=*/true);
}

void ClientSession::begin_recovery(bool resume) {
  open_ = false;  // sends fail from here on, as on the plugin's broken socket
  recovering_ = true;
  resume_ = resume;
  attempt_ = 0;
  ++recovery_generation_;
  run_attempt();
}

void ClientSession::run_attempt() {
  if (finished_) return;
  ++attempt_;
  if (!resume_) {
    close_transport();
    dial();
    return;
  }
  ++counters_.resume_calls;
  if (!hooks_.control.resume_session) {
    attempt_failed();
    return;
  }
  std::weak_ptr<ConnectionEvents::Anchor> anchor = anchor_;
  const std::uint64_t generation = recovery_generation_;
  hooks_.control.resume_session(config_.session_id, [anchor, generation](ResumeResult r) {
    if (auto a = anchor.lock(); a && a->session) a->session->on_resumed(generation, std::move(r));
  });
}

void ClientSession::on_resumed(std::uint64_t generation, ResumeResult r) {
  if (finished_ || generation != recovery_generation_ || !recovering_) return;
  if (r.call_failed) {
    attempt_failed();
    return;
  }
  if (!r.token_value || r.token_value->empty()) {
    print("Session: " + config_.session_id + " timed out.\n");
    finish(0);
    return;
  }
  token_ = *r.token_value;
  if (config_.reconnect_target == ReconnectTarget::returned_url && r.stream_url &&
      !r.stream_url->empty()) {
    url_ = *r.stream_url;
  }
  close_transport();
  dial();
}

void ClientSession::attempt_failed() {
  if (finished_) return;
  if (attempt_ >= kMaxConnectAttempts) {
    recovering_ = false;
    ++counters_.recoveries_given_up;
    base::log(LogLevel::warn, kLog, config_.session_id, ": giving up after ", attempt_,
              " attempts; the session stays disconnected");
    if (config_.finish_when_reconnect_fails) finish(1);
    return;
  }
  Duration sleep = retry_base_ * (std::int64_t{1} << (attempt_ - 1));
  if (sleep > kMaxRetryDelay) sleep = retry_base_;
  retry_timer_->start(sleep, [this] { run_attempt(); });
}

// ---- outgoing -----------------------------------------------------------------------------

void ClientSession::write(const wire::Message& m) {
  if (!open_ || !transport_ || !transport_->send_binary) return;
  ++counters_.frames_sent;
  transport_->send_binary(wire::encode(m));
}

bool ClientSession::send_stream(PayloadType type, std::string_view payload) {
  if (finished_) return false;
  if (!open_ && !config_.keep_input_while_disconnected) {
    ++counters_.dropped_while_disconnected;
    return false;
  }
  auto sent = stream_.send(type, payload, scheduler_.now());
  if (!sent) return false;
  if (open_ && sent->write_now) write(sent->message);
  arm_tick();
  return true;
}

bool ClientSession::send_output(std::string_view bytes) {
  bool ok = true;
  while (!bytes.empty()) {
    std::string_view chunk = bytes.substr(0, kMaxChunk);
    bytes.remove_prefix(chunk.size());
    // The plugin's Enter fix for winpty shells (§7.5).
    if (chunk == "\n") chunk = "\r";
    ok = send_stream(PayloadType::output, chunk) && ok;
  }
  return ok;
}

bool ClientSession::send_size(std::uint32_t cols, std::uint32_t rows) {
  return send_stream(PayloadType::size, wire::SizeData{cols, rows}.to_json());
}

bool ClientSession::send_flag(wire::FlagValue flag) {
  return send_stream(PayloadType::flag, wire::encode_flag(static_cast<std::uint32_t>(flag)));
}

void ClientSession::terminate_session() {
  ++counters_.terminate_calls;
  if (hooks_.control.terminate_session) hooks_.control.terminate_session(config_.session_id);
}

// The plugin's resend scheduler wakes every kTickInterval from the start and looks only at the
// unacknowledged head (§7.4). With nothing unacknowledged a wake-up does nothing, so the timer
// runs only while something is: at the same instants, origin + k x kTickInterval. A client with
// thousands of idle sessions then costs no wake-ups.
void ClientSession::arm_tick() {
  if (finished_ || tick_armed_ || stream_.unacked_count() == 0) return;
  const TimePoint now = scheduler_.now();
  const auto elapsed = std::max(Duration::zero(), now - tick_origin_);
  const auto next = tick_origin_ + (elapsed / stream::kTickInterval + 1) * stream::kTickInterval;
  tick_armed_ = true;
  tick_timer_->start(next - now, [this] { on_tick(); });
}

void ClientSession::on_tick() {
  tick_armed_ = false;
  if (finished_) return;
  auto tick = stream_.on_tick(scheduler_.now());
  if (tick.resend) write(*tick.resend);
  if (tick.resend_limit_hit) {
    base::log(LogLevel::warn, kLog, config_.session_id,
              ": stream data was not acknowledged in time, terminating the session");
    terminate_session();
  }
  arm_tick();
}

// ---- incoming -----------------------------------------------------------------------------

void ClientSession::on_frame(std::uint64_t id, wire::ByteView frame) {
  if (finished_ || id != connection_id_ || !open_) return;
  read_failures_ = 0;
  ++counters_.frames_received;
  // The plugin accepts NUL padding (it strips NULs) but checks the raw SHA-256 digest.
  auto decoded = wire::decode(frame, wire::DecodeMode::lenient);
  if (!decoded || decoded->leniency.hex_digest) {
    ++counters_.frames_rejected;
    return;
  }
  wire::Message& m = decoded->message;
  if (m.message_type == wire::msg::kOutputStreamData) {
    on_output_stream_data(std::move(m));
  } else if (m.message_type == wire::msg::kAcknowledge) {
    stream_.on_ack(m, scheduler_.now());
  } else if (m.message_type == wire::msg::kChannelClosed) {
    handle_channel_closed(m);
  } else if (m.message_type == wire::msg::kStartPublication ||
             m.message_type == wire::msg::kPausePublication) {
    // Inert for this client (§5.1, §11).
  } else {
    ++counters_.unknown_message_types;
    base::log(LogLevel::debug, kLog, config_.session_id, ": ignoring ", m.message_type);
  }
}

void ClientSession::on_output_stream_data(wire::Message m) {
  if (handler_started_ && !handler_->accepts_stream_data()) {
    ++counters_.dropped_stream_not_set;
    return;
  }
  // Handshake payloads are the data channel's own; other data is ready when no session type is
  // known yet (the first-message rule, §6.4) or once the handler runs and says so (§7.1).
  const bool ready = is_handshake_payload(m.payload_type) || !type_known_ ||
                     (handler_started_ && handler_->ready());
  auto in = stream_.on_incoming(std::move(m), ready);
  if (in.ack) write(*in.ack);
  for (auto& d : in.deliver) {
    if (finished_) return;
    process(std::move(d));
  }
}

void ClientSession::process(wire::Message m) {
  switch (m.payload_type) {
    case PayloadType::handshake_request:
      handle_handshake_request(m);
      return;
    case PayloadType::handshake_complete:
      handle_handshake_complete(m);
      return;
    case PayloadType::enc_challenge_request:
      // Only sent after a successful KMSEncryption action, which this client never reports.
      base::log(LogLevel::warn, kLog, config_.session_id, ": ignoring an encryption challenge");
      return;
    default:
      break;
  }
  if (!type_known_) {
    // No handshake: the first Output makes the session a shell (§6.4); anything else leaves
    // the type unset and the session waiting, as the plugin does.
    if (m.payload_type != PayloadType::output) return;
    type_known_ = true;
    session_type_ = std::string(kShellSessionType);
    requested_type_ = session_type_;
    pending_.push_back(std::move(m));
    schedule_handler_start();
    return;
  }
  if (!handler_started_) {
    pending_.push_back(std::move(m));
    return;
  }
  handler_->on_payload(m.payload_type, m.payload_text());
}

void ClientSession::handle_handshake_request(const wire::Message& m) {
  auto request = wire::parse_handshake_request(m.payload_text());
  if (!request) {
    base::log(LogLevel::warn, kLog, config_.session_id, ": malformed HandshakeRequest: ",
              request.error().message());
    return;
  }
  agent_version_ = request->agent_version;

  wire::HandshakeResponse response;
  response.client_version = config_.client_version;
  std::vector<std::string> errors;
  for (const auto& action : request->requested_client_actions) {
    wire::ProcessedClientAction done;
    done.action_type = action.action_type;
    if (action.action_type == kActionKms) {
      // Without KMS access GenerateDataKey fails; the plugin reports the action Failed (§6.3).
      std::string err = config_.cli_upgrade_needed ? std::string(kCliUpgradeError)
                        : config_.kms_error.empty() ? std::string(kDefaultKmsError)
                                                    : config_.kms_error;
      done.action_status = kStatusFailed;
      done.error = "Failed to process action KMSEncryption: " + err;
      errors.push_back(std::move(err));
    } else if (action.action_type == kActionSessionType) {
      auto req = parse_session_type_request(action.action_parameters_json);
      const std::string& t = req.session_type;
      if (t == "Standard_Stream" || t == "InteractiveCommands" || t == "NonInteractiveCommands" ||
          t == kPortSessionType) {
        type_known_ = true;
        session_type_ = t == kPortSessionType ? std::string(kPortSessionType)
                                              : std::string(kShellSessionType);
        requested_type_ = t;
        properties_json_ = req.properties_json;
        done.action_status = kStatusSuccess;
      } else {
        std::string err = "Unknown session type " + t;
        done.action_status = kStatusFailed;
        done.error = "Failed to process action SessionType: " + err;
        errors.push_back(std::move(err));
      }
    } else {
      // The plugin's quirk: status left 0, the Unsupported code in ActionResult (§6.2).
      done.action_status = 0;
      done.action_result_json = std::to_string(kResultUnsupported);
      done.error = "Unsupported action " + action.action_type;
      errors.push_back(done.error);
    }
    response.processed_client_actions.push_back(std::move(done));
  }
  if (!errors.empty()) response.errors_json = nlohmann::json(errors).dump();
  send_stream(PayloadType::handshake_response, response.to_json());
}

void ClientSession::handle_handshake_complete(const wire::Message& m) {
  auto complete = wire::parse_handshake_complete(m.payload_text());
  if (!complete) {
    base::log(LogLevel::warn, kLog, config_.session_id, ": malformed HandshakeComplete: ",
              complete.error().message());
    return;
  }
  if (!type_known_) {
    print("Cannot perform start session: unable to determine SessionType\n");
    finish(0);
    return;
  }
  if (!complete->customer_message.empty()) print(complete->customer_message + "\n");
  schedule_handler_start();
}

void ClientSession::handle_channel_closed(const wire::Message& m) {
  // A payload that does not parse leaves Output empty, as Go's zero value does.
  auto closed = wire::parse_channel_closed(m.payload_text());
  const std::string output = closed ? closed->output : std::string();
  if (output.empty()) {
    print("\n\nExiting session with sessionId: " + config_.session_id + ".\n\n");
  } else {
    print("\n\nSessionId: " + config_.session_id + " : " + output + "\n\n");
  }
  finish(0);
}

void ClientSession::schedule_handler_start() {
  if (handler_scheduled_) return;
  handler_scheduled_ = true;
  if (config_.handler_start_delay <= Duration::zero()) {
    start_handler();
  } else {
    handler_timer_->start(config_.handler_start_delay, [this] { start_handler(); });
  }
}

void ClientSession::start_handler() {
  if (finished_ || handler_started_) return;
  SessionTypeInfo info{session_type_, requested_type_, properties_json_, agent_version_};
  handler_ = hooks_.make_handler ? hooks_.make_handler(info) : nullptr;
  if (!handler_) {
    print("Cannot perform start session: no handler for session type " + session_type_ + "\n");
    finish(1);
    return;
  }
  handler_started_ = true;
  handler_->start(*this);
  while (!pending_.empty() && !finished_) {
    wire::Message m = std::move(pending_.front());
    pending_.pop_front();
    handler_->on_payload(m.payload_type, m.payload_text());
  }
}

std::uint8_t control_signal_byte(ControlSignal s) {
  switch (s) {
    case ControlSignal::interrupt:
      return 0x03;
    case ControlSignal::suspend:
      return 0x1A;
    case ControlSignal::quit:
      return 0x1C;
  }
  return 0x03;
}

}  // namespace mocksvc::client
