// The terminal side of the session-manager-plugin program: stdin as an InputSource, stdout as
// the output sink, the terminal's size, cbreak -echo mode (restored on exit and on terminating
// signals), and the control signals (SIGINT/SIGTSTP/SIGQUIT) the plugin catches (§10.1). Also
// the handler factory the program uses: shell sessions on the terminal, port sessions on local
// sockets or stdin/stdout.
//
// StdinSource and SignalWatcher run on the strand they are given (the session's); their
// callbacks run there. TerminalMode is process-wide.
//
// The program, in order: parse_args(); print a PrintAndExit or ArgsError and stop there; make a
// StrandScheduler; a ClientSession with SessionConfig::from_args, the net/ dialer and SSM
// ControlPlane on that strand, print = write_stdout, make_handler = this factory; a
// SignalWatcher whose control keys go to session.on_control_signal() (false: exit 130, the
// default) and whose terminations stop the session; start(); exit with on_finished's code.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "mocksvc/client/handler.hpp"
#include "mocksvc/client/shell.hpp"

namespace mocksvc::client {

// cbreak -echo on the controlling terminal (stdin), as the plugin's `stty` call does.
class TerminalMode {
 public:
  // Saves the current mode and switches; false (and nothing changed) when stdin is no tty.
  static bool enter();
  // Restores the saved mode, if any. Async-signal-safe (one tcsetattr).
  static void restore();
};

// TIOCGWINSZ on stdout; nullopt when stdout is not a terminal.
std::optional<TerminalSize> stdout_terminal_size();
// Writes all of `bytes` to stdout (blocking; retries partial writes and EINTR).
void write_stdout(std::string_view bytes);

// Reads a file descriptor (stdin by default) in chunks of at most kMaxChunk bytes, like the
// plugin's 1024-byte reads. Pipes, sockets and terminals are read asynchronously; regular files
// and other devices by posted blocking reads. The descriptor's flags are restored on stop().
// The sink may call stop() from inside on_input()/on_input_eof().
class StdinSource final : public InputSource {
 public:
  explicit StdinSource(boost::asio::any_io_executor strand, int fd = 0, bool raw_terminal = false);
  ~StdinSource() override;
  void start(InputSink& sink) override;
  void stop() override;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Catches SIGINT, SIGTSTP and SIGQUIT (the plugin's ControlSignals) and SIGTERM/SIGHUP.
class SignalWatcher {
 public:
  SignalWatcher(boost::asio::any_io_executor strand, std::function<void(ControlSignal)> on_control,
                std::function<void(int signo)> on_terminate);
  ~SignalWatcher();
  void cancel();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

struct ConsoleOptions {
  boost::asio::any_io_executor strand;  // the session's strand
  bool keep_session_after_eof = false;  // see StreamHandlerOptions
  std::function<void(std::string_view)> write = write_stdout;
  std::string listen_host;  // port sessions; see PortOptions
};

// Shell sessions: terminal in cbreak -echo, stdin forwarded, output to stdout, size polled.
// Port sessions: make_port_handler() with stdin/stdout for stdio mode.
HandlerFactory make_console_handler_factory(ConsoleOptions options);

}  // namespace mocksvc::client
