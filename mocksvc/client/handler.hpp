// The seam between the client engine (ClientSession) and the session handlers that run once the
// session type is known (data-channel.md §6, §10): shell, port (basic, multiplexed, stdio) and
// scripted. A handler sees the session only through HandlerContext, so tests drive handlers with
// an in-memory context and the engine with in-memory handlers.
//
// Everything here runs on the session's strand: the engine calls handlers there, and handlers
// call the context there (from their own socket/timer completions on the same strand).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "mocksvc/client/scheduler.hpp"
#include "mocksvc/wire/frame.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::client {

// Session types as the engine reports them: every shell-family type the handshake may name
// (Standard_Stream, InteractiveCommands, NonInteractiveCommands) runs the shell handler and is
// reported as Standard_Stream, as the plugin does (§6.2).
inline constexpr std::string_view kShellSessionType = "Standard_Stream";
inline constexpr std::string_view kPortSessionType = "Port";

struct SessionTypeInfo {
  std::string session_type;     // kShellSessionType or kPortSessionType
  std::string requested_type;   // as the handshake named it; "Standard_Stream" without handshake
  std::string properties_json;  // the SessionType action's Properties ("null" when none)
  std::string agent_version;    // from HandshakeRequest; empty without handshake
};

// The terminal's control keys, delivered by the program as signals (§10.1): SIGINT, SIGTSTP,
// SIGQUIT. Shells forward them as bytes 0x03 / 0x1A / 0x1C; port sessions end on any of them.
enum class ControlSignal { interrupt, suspend, quit };
std::uint8_t control_signal_byte(ControlSignal s);

// What a handler may do with its session.
class HandlerContext {
 public:
  virtual ~HandlerContext() = default;
  virtual const std::string& session_id() const = 0;
  virtual const std::string& agent_version() const = 0;
  virtual Scheduler& scheduler() = 0;
  // Sends `bytes` as Output (PT 1) in messages of at most kMaxChunk bytes; a chunk that is
  // exactly one 0x0A goes out as 0x0D (§7.3, §7.5). False when the data channel is down and
  // the bytes were dropped, as the plugin's failed send drops them.
  virtual bool send_output(std::string_view bytes) = 0;
  virtual bool send_size(std::uint32_t cols, std::uint32_t rows) = 0;
  virtual bool send_flag(wire::FlagValue flag) = 0;
  // Text for the user (the program's stdout).
  virtual void print(std::string_view text) = 0;
  // Ends the session now with this exit code, without telling the service (the plugin's
  // os.Exit): timers stop, the transport closes, the handler is stopped.
  virtual void finish(int exit_code) = 0;
  // Calls the TerminateSession API once; the session then waits for channel_closed (§2).
  virtual void terminate_session() = 0;
};

// One session's handler. start() is called once, when the session type is known; then the
// engine hands it every in-order payload. stop() is the last call.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  virtual void start(HandlerContext& ctx) = 0;
  // False discards incoming output_stream_data before sequencing (no ack, no buffering): the
  // port plugin's "stream not set" filter (§7.1).
  virtual bool accepts_stream_data() const { return true; }
  // False makes the in-order message a "handler not ready" drop: not processed, not acked.
  virtual bool ready() const { return true; }
  virtual void on_payload(wire::PayloadType type, std::string_view payload) = 0;
  // True when the handler acted on it; false lets the program apply the default action.
  virtual bool on_control_signal(ControlSignal) { return false; }
  virtual void stop() {}
};

// Bytes from the user (stdin in the program), for handlers that forward them. on_input_eof()
// is called once, after the last on_input().
class InputSink {
 public:
  virtual ~InputSink() = default;
  virtual void on_input(std::string_view bytes) = 0;
  virtual void on_input_eof() = 0;
};

// Builds the handler for a session type; nullptr refuses it (the session then ends, exit 1).
using HandlerFactory = std::function<std::unique_ptr<SessionHandler>(const SessionTypeInfo&)>;

// Largest payload of one outgoing message: the plugin reads stdin, local sockets and its smux
// pipe 1024 bytes at a time and sends each read as one message (StreamDataPayloadSize, §7.3).
inline constexpr std::size_t kMaxChunk = 1024;

}  // namespace mocksvc::client
