// The built-in agent's side of one session's data channel (agent.md §6): agent_session_state,
// the handshake, the reliable output stream with acks and retransmission, pause/start
// publication, draining and Terminating, and the session plugin chosen by the task's document.
// Transport-agnostic: frames come in through on_frame() and go out through a callback, so the
// same engine serves the in-process virtual instances and a networked agent.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/agent/profile.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::agent {

struct SessionOptions {
  // How long the agent waits for the HandshakeResponse before failing the session (§6.4).
  std::chrono::milliseconds handshake_timeout{15'000};
  // How long it waits for unacked output to drain before Terminating (agent.md §11).
  std::chrono::milliseconds drain_timeout{2'000};
  // Output after HandshakeComplete waits until the client has acked it, and this long more: the
  // client registers its session handler only after processing HandshakeComplete and silently
  // drops what arrives before (data-channel.md §7.1, §11 item 5).
  std::chrono::milliseconds post_handshake_quiet{100};
  // A plugin stops reading its source (pty, TCP target) while this many messages are queued or
  // unacked, and resumes when the count drops below it.
  std::size_t backpressure_messages = 1000;
};

struct SessionStats {
  std::uint64_t frames_sent = 0;        // every frame handed to SendFrame
  std::uint64_t data_sent = 0;          // new output_stream_data messages
  std::uint64_t resent = 0;             // retransmissions
  std::uint64_t acks_received = 0;      // acks that removed an unacked message
  std::uint64_t acks_sent = 0;          // acknowledge frames sent (including re-acks)
  std::uint64_t data_received = 0;      // input_stream_data frames that arrived
  std::uint64_t delivered = 0;          // input messages handed on in order
  std::uint64_t duplicates = 0;         // input messages seen before (re-acked)
  std::uint64_t not_ready_drops = 0;    // input neither processed nor acked: plugin not ready
  std::uint64_t discarded = 0;          // input acked but discarded (before the handshake, ...)
  std::uint64_t bad_frames = 0;         // frames that did not decode, or of unknown type
  std::size_t unacked = 0;              // output waiting for an ack now
  std::size_t queued = 0;               // output not yet numbered (paused, held, buffer full)
};

// Agent side of one session's data channel. Lives on the strand given at construction: every
// public method must be called on that strand, and all its timers, sockets and plugin handlers run
// there. SendFrame and OnEnd are called on the strand too; SendFrame must not call back into the
// agent synchronously (post instead). OnEnd is posted, so it never runs inside a call into the
// agent, and is called at most once.
class SessionAgent {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  using SendFrame = std::function<void(wire::Bytes)>;  // one binary frame to the service
  using OnEnd = std::function<void(SessionEnd)>;

  static std::shared_ptr<SessionAgent> create(Strand strand, InstanceProfile profile,
                                              wire::InteractiveShellTask task, SendFrame send,
                                              OnEnd on_end, SessionOptions options = {});
  virtual ~SessionAgent() = default;

  // Sends agent_session_state Connected, then the HandshakeRequest (Port,
  // NonInteractiveCommands) or starts the shell. A document the agent refuses (schemaVersion not
  // "1.0", unknown sessionType) sends nothing and ends with Reason::bad_document.
  virtual void start() = 0;
  // One frame from the service: input_stream_data, acknowledge, channel_closed,
  // pause_publication, start_publication. Anything else, or a frame that does not decode, is
  // counted and ignored.
  virtual void on_frame(wire::ByteView frame) = 0;
  // The service ended the session (the owner saw channel_closed on the control channel, or is
  // shutting down): kill the plugin, stop the timers, send nothing more, do not call OnEnd.
  virtual void stop() = 0;
  virtual SessionStats stats() const = 0;
};

}  // namespace mocksvc::agent
