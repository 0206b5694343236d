// The seam between the session engine (SessionAgent) and a session plugin (shell, commands,
// port): what a plugin may ask of the engine (PluginHost) and what the engine drives in the plugin
// (SessionPlugin), plus the factory that picks a plugin from the session document as the real
// agent does. Internal to mocksvc/agent; owners of sessions use session_agent.hpp.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include "mocksvc/agent/document.hpp"
#include "mocksvc/agent/profile.hpp"
#include "mocksvc/wire/frame.hpp"

namespace mocksvc::agent {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

// Payload bytes per output_stream_data message (agent.md §11, data-channel.md §7.3).
inline constexpr std::size_t kStreamChunkSize = 1024;

// Implemented by the engine; plugins call it on the session strand only.
class PluginHost {
 public:
  virtual ~PluginHost() = default;
  // Queues output for the client, split into kStreamChunkSize messages; with utf8 a split never
  // cuts a character (shell output).
  virtual void emit(wire::PayloadType type, std::string_view bytes, bool utf8) = 0;
  // True while the plugin should stop reading its sources: publication is paused or too much
  // output is waiting for acks. The engine calls SessionPlugin::on_writable() when it clears.
  virtual bool output_blocked() const = 0;
  // The plugin is done: the engine drains its output, sends Terminating and reports the end.
  virtual void finish(SessionEnd end) = 0;
};

// Runs on the session strand; every member is called there by the engine.
class SessionPlugin {
 public:
  virtual ~SessionPlugin() = default;
  virtual void start() = 0;
  // False while inbound data cannot be handled yet (no TCP connection): the engine then neither
  // processes nor acks the message, so the client resends it (agent.md §6.3).
  virtual bool ready() const = 0;
  // One in-order input_stream_data message after the handshake (PT 1 Output, 3 Size, 10 Flag).
  virtual void on_input(const wire::Message& message) = 0;
  virtual void on_writable() = 0;
  // Kill processes, close sockets, cancel timers; call the host no more. Idempotent.
  virtual void stop() = 0;
};

struct PluginContext {
  Strand strand;
  std::weak_ptr<PluginHost> host;  // the engine; expired once it is gone
  InstanceProfile profile;
  SessionDocument document;
  std::string client_version;  // from the HandshakeResponse; empty without a handshake
};

// What every plugin keeps: its context, whether it was stopped or has finished, and host access
// that yields nothing once stopped (so late handlers cannot touch the engine).
class PluginBase : public SessionPlugin {
 protected:
  explicit PluginBase(PluginContext ctx) : ctx_(std::move(ctx)) {}
  std::shared_ptr<PluginHost> host() const { return stopped_ ? nullptr : ctx_.host.lock(); }
  void finish(SessionEnd end) {
    if (finished_) return;
    finished_ = true;
    if (auto h = host()) h->finish(std::move(end));
  }

  PluginContext ctx_;
  bool stopped_ = false;
  bool finished_ = false;
};

std::shared_ptr<SessionPlugin> make_shell_plugin(PluginContext context);     // shell family
std::shared_ptr<SessionPlugin> make_port_plugin(PluginContext context);      // Port
std::shared_ptr<SessionPlugin> make_session_plugin(PluginContext context);   // picks one

}  // namespace mocksvc::agent
