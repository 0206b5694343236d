#include "mocksvc/client/console.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>

#include "mocksvc/client/port.hpp"

namespace mocksvc::client {
namespace {

namespace asio = boost::asio;

// Saved by enter(), read by restore() from signal context: plain globals, no locking.
struct termios g_saved_mode;
volatile std::sig_atomic_t g_mode_saved = 0;

}  // namespace

// ---- terminal -----------------------------------------------------------------------------

bool TerminalMode::enter() {
  if (!::isatty(STDIN_FILENO)) return false;
  struct termios mode;
  if (::tcgetattr(STDIN_FILENO, &mode) != 0) return false;
  if (!g_mode_saved) {
    g_saved_mode = mode;
    g_mode_saved = 1;
  }
  // `stty cbreak -echo`: no line buffering, no echo; signals still come from the keys.
  mode.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
  mode.c_cc[VMIN] = 1;
  mode.c_cc[VTIME] = 0;
  return ::tcsetattr(STDIN_FILENO, TCSANOW, &mode) == 0;
}

void TerminalMode::restore() {
  if (g_mode_saved) ::tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_mode);
}

std::optional<TerminalSize> stdout_terminal_size() {
  struct winsize ws {};
  if (!::isatty(STDOUT_FILENO) || ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  if (ws.ws_col == 0 || ws.ws_row == 0) return std::nullopt;
  return TerminalSize{ws.ws_col, ws.ws_row};
}

void write_stdout(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// ---- stdin --------------------------------------------------------------------------------

struct StdinSource::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, int source_fd, bool raw)
      : strand(std::move(ex)), fd(source_fd), raw_terminal(raw), descriptor(strand) {}

  asio::any_io_executor strand;
  int fd;
  bool raw_terminal;
  asio::posix::stream_descriptor descriptor;
  int saved_flags = -1;
  bool async = false;
  bool running = false;
  InputSink* sink = nullptr;
  std::array<char, kMaxChunk> buf{};

  void start(InputSink& s) {
    sink = &s;
    running = true;
    if (raw_terminal) TerminalMode::enter();
    struct stat st {};
    const bool pollable = ::fstat(fd, &st) == 0 &&
                          (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || ::isatty(fd));
    if (pollable) {
      const int dup_fd = ::dup(fd);
      if (dup_fd >= 0) {
        saved_flags = ::fcntl(fd, F_GETFL);
        boost::system::error_code ec;
        descriptor.assign(dup_fd, ec);
        async = !ec;
        if (ec) ::close(dup_fd);
      }
    }
    read_next();
  }

  void read_next() {
    if (!running) return;
    if (async) {
      descriptor.async_read_some(
          asio::buffer(buf), [self = shared_from_this()](const boost::system::error_code& ec,
                                                         std::size_t n) {
            if (!self->running) return;
            if (ec) {
              self->eof();
              return;
            }
            self->deliver(n);
          });
      return;
    }
    asio::post(strand, [self = shared_from_this()] {
      if (!self->running) return;
      ssize_t n;
      do {
        n = ::read(self->fd, self->buf.data(), self->buf.size());
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        self->eof();
        return;
      }
      self->deliver(static_cast<std::size_t>(n));
    });
  }

  void deliver(std::size_t n) {
    sink->on_input(std::string_view(buf.data(), n));
    read_next();
  }

  void eof() {
    InputSink* s = sink;
    stop();
    s->on_input_eof();
  }

  void stop() {
    if (!running) return;
    running = false;
    boost::system::error_code ignored;
    if (descriptor.is_open()) descriptor.close(ignored);
    if (saved_flags >= 0) ::fcntl(fd, F_SETFL, saved_flags);
    if (raw_terminal) TerminalMode::restore();
  }
};

StdinSource::StdinSource(asio::any_io_executor strand, int fd, bool raw_terminal)
    : state_(std::make_shared<State>(std::move(strand), fd, raw_terminal)) {}

StdinSource::~StdinSource() { state_->stop(); }

void StdinSource::start(InputSink& sink) { state_->start(sink); }
void StdinSource::stop() { state_->stop(); }

// ---- signals ------------------------------------------------------------------------------

struct SignalWatcher::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor strand, std::function<void(ControlSignal)> control,
        std::function<void(int)> terminate)
      : set(strand, SIGINT, SIGTSTP, SIGQUIT),
        on_control(std::move(control)),
        on_terminate(std::move(terminate)) {
    boost::system::error_code ignored;
    set.add(SIGTERM, ignored);
    set.add(SIGHUP, ignored);
  }

  asio::signal_set set;
  std::function<void(ControlSignal)> on_control;
  std::function<void(int)> on_terminate;
  bool cancelled = false;

  void wait() {
    set.async_wait([self = shared_from_this()](const boost::system::error_code& ec, int signo) {
      if (ec || self->cancelled) return;
      switch (signo) {
        case SIGINT:
          if (self->on_control) self->on_control(ControlSignal::interrupt);
          break;
        case SIGTSTP:
          if (self->on_control) self->on_control(ControlSignal::suspend);
          break;
        case SIGQUIT:
          if (self->on_control) self->on_control(ControlSignal::quit);
          break;
        default:
          TerminalMode::restore();
          if (self->on_terminate) self->on_terminate(signo);
          break;
      }
      if (!self->cancelled) self->wait();
    });
  }
};

SignalWatcher::SignalWatcher(asio::any_io_executor strand,
                             std::function<void(ControlSignal)> on_control,
                             std::function<void(int)> on_terminate)
    : state_(std::make_shared<State>(std::move(strand), std::move(on_control),
                                     std::move(on_terminate))) {
  state_->wait();
}

SignalWatcher::~SignalWatcher() { cancel(); }

void SignalWatcher::cancel() {
  if (state_->cancelled) return;
  state_->cancelled = true;
  boost::system::error_code ignored;
  state_->set.cancel(ignored);
}

// ---- the program's handlers ---------------------------------------------------------------

HandlerFactory make_console_handler_factory(ConsoleOptions options) {
  return [options = std::move(options)](
             const SessionTypeInfo& info) -> std::unique_ptr<SessionHandler> {
    if (info.session_type == kShellSessionType) {
      ShellHandler::Options o;
      o.write = options.write;
      o.input = std::make_unique<StdinSource>(options.strand, STDIN_FILENO, /*raw_terminal=*/true);
      o.keep_session_after_eof = options.keep_session_after_eof;
      o.terminal_size = stdout_terminal_size;
      return std::make_unique<ShellHandler>(std::move(o));
    }
    if (info.session_type == kPortSessionType) {
      PortOptions o;
      o.executor = options.strand;
      o.listen_host = options.listen_host;
      o.stdio.write = options.write;
      o.stdio.input = std::make_unique<StdinSource>(options.strand, STDIN_FILENO);
      o.stdio.keep_session_after_eof = options.keep_session_after_eof;
      return make_port_handler(info, std::move(o));
    }
    return nullptr;
  };
}

}  // namespace mocksvc::client
