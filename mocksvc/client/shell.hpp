// Stream handlers whose far side is the user's terminal: the shell family (data-channel.md
// §10.1: keystrokes out as Output, every incoming payload written raw, Size first and on every
// change, control keys as bytes) and stdio port forwarding (§10.3: stdin/stdout are the
// forwarded stream). Input arrives through InputSink from an InputSource the program supplies
// (stdin) or a test drives directly; output goes to a write function (stdout).
//
// Run on the session's strand; the InputSource must call the sink there too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "mocksvc/client/handler.hpp"

namespace mocksvc::client {

struct TerminalSize {
  std::uint32_t cols = 0;
  std::uint32_t rows = 0;
  friend bool operator==(const TerminalSize&, const TerminalSize&) = default;
};

// The size the plugin reports when stdout is not a terminal [observed] (§10.1), and how often
// it looks for a change (ResizeSleepInterval).
inline constexpr TerminalSize kDefaultTerminalSize{300, 100};
inline constexpr auto kResizePollInterval = std::chrono::milliseconds(500);

// Where input bytes come from. start() begins delivery to the sink; stop() ends it for good.
class InputSource {
 public:
  virtual ~InputSource() = default;
  virtual void start(InputSink& sink) = 0;
  virtual void stop() = 0;
};

struct StreamHandlerOptions {
  std::function<void(std::string_view)> write;  // stdout
  std::unique_ptr<InputSource> input;           // may be null: tests call on_input()
  // The plugin's process ends at stdin EOF without telling the service (§9). True keeps the
  // session until channel_closed instead (tests that pipe stdin).
  bool keep_session_after_eof = false;
};

class ShellHandler final : public SessionHandler, public InputSink {
 public:
  struct Options : StreamHandlerOptions {
    // The terminal's size now; nullopt when stdout is not a terminal (kDefaultTerminalSize).
    std::function<std::optional<TerminalSize>()> terminal_size;
    Duration resize_poll = kResizePollInterval;
  };
  explicit ShellHandler(Options options);
  ~ShellHandler() override;

  void start(HandlerContext& ctx) override;
  void on_payload(wire::PayloadType type, std::string_view payload) override;
  bool on_control_signal(ControlSignal signal) override;
  void stop() override;

  void on_input(std::string_view bytes) override;
  void on_input_eof() override;

  std::optional<TerminalSize> last_size_sent() const { return sent_size_; }

 private:
  void check_size();

  Options options_;
  HandlerContext* ctx_ = nullptr;
  std::unique_ptr<Timer> resize_timer_;
  std::optional<TerminalSize> sent_size_;
  bool stopped_ = false;
};

// Port sessions whose document has no LocalPortForwarding type (e.g. AWS-StartSSHSession, used
// as an ssh ProxyCommand): stdin and stdout are the stream (§10.2-§10.3).
class StdioPortHandler final : public SessionHandler, public InputSink {
 public:
  explicit StdioPortHandler(StreamHandlerOptions options);
  ~StdioPortHandler() override;

  void start(HandlerContext& ctx) override;
  bool accepts_stream_data() const override { return ctx_ != nullptr; }
  void on_payload(wire::PayloadType type, std::string_view payload) override;
  bool on_control_signal(ControlSignal signal) override;
  void stop() override;

  void on_input(std::string_view bytes) override;
  void on_input_eof() override;

 private:
  StreamHandlerOptions options_;
  HandlerContext* ctx_ = nullptr;
  bool stopped_ = false;
};

}  // namespace mocksvc::client
