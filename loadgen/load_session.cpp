#include "loadgen/load_session.hpp"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "mocksvc/base/uuid.hpp"
#include "mocksvc/client/shell.hpp"
#include "plugin/session_runner.hpp"

namespace ssmh::loadgen {
namespace {

namespace asio = boost::asio;
namespace client = mocksvc::client;
using json = nlohmann::json;

// What the emulated shell prints to ask for the next line: "$ " for a user, "# " for root.
bool ends_with_prompt(std::string_view s) {
  return s.size() >= 2 && (s.substr(s.size() - 2) == "$ " || s.substr(s.size() - 2) == "# ");
}

// Bytes of the probe a port session echoes before its round trips.
constexpr std::size_t kProbeBytes = 8;
// Expected output is compacted once this much of it has been matched.
constexpr std::size_t kCompactAfter = 64 * 1024;

// An SSM API failure as an error kind: the AWS error code, the HTTP status, or "no_response".
std::string api_error_kind(std::string_view operation, const plugin::SsmResult& r) {
  std::string kind(operation);
  if (r.status == 0) return kind + ": no response";
  kind += ": HTTP " + std::to_string(r.status);
  if (!r.error.empty()) kind += " " + r.error;
  return kind;
}

}  // namespace

std::string shell_input(std::string_view filler) { return ": " + std::string(filler) + "\r"; }
std::string shell_reply(std::string_view filler) { return ": " + std::string(filler) + "\r\n$ "; }

// The session handler: sends what the session asks, hands every Output payload back. Runs on the
// session's strand; owned by the ClientSession.
class LoadSession::Handler final : public client::SessionHandler {
 public:
  explicit Handler(LoadSession& owner) : owner_(owner) {}
  ~Handler() override {
    if (owner_.handler_ == this) owner_.handler_ = nullptr;
  }

  void start(client::HandlerContext& ctx) override {
    ctx_ = &ctx;
    // Shells send the terminal size first, as the plugin does (§10.1).
    if (owner_.plan_.workload == Workload::shell)
      ctx.send_size(client::kDefaultTerminalSize.cols, client::kDefaultTerminalSize.rows);
    owner_.on_handler_started();
  }
  void on_payload(mocksvc::wire::PayloadType type, std::string_view payload) override {
    if (type == mocksvc::wire::PayloadType::output) owner_.on_output(payload);
  }
  void stop() override { ctx_ = nullptr; }

  bool send(std::string_view bytes) { return ctx_ && ctx_->send_output(bytes); }

 private:
  LoadSession& owner_;
  client::HandlerContext* ctx_ = nullptr;
};

LoadSession::LoadSession(std::uint64_t index, asio::any_io_executor executor, const SessionPlan& plan, ApiPool& api,
                         Metrics& metrics, Finished finished)
    : index_(index),
      plan_(plan),
      api_(api),
      metrics_(metrics),
      finished_cb_(std::move(finished)),
      scheduler_(std::move(executor)),
      watchdog_(scheduler_.make_timer()),
      pacer_(scheduler_.make_timer()) {}

LoadSession::~LoadSession() {
  watchdog_.reset();
  pacer_.reset();
  session_.reset();
}

const char* LoadSession::phase_name(Phase p) {
  switch (p) {
    case Phase::idle: return "idle";
    case Phase::starting: return "start_session";
    case Phase::connecting: return "websocket_open";
    case Phase::handshaking: return "handshake";
    case Phase::warming: return "first_output";
    case Phase::echoing: return "echo";
    case Phase::holding: return "hold";
    case Phase::terminating: return "terminate_session";
    case Phase::closing: return "channel_closed";
    case Phase::done: return "done";
  }
  return "unknown";
}

void LoadSession::start(Clock::time_point intended) {
  asio::post(scheduler_.strand(), [self = shared_from_this(), intended] {
    if (self->phase_ != Phase::idle) return;
    self->intended_ = intended;
    self->phase_ = Phase::starting;
    self->metrics_.sessions_started.fetch_add(1, std::memory_order_relaxed);
    Metrics::mark(self->metrics_.first_start_ns, intended, /*later=*/false);
    self->arm_watchdog();
    std::weak_ptr<LoadSession> weak = self;
    self->api_.call("StartSession", self->plan_.start_bodies[self->index_ % self->plan_.start_bodies.size()], self->scheduler_.executor(),
                    [weak](plugin::SsmResult r, ApiTiming t) {
                      if (auto s = weak.lock()) s->on_started(std::move(r), t);
                    });
  });
}

void LoadSession::abort(std::string kind) {
  asio::post(scheduler_.strand(), [self = shared_from_this(), kind = std::move(kind)] {
    if (self->phase_ == Phase::done || self->phase_ == Phase::idle) return;
    self->fail(kind + " during " + phase_name(self->phase_));
  });
}

void LoadSession::arm_watchdog() {
  watchdog_->start(plan_.step_timeout, [this] { fail(std::string("timeout: ") + phase_name(phase_)); });
}

void LoadSession::on_started(plugin::SsmResult r, ApiTiming timing) {
  if (phase_ != Phase::starting) return;
  metrics_.record(Latency::api_call, timing.service);
  if (!r.ok()) {
    fail(api_error_kind("StartSession", r));
    return;
  }
  json j = json::parse(r.body, nullptr, false);
  auto text = [&j](const char* key) -> std::string {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  client::SessionConfig c;
  c.session_id = text("SessionId");
  c.token_value = text("TokenValue");
  c.stream_url = text("StreamUrl");
  if (c.session_id.empty() || c.token_value.empty() || c.stream_url.empty()) {
    fail("StartSession: response without SessionId, TokenValue or StreamUrl");
    return;
  }
  session_id_ = c.session_id;
  metrics_.opened();
  open_counted_ = true;
  c.target = plan_.targets[index_ % plan_.targets.size()];
  c.region = plan_.region;
  c.client_id = mocksvc::base::random_uuid_string();  // one plugin process per session
  c.seed = plan_.seed * 1'000'003 + index_;
  c.print_starting_line = false;
  c.finish_when_reconnect_fails = true;

  std::weak_ptr<LoadSession> weak = weak_from_this();
  plugin::DialOptions dial;
  dial.tls = plan_.tls;
  dial.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(plan_.step_timeout);
  dial.opened = [weak](Clock::duration took) {
    if (auto s = weak.lock()) s->on_opened(took);
  };
  client::SessionHooks hooks;
  hooks.dial = plugin::make_dialer(scheduler_.strand(), std::move(dial));
  hooks.control = plugin::make_control_plane(api_.api_for(index_), scheduler_.executor());
  hooks.make_handler = [this](const client::SessionTypeInfo&) -> std::unique_ptr<client::SessionHandler> {
    auto h = std::make_unique<Handler>(*this);
    handler_ = h.get();
    return h;
  };
  hooks.on_finished = [this](int code) { on_finished(code); };
  session_ = std::make_unique<client::ClientSession>(scheduler_, std::move(c), std::move(hooks));
  phase_ = Phase::connecting;
  arm_watchdog();
  session_->start();
}

void LoadSession::on_opened(Clock::duration took) {
  // Reconnects open too; only the first one is part of the setup.
  if (phase_ != Phase::connecting) return;
  metrics_.record(Latency::websocket_open, took);
  opened_at_ = Clock::now();
  phase_ = Phase::handshaking;
  arm_watchdog();
}

void LoadSession::on_handler_started() {
  if (phase_ != Phase::handshaking && phase_ != Phase::connecting) return;
  handler_at_ = Clock::now();
  if (phase_ == Phase::handshaking) metrics_.record(Latency::handshake, handler_at_ - opened_at_);
  phase_ = Phase::warming;
  arm_watchdog();
  if (plan_.workload == Workload::port) send_one(handler_at_, /*probe=*/true);
  else if (ends_with_prompt(greeting_)) warmed();
}

void LoadSession::on_output(std::string_view bytes) {
  if (phase_ == Phase::done) return;
  if (phase_ == Phase::warming && plan_.workload == Workload::shell) {
    greeting_.append(bytes);
    if (ends_with_prompt(greeting_)) warmed();
    return;
  }
  if (phase_ < Phase::warming) {
    fail("output before the handshake completed");
    return;
  }
  const std::uint64_t have = base_ + expected_.size() - matched_;
  const std::size_t at = static_cast<std::size_t>(matched_ - base_);
  if (bytes.size() > have || std::string_view(expected_).substr(at, bytes.size()) != bytes) {
    fail(bytes.size() > have ? "echo: more output than was sent" : "echo: output differs from the input");
    return;
  }
  matched_ += bytes.size();
  if (matched_ - base_ >= kCompactAfter) {
    expected_.erase(0, static_cast<std::size_t>(matched_ - base_));
    base_ = matched_;
  }
  complete_replies();
}

void LoadSession::complete_replies() {
  const auto now = Clock::now();
  bool progressed = false;
  while (!pending_.empty() && pending_.front().end <= matched_) {
    const Pending p = pending_.front();
    pending_.pop_front();
    progressed = true;
    if (p.probe) {
      warmed();
      if (phase_ != Phase::echoing) return;
      continue;
    }
    metrics_.record(Latency::rtt, now - p.intended);
    metrics_.messages_received.fetch_add(1, std::memory_order_relaxed);
    metrics_.bytes_received.fetch_add(p.bytes, std::memory_order_relaxed);
    Metrics::mark(metrics_.last_echo_ns, now, /*later=*/true);
    ++done_trips_;
  }
  if (!progressed || phase_ != Phase::echoing) return;
  arm_watchdog();
  if (done_trips_ >= plan_.messages) {
    hold();
    return;
  }
  send_due();
}

void LoadSession::warmed() {
  if (phase_ != Phase::warming) return;
  const auto now = Clock::now();
  metrics_.record(Latency::first_output, now - handler_at_);
  metrics_.record(Latency::setup_total, now - intended_);
  metrics_.sessions_setup.fetch_add(1, std::memory_order_relaxed);
  Metrics::mark(metrics_.last_setup_ns, now, /*later=*/true);
  greeting_.clear();
  greeting_.shrink_to_fit();
  phase_ = Phase::echoing;
  echo_start_ = now;
  arm_watchdog();
  if (plan_.messages == 0) {
    hold();
    return;
  }
  send_due();
}

// Sends what is due: back to back, up to the pipeline depth; at a fixed rate, every round trip
// whose intended time has come (the shell takes one line at a time, so later ones queue and
// keep their intended time).
void LoadSession::send_due() {
  if (phase_ != Phase::echoing) return;
  const auto now = Clock::now();
  if (plan_.message_rate <= 0) {
    while (sent_ < plan_.messages && sent_ - done_trips_ < plan_.pipeline && phase_ == Phase::echoing)
      send_one(Clock::now(), false);
    return;
  }
  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / plan_.message_rate));
  auto due = [&](std::uint64_t k) { return echo_start_ + interval * static_cast<std::int64_t>(k); };
  while (sent_ + queued_.size() < plan_.messages && due(sent_ + queued_.size()) <= now)
    queued_.push_back(due(sent_ + queued_.size()));
  const bool one_at_a_time = plan_.workload == Workload::shell;
  while (!queued_.empty() && (!one_at_a_time || pending_.empty()) && phase_ == Phase::echoing) {
    const auto intended = queued_.front();
    queued_.pop_front();
    send_one(intended, false);
  }
  if (phase_ != Phase::echoing) return;
  if (sent_ + queued_.size() < plan_.messages) {
    const auto next = due(sent_ + queued_.size());
    pacer_->start(std::max(Clock::duration::zero(), next - Clock::now()), [this] { send_due(); });
  }
}

void LoadSession::send_one(Clock::time_point intended, bool probe) {
  const std::string& filler = *plan_.filler;
  const std::size_t body = probe ? kProbeBytes
                           : plan_.workload == Workload::shell ? static_cast<std::size_t>(plan_.size) - kShellOverhead
                                                               : static_cast<std::size_t>(plan_.size);
  if (filler_at_ + body > filler.size()) filler_at_ = 0;
  const std::string_view cut(filler.data() + filler_at_, body);
  filler_at_ = (filler_at_ + body * 7 + 13) % (filler.size() / 2);
  std::string input, reply;
  if (plan_.workload == Workload::shell && !probe) {
    input = shell_input(cut);
    reply = shell_reply(cut);
  } else {
    input = std::string(cut);
    reply = input;
  }
  expected_.append(reply);
  pending_.push_back(Pending{base_ + expected_.size(), reply.size(), intended, probe});
  if (!probe) {
    if (sent_ == 0) Metrics::mark(metrics_.first_message_ns, intended, /*later=*/false);
    ++sent_;
    metrics_.messages_sent.fetch_add(1, std::memory_order_relaxed);
    metrics_.bytes_sent.fetch_add(input.size(), std::memory_order_relaxed);
  }
  if (!handler_ || !handler_->send(input)) fail("input dropped: the data channel was down");
}

void LoadSession::hold() {
  if (phase_ != Phase::echoing) return;
  phase_ = Phase::holding;
  pacer_->cancel();
  watchdog_->cancel();
  if (plan_.hold <= Clock::duration::zero()) {
    terminate();
    return;
  }
  pacer_->start(plan_.hold, [this] { terminate(); });
}

void LoadSession::terminate() {
  if (phase_ != Phase::holding) return;
  phase_ = Phase::terminating;
  arm_watchdog();
  terminate_sent_ = true;
  std::weak_ptr<LoadSession> weak = weak_from_this();
  api_.call("TerminateSession", json{{"SessionId", session_id_}}.dump(), scheduler_.executor(),
            [weak](plugin::SsmResult r, ApiTiming) {
              auto s = weak.lock();
              if (!s || s->phase_ == Phase::done) return;
              s->terminate_answered_ = true;
              if (!r.ok()) {
                s->fail(api_error_kind("TerminateSession", r));
                return;
              }
              if (s->phase_ == Phase::terminating) {
                s->phase_ = Phase::closing;
                s->arm_watchdog();
              }
              s->maybe_done();
            });
}

void LoadSession::on_finished(int exit_code) {
  finished_ = true;
  if (phase_ == Phase::done) return;
  if ((phase_ == Phase::terminating || phase_ == Phase::closing) && exit_code == 0) {
    maybe_done();
    return;
  }
  fail("session ended during " + std::string(phase_name(phase_)) + " (exit " + std::to_string(exit_code) + ")");
}

void LoadSession::maybe_done() {
  if (phase_ == Phase::done || !finished_ || !terminate_answered_) return;
  completed_ = true;
  metrics_.sessions_completed.fetch_add(1, std::memory_order_relaxed);
  finish();
}

void LoadSession::fail(std::string kind) {
  if (phase_ == Phase::done || failed_) return;
  failed_ = true;
  metrics_.error(kind);
  metrics_.sessions_failed.fetch_add(1, std::memory_order_relaxed);
  // Leave no session behind on the service: end it there too, without waiting.
  if (!session_id_.empty() && !terminate_sent_) {
    terminate_sent_ = true;
    api_.call("TerminateSession", json{{"SessionId", session_id_}}.dump(), scheduler_.executor(),
              [](plugin::SsmResult, ApiTiming) {});
  }
  finish();
}

void LoadSession::finish() {
  if (phase_ == Phase::done) return;
  phase_ = Phase::done;
  watchdog_->cancel();
  pacer_->cancel();
  if (session_) {
    const auto& sc = session_->stream().counters();
    metrics_.client_resent.fetch_add(sc.resent, std::memory_order_relaxed);
    metrics_.duplicates_received.fetch_add(sc.duplicates_received, std::memory_order_relaxed);
    metrics_.reconnects.fetch_add(session_->counters().reconnects, std::memory_order_relaxed);
    if (!session_->finished()) session_->stop(failed_ ? 1 : 0);  // re-enters on_finished: done already
  }
  if (open_counted_) {
    open_counted_ = false;
    metrics_.closed();
  }
  expected_.clear();
  expected_.shrink_to_fit();
  pending_.clear();
  queued_.clear();
  if (finished_cb_) finished_cb_(*this);
}

}  // namespace ssmh::loadgen
