// One session of a load run, from StartSession to the close: the SigV4-signed StartSession (through
// the ApiPool), the client engine (mocksvc/client's ClientSession, as session-manager-plugin runs
// it) over a real WebSocket, the handshake, a warm-up (the shell's prompt, or one probe echoed by
// the port target), the round trips (back to back with a pipeline, or at fixed intended times),
// an idle hold, TerminateSession and the service's channel_closed. Echoed bytes are checked
// against what was sent, byte for byte, in order; every step has a timeout; every failure is
// counted once by kind.
//
// Runs on its own strand: start() and abort() post there, everything else happens there. Owned
// by a shared_ptr; the last reference must be dropped on the strand, or after the I/O threads
// stopped (the client engine's rule).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "loadgen/api_pool.hpp"
#include "loadgen/metrics.hpp"
#include "loadgen/options.hpp"
#include "mocksvc/client/session.hpp"
#include "mocksvc/client/strand_scheduler.hpp"

namespace ssmh::loadgen {

// What every session of a run does; shared and immutable while the run goes on.
struct SessionPlan {
  Workload workload = Workload::port;
  // The StartSession requests, one per target instance; session k uses k mod their number.
  std::vector<std::string> start_bodies;
  std::vector<std::string> targets;
  std::string region;
  std::uint64_t messages = 10;
  std::uint64_t size = 64;
  std::uint64_t pipeline = 1;
  double message_rate = 0;
  Clock::duration hold{};
  Clock::duration step_timeout = std::chrono::seconds(30);
  std::shared_ptr<boost::asio::ssl::context> tls;  // wss
  // Random alphanumerics that messages are cut from (at least twice the message size).
  std::shared_ptr<const std::string> filler;
  std::uint64_t seed = 1;
};

// The shell workload types ": <filler>\r" — the no-op builtin — and gets back the echo of the
// line, the newline and the next prompt; port sessions get back exactly what was sent.
std::string shell_input(std::string_view filler);
std::string shell_reply(std::string_view filler);
inline constexpr std::size_t kShellOverhead = 3;  // ": " and "\r"

class LoadSession : public std::enable_shared_from_this<LoadSession> {
 public:
  // Once, on the session's strand, when the session is over (completed or failed).
  using Finished = std::function<void(LoadSession&)>;

  LoadSession(std::uint64_t index, boost::asio::any_io_executor executor, const SessionPlan& plan, ApiPool& api,
              Metrics& metrics, Finished finished);
  ~LoadSession();
  LoadSession(const LoadSession&) = delete;
  LoadSession& operator=(const LoadSession&) = delete;

  // Begins the session; latency of the setup counts from `intended` (its arrival time).
  void start(Clock::time_point intended);
  // Fails the session with this error kind unless it is already over (the run's time bound).
  void abort(std::string kind);

  std::uint64_t index() const { return index_; }
  bool completed() const { return completed_; }
  const mocksvc::client::StrandScheduler::Strand& strand() const { return scheduler_.strand(); }

 private:
  enum class Phase { idle, starting, connecting, handshaking, warming, echoing, holding, terminating, closing, done };
  struct Pending {
    std::uint64_t end;  // absolute offset in the expected output where this reply ends
    std::uint64_t bytes;
    Clock::time_point intended;
    bool probe = false;
  };
  class Handler;

  void on_started(plugin::SsmResult r, ApiTiming timing);
  void on_opened(Clock::duration took);
  void on_handler_started();
  void on_output(std::string_view bytes);
  void on_finished(int exit_code);
  void warmed();
  void send_due();
  void send_one(Clock::time_point intended, bool probe);
  void complete_replies();
  void hold();
  void terminate();
  void maybe_done();
  void fail(std::string kind);
  void finish();
  void arm_watchdog();
  static const char* phase_name(Phase p);

  const std::uint64_t index_;
  const SessionPlan& plan_;
  ApiPool& api_;
  Metrics& metrics_;
  Finished finished_cb_;
  mocksvc::client::StrandScheduler scheduler_;
  std::unique_ptr<mocksvc::client::Timer> watchdog_;
  std::unique_ptr<mocksvc::client::Timer> pacer_;
  std::unique_ptr<mocksvc::client::ClientSession> session_;
  Handler* handler_ = nullptr;  // owned by session_ once started

  Phase phase_ = Phase::idle;
  Clock::time_point intended_{};
  Clock::time_point opened_at_{};
  Clock::time_point handler_at_{};
  Clock::time_point echo_start_{};
  std::string session_id_;
  bool open_counted_ = false;
  bool failed_ = false;
  bool completed_ = false;
  bool finished_ = false;         // the client engine finished
  bool terminate_answered_ = false;
  bool terminate_sent_ = false;

  // The echo: output expected but not yet seen is expected_[matched_ - base_ ...].
  std::string greeting_;  // shell: output until the first prompt
  std::string expected_;
  std::uint64_t base_ = 0;     // absolute offset of expected_[0]
  std::uint64_t matched_ = 0;  // absolute offset of output verified so far
  std::deque<Pending> pending_;
  std::deque<Clock::time_point> queued_;  // shell: due inputs waiting for the previous reply
  std::uint64_t sent_ = 0;        // round trips sent (probe excluded)
  std::uint64_t done_trips_ = 0;  // round trips echoed
  std::uint64_t filler_at_ = 0;
};

}  // namespace ssmh::loadgen
