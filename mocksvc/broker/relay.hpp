// One session's relay: pairs the client's data channel with the agent side (a virtual
// instance or a real agent's data channel), moves frames between them through one stage
// pipeline per direction, consumes what is the service's business (OpenDataChannel is handled
// before attach; agent_session_state here), and ends the session with channel_closed.
// Also enforces the session preferences the real service enforces: idle timeout and maximum
// duration (agent.md §6.6).
//
// Runs on its own strand. Every public method may be called from any thread: each posts to the
// strand. Observers (SessionHooks) are called on the strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "mocksvc/broker/peer.hpp"
#include "mocksvc/broker/stage.hpp"

namespace mocksvc::broker {

// How a relay reports to its owner (the Broker): status changes and the end.
class SessionHooks {
 public:
  virtual ~SessionHooks() = default;
  virtual void on_status(const std::string& session_id, std::string_view status) = 0;  // Connected, ...
  // final_status "Terminated" or "Failed"; output is what the client was told.
  virtual void on_ended(const std::string& session_id, std::string_view final_status, std::string_view output) = 0;
};

struct RelayOptions {
  std::chrono::minutes idle_timeout{20};
  std::chrono::minutes max_duration{0};  // 0: none
  // Frames held for a side that is not attached yet (or reconnecting). The stream layer resends
  // whatever falls beyond this, so the bound costs time, never data.
  std::size_t hold_frames = 2048;
  std::size_t hold_bytes = 4 * 1024 * 1024;
  // Keep a transcript of every relayed frame (session logging); capped.
  bool transcript = false;
  std::size_t transcript_max_bytes = 8 * 1024 * 1024;
  std::uint64_t seed = 0;  // stage randomness; 0 derives one from the session id
};

struct RelayStats {
  std::uint64_t frames_client_to_agent = 0;
  std::uint64_t frames_agent_to_client = 0;
  std::uint64_t bytes_client_to_agent = 0;
  std::uint64_t bytes_agent_to_client = 0;
  std::uint64_t bad_frames = 0;      // frames that did not decode (dropped, logged)
  std::uint64_t held_dropped = 0;    // frames dropped because the hold buffer was full
  std::uint64_t client_connects = 0;
  std::uint64_t agent_connects = 0;
  std::vector<std::pair<std::string, std::uint64_t>> fault_counts;  // "dropped", ...
};

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;

  Relay(Strand strand, SessionFacts facts, RelayOptions options, SessionHooks* hooks, StageFactory stages);
  ~Relay();

  const SessionFacts& facts() const { return facts_; }
  Strand strand() const { return strand_; }

  // Arms the timers. Call once after construction.
  void start();

  // A client data channel authenticated for this session. A second client replaces the first
  // (as after ResumeSession).
  void attach_client(std::shared_ptr<Peer> peer);
  void detach_client(const Peer* peer, std::string why);
  void attach_agent(std::shared_ptr<Peer> peer);
  void detach_agent(const Peer* peer, std::string why);

  // One binary frame read from a side. `from` must be the attached peer, else it is ignored.
  void from_client(const Peer* from, wire::Bytes frame);
  void from_agent(const Peer* from, wire::Bytes frame);

  // The agent side finished on its own (virtual instance ended, or a real agent's
  // agent_task_complete): the client gets channel_closed with `output`.
  void agent_finished(bool success, std::string output);
  // TerminateSession, the admin API, idle timeout, max duration, or shutdown.
  void terminate(std::string reason, std::string client_output = "");
  // Drops the client's connection without ending the session (admin "drop-client").
  void drop_client(CloseSpec spec);

  void set_stage_factory(StageFactory stages);

  // Thread-safe snapshot.
  RelayStats stats() const;
  // The side frames from `side` go to, when it is over its high-water mark (back-pressure).
  std::shared_ptr<Peer> congested_target(Side from) const;
  // The transcript as JSON lines (empty unless RelayOptions::transcript).
  std::string transcript() const;
  bool ended() const;
  // Ended by the service (terminate(): TerminateSession, the admin API, a timeout, shutdown)
  // rather than by the agent side finishing: the agent still has to be told.
  bool ended_by_service() const;

 private:
  struct Pipeline;
  class Ctx;
  void on_client_frame(wire::Bytes frame);
  void on_agent_frame(wire::Bytes frame);
  void deliver(Direction d, RelayedFrame frame);
  void send_to(Side side, wire::Bytes bytes);
  void send_control(Side side, std::string_view message_type, std::string payload);
  void flush_held(Side side);
  void update_status();
  void finish(std::string final_status, std::string client_output, std::string agent_reason, bool tell_agent);
  void arm_idle_timer();
  void note(Direction d, const wire::Message& m, std::size_t bytes);
  void rebuild_pipelines();

  Strand strand_;
  SessionFacts facts_;
  RelayOptions options_;
  SessionHooks* hooks_;
  StageFactory stage_factory_;
  std::shared_ptr<Pipeline> c2a_;
  std::shared_ptr<Pipeline> a2c_;
  std::mt19937_64 rng_;

  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer max_timer_;
  std::chrono::steady_clock::time_point last_activity_;

  // Peers are read by congested_target() from connection threads: guarded by mu_.
  mutable std::mutex mu_;
  std::shared_ptr<Peer> client_;
  std::shared_ptr<Peer> agent_;
  RelayStats stats_;
  std::string transcript_;
  bool ended_ = false;
  bool ended_by_service_ = false;

  std::deque<wire::Bytes> held_for_client_;
  std::deque<wire::Bytes> held_for_agent_;
  std::size_t held_bytes_client_ = 0;
  std::size_t held_bytes_agent_ = 0;
  bool client_seen_ = false;  // a client was attached once: its absence now means Disconnected
  bool agent_seen_ = false;
  bool agent_terminating_ = false;  // agent_session_state Terminating arrived
  std::string last_status_;
  std::uint64_t index_c2a_ = 0;
  std::uint64_t index_a2c_ = 0;
};

}  // namespace mocksvc::broker
