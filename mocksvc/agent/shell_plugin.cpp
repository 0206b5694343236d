// The shell-family session plugins (agent.md §6.5): Standard_Stream and InteractiveCommands on a
// terminal (emulated, or /bin/sh on a real pty) and NonInteractiveCommands without a terminal or
// shell (the shlex-split words run in the emulated interpreter, or exec'd with pipes), with
// separate stdout/stderr streams and the exit code.
#include <signal.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "mocksvc/agent/child_process.hpp"
#include "mocksvc/agent/command_line.hpp"
#include "mocksvc/agent/emulated_shell.hpp"
#include "mocksvc/agent/plugin.hpp"
#include "mocksvc/agent/utf8.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::agent {
namespace {

using boost::system::error_code;
using wire::PayloadType;

constexpr const char* kShellPath = "/bin/sh";
// The emulated shell is driven in steps of this much output, yielding the strand in between.
constexpr std::size_t kEmulatedStepBytes = 64 * 1024;
// The real agent validates separator prefixes against ^[0-9a-zA-Z\r\n_:-]{0,30}$ (§6.5).
constexpr std::size_t kMaxPrefixLength = 30;

bool valid_prefix(const std::string& p) {
  if (p.size() > kMaxPrefixLength) return false;
  for (unsigned char c : p) {
    if (!(std::isalnum(c) || c == '\r' || c == '\n' || c == '_' || c == ':' || c == '-')) return false;
  }
  return true;
}

SessionEnd completed() { return SessionEnd{SessionEnd::Reason::completed, "Success", ""}; }
SessionEnd failed(std::string output) {
  return SessionEnd{SessionEnd::Reason::failed, "Failed", std::move(output)};
}

// Polls waitpid until the child is gone, on the strand (no SIGCHLD handler in a library).
class Reaper : public std::enable_shared_from_this<Reaper> {
 public:
  static void watch(const Strand& strand, pid_t pid, std::function<void(ExitStatus)> done) {
    auto r = std::shared_ptr<Reaper>(new Reaper(strand, pid, std::move(done)));
    r->poll();
  }

 private:
  Reaper(const Strand& strand, pid_t pid, std::function<void(ExitStatus)> done)
      : timer_(strand), pid_(pid), done_(std::move(done)) {}

  void poll() {
    if (auto st = try_reap(pid_)) {
      if (done_) done_(*st);
      return;
    }
    // 1 ms, doubling to 50 ms: a shell that just closed its pty is reaped almost at once.
    delay_ = std::min(delay_ * 2, std::chrono::milliseconds(50));
    timer_.expires_after(delay_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->poll();
    });
  }

  boost::asio::steady_timer timer_;
  pid_t pid_;
  std::function<void(ExitStatus)> done_;
  std::chrono::milliseconds delay_{1};
};

// Prefixes for separateOutputStream, as the agent applies them per read: before the first
// non-empty read and after any read that ended in a newline.
class Prefixer {
 public:
  explicit Prefixer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string apply(std::string_view data) {
    if (prefix_.empty() || data.empty()) return std::string(data);
    std::string out;
    for (auto piece : split_chunks(data, kStreamChunkSize - prefix_.size(), true)) {
      if (need_) out += prefix_;
      out.append(piece);
      need_ = piece.back() == '\n';
    }
    return out;
  }

 private:
  std::string prefix_;
  bool need_ = true;
};

// ---------------------------------------------------------------------------------------------
// Emulated terminal: Standard_Stream and InteractiveCommands without processes.

class EmulatedTerminalPlugin final : public PluginBase,
                                     public std::enable_shared_from_this<EmulatedTerminalPlugin> {
 public:
  EmulatedTerminalPlugin(PluginContext ctx, EmulatedTerminal::Config config)
      : PluginBase(std::move(ctx)), term_(std::move(config)), sleep_timer_(ctx_.strand) {}

  void start() override {
    term_.start();
    drive();
  }
  bool ready() const override { return true; }
  void on_input(const wire::Message& m) override {
    if (m.payload_type == PayloadType::output) {
      term_.input(m.payload_text());
    } else if (m.payload_type == PayloadType::size) {
      if (auto size = wire::parse_size(m.payload_text())) term_.resize(size->rows, size->cols);
    }
    drive();
  }
  void on_writable() override {
    if (!waiting_writable_) return;
    waiting_writable_ = false;
    drive();
  }
  void stop() override {
    stopped_ = true;
    sleep_timer_.cancel();
  }

 private:
  void drive() {
    if (stopped_ || finished_) return;
    auto h = host();
    if (!h) return;
    const auto step = term_.advance(kEmulatedStepBytes);
    if (auto out = term_.take_output(); !out.empty()) h->emit(PayloadType::output, out, true);
    switch (step.state) {
      case Interpreter::State::exited:
        finish(completed());
        return;
      case Interpreter::State::running:
        if (h->output_blocked()) {
          waiting_writable_ = true;
        } else {
          boost::asio::post(ctx_.strand, [self = shared_from_this()] { self->drive(); });
        }
        return;
      case Interpreter::State::sleeping:
        if (armed_sleep_ != step.sleep_id) {
          armed_sleep_ = step.sleep_id;
          sleep_timer_.expires_after(step.sleep_for);
          sleep_timer_.async_wait([self = shared_from_this(), id = step.sleep_id](error_code ec) {
            if (ec || self->stopped_) return;
            self->term_.wake(id);
            self->drive();
          });
        }
        return;
      case Interpreter::State::idle:
      case Interpreter::State::reading_stdin:
        return;
    }
  }

  EmulatedTerminal term_;
  boost::asio::steady_timer sleep_timer_;
  std::uint64_t armed_sleep_ = 0;
  bool waiting_writable_ = false;
};

// ---------------------------------------------------------------------------------------------
// Real terminal: /bin/sh (or sh -c commands) on a pty.

class PtyPlugin final : public PluginBase, public std::enable_shared_from_this<PtyPlugin> {
 public:
  PtyPlugin(PluginContext ctx, std::vector<std::string> argv, std::string profile)
      : PluginBase(std::move(ctx)), argv_(std::move(argv)), profile_(std::move(profile)) {}
  ~PtyPlugin() override { kill_child(); }

  void start() override {
    auto child = spawn_on_pty(argv_, 0, 0);
    if (!child) {
      finish(failed("Unable to start shell: " + child.error().message()));
      return;
    }
    pid_ = child->pid;
    master_.emplace(ctx_.strand, child->master_fd);
    // The agent types the profile into the fresh terminal before anything else (§6.1 step 6).
    if (!profile_.empty()) queue_write(profile_ + "\n");
    read();
  }
  bool ready() const override { return master_.has_value(); }
  void on_input(const wire::Message& m) override {
    if (!master_) return;
    if (m.payload_type == PayloadType::output) {
      queue_write(std::string(m.payload_text()));
    } else if (m.payload_type == PayloadType::size) {
      if (auto size = wire::parse_size(m.payload_text())) {
        set_pty_size(master_->native_handle(), size->rows, size->cols);
      }
    }
  }
  void on_writable() override {
    if (!waiting_writable_) return;
    waiting_writable_ = false;
    read();
  }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    kill_child();
  }

 private:
  void kill_child() {
    if (master_) {
      error_code ignored;
      master_->close(ignored);
      master_.reset();
    }
    if (pid_ > 0 && !reaped_) {
      signal_group(pid_, SIGKILL);
      Reaper::watch(ctx_.strand, pid_, nullptr);
      reaped_ = true;
    }
  }

  void read() {
    if (reading_ || stopped_ || !master_) return;
    auto h = host();
    if (!h) return;
    if (h->output_blocked()) {
      waiting_writable_ = true;
      return;
    }
    reading_ = true;
    master_->async_read_some(boost::asio::buffer(buf_),
                             [self = shared_from_this()](error_code ec, std::size_t n) {
                               self->reading_ = false;
                               if (self->stopped_) return;
                               if (ec) {
                                 self->on_eof();
                                 return;
                               }
                               auto out = self->carry_.push({self->buf_.data(), n});
                               if (auto h2 = self->host()) h2->emit(PayloadType::output, out, true);
                               self->read();
                             });
  }

  // The slave side closed (EIO): the shell exited. Reap it, then end the session.
  void on_eof() {
    if (auto h = host()) h->emit(PayloadType::output, carry_.flush(), true);
    if (master_) {
      error_code ignored;
      master_->close(ignored);
      master_.reset();
    }
    reaped_ = true;
    Reaper::watch(ctx_.strand, pid_, [self = shared_from_this()](ExitStatus) {
      self->finish(completed());
    });
  }

  void queue_write(std::string data) {
    writes_.push_back(std::move(data));
    write_next();
  }
  void write_next() {
    if (writing_ || writes_.empty() || !master_) return;
    writing_ = true;
    boost::asio::async_write(*master_, boost::asio::buffer(writes_.front()),
                             [self = shared_from_this()](error_code ec, std::size_t) {
                               self->writing_ = false;
                               if (ec) {
                                 self->writes_.clear();
                                 return;
                               }
                               self->writes_.pop_front();
                               self->write_next();
                             });
  }

  std::vector<std::string> argv_;
  std::string profile_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::optional<boost::asio::posix::stream_descriptor> master_;
  std::array<char, kStreamChunkSize> buf_{};
  Utf8Carry carry_;
  bool reading_ = false;
  bool waiting_writable_ = false;
  std::deque<std::string> writes_;
  bool writing_ = false;
};

// ---------------------------------------------------------------------------------------------
// NonInteractiveCommands (agent.md §6.5): no terminal and no shell. The agent splits the commands
// with shlex and execs the words, stdin not assigned (/dev/null); stdout goes as PT 1, stderr as
// PT 11 with separateOutputStream (else as PT 1 too) and the exit status as PT 12
// "EXIT_CODE: <n>". Input is never written anywhere: a message holding Ctrl-C or Ctrl-\ signals
// the command (the first such byte wins), anything else is dropped; size messages are ignored.

// The exit code as Go's ExitCode() reports it: -1 for a process killed by a signal.
int reported_exit_code(const ExitStatus& st) { return st.signal ? -1 : st.code; }

// The signal an input message asks for, as the agent scans it (ByteControlSignalsLinux).
std::optional<int> control_signal(std::string_view input) {
  for (char c : input) {
    if (c == '\x03') return SIGINT;
    if (c == '\x1c') return SIGQUIT;
  }
  return std::nullopt;
}

class ExecOutput {
 public:
  explicit ExecOutput(const SessionDocument& doc)
      : separate_(doc.separate_output_stream), out_(separate_ ? doc.stdout_prefix : ""),
        err_(separate_ ? doc.stderr_prefix : "") {}

  void out(PluginHost& h, std::string_view data) {
    if (!data.empty()) h.emit(PayloadType::output, out_.apply(data), true);
  }
  void err(PluginHost& h, std::string_view data) {
    if (data.empty()) return;
    h.emit(separate_ ? PayloadType::std_err : PayloadType::output, err_.apply(data), true);
  }
  void exit_code(PluginHost& h, int code) {
    if (separate_) h.emit(PayloadType::exit_code, wire::encode_exit_code(code), false);
  }

 private:
  bool separate_;
  Prefixer out_;
  Prefixer err_;
};

std::optional<std::string> check_prefixes(const SessionDocument& doc) {
  if (!doc.separate_output_stream) return std::nullopt;
  if (!valid_prefix(doc.stdout_prefix)) return "invalid stdoutSeparatorPrefix " + doc.stdout_prefix;
  if (!valid_prefix(doc.stderr_prefix)) return "invalid stderrSeparatorPrefix " + doc.stderr_prefix;
  return std::nullopt;
}

// A program that did not start (agent.md §6.5): with separateOutputStream the agent first sends
// "EXIT_CODE: 1", then the error text as StdErr (no newline, no prefix) in either mode; the
// session ends Failed after Terminating.
void send_start_failure(PluginHost& h, const SessionDocument& doc, const StartFailure& failure) {
  if (doc.separate_output_stream) h.emit(PayloadType::exit_code, wire::encode_exit_code(1), false);
  h.emit(PayloadType::std_err, failure.text(), true);
}

// What both NonInteractiveCommands plugins share: the checks before anything runs, and how a
// start that failed is reported. Runs on the session strand, like every plugin.
class CommandPluginBase : public PluginBase {
 protected:
  using PluginBase::PluginBase;

  // The prefix check, then the argv to exec. On failure the session has been failed as the
  // agent fails it, and nullopt comes back.
  std::optional<std::vector<std::string>> prepare_command() {
    const SessionDocument& doc = ctx_.document;
    if (auto bad = check_prefixes(doc)) {
      finish(failed(*bad));
      return std::nullopt;
    }
    auto argv = command_argv(doc.commands);
    if (!argv) {
      // The agent sends its "Unable to start command" text as StdErr before failing.
      const std::string text = parse_failure_text(argv.error());
      if (auto h = host()) h->emit(PayloadType::std_err, text, true);
      finish(failed(text));
      return std::nullopt;
    }
    if (argv->empty()) {
      // Only comments: the real agent indexes the empty word list and its session worker
      // crashes. We report exec's own "no command" instead (our wording, not the agent's).
      report_start_failure(StartFailure{StartFailure::Kind::no_command, "", 0});
      return std::nullopt;
    }
    return std::move(*argv);
  }

  void report_start_failure(const StartFailure& failure) {
    if (auto h = host()) send_start_failure(*h, ctx_.document, failure);
    finish(failed("Error occurred starting the command: " + failure.text() + "\n"));
  }
};

class EmulatedExecPlugin final : public CommandPluginBase,
                                 public std::enable_shared_from_this<EmulatedExecPlugin> {
 public:
  explicit EmulatedExecPlugin(PluginContext ctx)
      : CommandPluginBase(std::move(ctx)),
        // Without separate streams stderr shares stdout's buffer, keeping their order.
        interp_(make_shell_identity(ctx_.profile.hostname, ctx_.profile.user), false,
                [this](std::string_view s) { out_buf_.append(s); },
                [this](std::string_view s) {
                  (ctx_.document.separate_output_stream ? err_buf_ : out_buf_).append(s);
                }),
        output_(ctx_.document),
        sleep_timer_(ctx_.strand) {}

  void start() override {
    auto argv = prepare_command();
    if (!argv) return;
    // The virtual instance has only the interpreter's programs; any other name fails to start
    // as a missing program does in pty mode.
    const std::string& name = argv->front();
    if (name.empty()) {
      report_start_failure(StartFailure{StartFailure::Kind::no_command, "", 0});
      return;
    }
    if (!Interpreter::is_program(name)) {
      if (name.find('/') == std::string::npos) {
        report_start_failure(StartFailure{StartFailure::Kind::not_found, name, 0});
      } else {
        report_start_failure(StartFailure{StartFailure::Kind::exec_failed, name, ENOENT});
      }
      return;
    }
    interp_.stdin_eof();
    interp_.submit_program(std::move(*argv));
    drive();
  }
  bool ready() const override { return true; }
  void on_input(const wire::Message& m) override {
    if (m.payload_type != PayloadType::output) return;
    if (auto sig = control_signal(m.payload_text())) {
      interp_.interrupt(*sig);
      drive();
    }
  }
  void on_writable() override {
    if (!waiting_writable_) return;
    waiting_writable_ = false;
    drive();
  }
  void stop() override {
    stopped_ = true;
    sleep_timer_.cancel();
  }

 private:
  void drive() {
    if (stopped_ || finished_) return;
    auto h = host();
    if (!h) return;
    auto step = interp_.run(kEmulatedStepBytes);
    if (step.state == Interpreter::State::idle) {
      interp_.exit_shell(interp_.last_status());  // the program (or sh -c script) is done
      step.state = Interpreter::State::exited;
    }
    output_.out(*h, out_buf_);
    output_.err(*h, err_buf_);
    out_buf_.clear();
    err_buf_.clear();
    switch (step.state) {
      case Interpreter::State::exited: {
        ExitStatus st{interp_.exit_status(), interp_.terminating_signal()};
        output_.exit_code(*h, reported_exit_code(st));
        finish(completed());
        return;
      }
      case Interpreter::State::running:
        if (h->output_blocked()) waiting_writable_ = true;
        else boost::asio::post(ctx_.strand, [self = shared_from_this()] { self->drive(); });
        return;
      case Interpreter::State::sleeping:
        if (armed_sleep_ != step.sleep_id) {
          armed_sleep_ = step.sleep_id;
          sleep_timer_.expires_after(step.sleep_for);
          sleep_timer_.async_wait([self = shared_from_this(), id = step.sleep_id](error_code ec) {
            if (ec || self->stopped_) return;
            self->interp_.wake(id);
            self->drive();
          });
        }
        return;
      case Interpreter::State::idle:
      case Interpreter::State::reading_stdin:
        return;
    }
  }

  Interpreter interp_;
  std::string out_buf_;
  std::string err_buf_;
  ExecOutput output_;
  boost::asio::steady_timer sleep_timer_;
  std::uint64_t armed_sleep_ = 0;
  bool waiting_writable_ = false;
};

class PipeExecPlugin final : public CommandPluginBase,
                             public std::enable_shared_from_this<PipeExecPlugin> {
 public:
  explicit PipeExecPlugin(PluginContext ctx) : CommandPluginBase(std::move(ctx)), output_(ctx_.document) {}
  ~PipeExecPlugin() override { kill_child(); }

  void start() override {
    auto argv = prepare_command();
    if (!argv) return;
    auto spawned = spawn_command(*argv, !ctx_.document.separate_output_stream);
    if (auto* failure = std::get_if<StartFailure>(&spawned)) {
      report_start_failure(*failure);
      return;
    }
    const auto& child = std::get<CommandChild>(spawned);
    pid_ = child.pid;
    streams_[0].emplace(ctx_.strand, child.stdout_fd);
    if (child.stderr_fd >= 0) streams_[1].emplace(ctx_.strand, child.stderr_fd);
    read(0);
    read(1);
  }
  // The agent never refuses input for this session type (it needs no terminal to exist).
  bool ready() const override { return true; }
  void on_input(const wire::Message& m) override {
    if (m.payload_type != PayloadType::output || pid_ <= 0 || reaped_) return;
    // The agent signals only the process; we signal its group, so children of a `sh -c` go too
    // instead of holding the output pipes open after the shell died.
    if (auto sig = control_signal(m.payload_text())) signal_group(pid_, *sig);
  }
  void on_writable() override {
    for (int i : {0, 1}) {
      if (waiting_[i]) {
        waiting_[i] = false;
        read(i);
      }
    }
  }
  void stop() override {
    if (stopped_) return;
    stopped_ = true;
    kill_child();
  }

 private:
  void kill_child() {
    error_code ignored;
    for (auto& s : streams_) {
      if (s) s->close(ignored);
      s.reset();
    }
    if (pid_ > 0 && !reaped_) {
      signal_group(pid_, SIGKILL);
      Reaper::watch(ctx_.strand, pid_, nullptr);
      reaped_ = true;
    }
  }

  void read(int i) {
    if (reading_[i] || stopped_ || !streams_[i]) return;
    auto h = host();
    if (!h) return;
    if (h->output_blocked()) {
      waiting_[i] = true;
      return;
    }
    reading_[i] = true;
    streams_[i]->async_read_some(
        boost::asio::buffer(bufs_[i]), [self = shared_from_this(), i](error_code ec, std::size_t n) {
          self->reading_[i] = false;
          if (self->stopped_) return;
          auto h2 = self->host();
          if (!h2) return;
          if (ec) {
            self->deliver(*h2, i, self->carries_[i].flush());
            error_code ignored;
            self->streams_[i]->close(ignored);
            self->streams_[i].reset();
            self->maybe_done();
            return;
          }
          self->deliver(*h2, i, self->carries_[i].push({self->bufs_[i].data(), n}));
          self->read(i);
        });
  }

  void deliver(PluginHost& h, int i, std::string_view data) {
    if (i == 0) output_.out(h, data);
    else output_.err(h, data);
  }

  // Both pipes closed: wait for the exit status, send it, end the session.
  void maybe_done() {
    if (streams_[0] || streams_[1] || reaped_) return;
    reaped_ = true;
    Reaper::watch(ctx_.strand, pid_, [self = shared_from_this()](ExitStatus st) {
      if (self->stopped_) return;
      if (auto h = self->host()) self->output_.exit_code(*h, reported_exit_code(st));
      self->finish(completed());
    });
  }

  ExecOutput output_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::array<std::optional<boost::asio::posix::stream_descriptor>, 2> streams_;
  std::array<std::array<char, kStreamChunkSize>, 2> bufs_{};
  std::array<Utf8Carry, 2> carries_;
  std::array<bool, 2> reading_{};
  std::array<bool, 2> waiting_{};
};

}  // namespace

std::shared_ptr<SessionPlugin> make_shell_plugin(PluginContext ctx) {
  const SessionDocument& doc = ctx.document;
  const bool pty = ctx.profile.shell == InstanceProfile::Shell::pty;
  if (doc.session_type == SessionType::non_interactive_commands) {
    if (pty) return std::make_shared<PipeExecPlugin>(std::move(ctx));
    return std::make_shared<EmulatedExecPlugin>(std::move(ctx));
  }
  // Standard_Stream runs an interactive shell unless the document names commands; the shell
  // profile is typed only into Standard_Stream sessions.
  const bool interactive = doc.commands.empty();
  std::string profile = doc.session_type == SessionType::standard_stream ? doc.shell_profile : "";
  if (pty) {
    std::vector<std::string> argv{kShellPath};
    if (!interactive) argv = {kShellPath, "-c", doc.commands};
    return std::make_shared<PtyPlugin>(std::move(ctx), std::move(argv), std::move(profile));
  }
  EmulatedTerminal::Config config;
  config.identity = make_shell_identity(ctx.profile.hostname, ctx.profile.user);
  config.interactive_shell = interactive;
  config.profile = std::move(profile);
  config.script = doc.commands;
  return std::make_shared<EmulatedTerminalPlugin>(std::move(ctx), std::move(config));
}

}  // namespace mocksvc::agent
