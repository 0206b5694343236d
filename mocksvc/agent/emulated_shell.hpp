// The emulated shell of virtual instances: a deterministic sh-like interpreter (Interpreter) and
// the terminal around it (EmulatedTerminal: cooked-mode line discipline, echo, prompt, ^C/^D,
// \n -> \r\n), so a session behaves like dash on a pty without any process.
// Pure and single-threaded: time (sleep) and input are driven by the caller, who owns the timers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mocksvc::agent {

struct ShellIdentity {
  std::string hostname = "ip-10-0-0-1";
  std::string user = "ssm-user";
  int uid = 1001;
  int gid = 1001;
  std::string home = "/home/ssm-user";
  // Session shells start in the agent's working directory, which is /usr/bin for the packaged
  // agent; `pwd` in a fresh Session Manager shell famously prints it.
  std::string cwd = "/usr/bin";
};
// root gets uid/gid 0 and /root; any other user 1001 and /home/<user>.
ShellIdentity make_shell_identity(std::string hostname, std::string user);

// Runs command lines. Supported: echo, printf, seq (streamed in budgeted steps), sleep (the
// caller waits), cat (reads stdin), hostname, whoami, id, pwd, cd, uname, tty, stty size, env,
// export, unset, true, false, :, exit; quoting, $VAR/${VAR}/$?/$$/$0-$9/$#/$@, $(...) and `...`
// for instant commands, $((...)) arithmetic (dash's operators on 64-bit integers, variables,
// assignment), `;` `&&` `||`, and redirections of fd 1/2 to each other or to /dev/null. Anything else is
// "sh: <line>: <cmd>: not found" with status 127, as dash prints it. An expansion error (bad
// arithmetic, division by zero, a bad redirection) aborts the line with status 2 and ends a
// non-interactive shell, as in dash.
class Interpreter {
 public:
  using Writer = std::function<void(std::string_view)>;
  enum class State {
    idle,           // nothing to run: give it a line (or, without a prompt, the script is done)
    running,        // a streaming command used up its output budget: call run() again
    sleeping,       // call wake() after sleep_for
    reading_stdin,  // a command waits for stdin_data() / stdin_eof()
    exited,         // the shell has exited; exit_status() holds the status
  };
  struct Step {
    State state = State::idle;
    std::chrono::milliseconds sleep_for{0};
    std::uint64_t sleep_id = 0;  // names this sleep: a timer armed for an older one must not wake it
  };
  // Output one run() may produce from a streaming command before it yields.
  static constexpr std::size_t kDefaultBudget = 64 * 1024;

  // interactive: a prompt-driven shell (^C aborts the current line); otherwise `sh -c` (a signal
  // ends the shell).
  Interpreter(ShellIdentity identity, bool interactive, Writer out, Writer err);

  void submit(std::string_view text);  // one or more lines, split on '\n'
  // Runs argv as one program started by exec (NonInteractiveCommands, agent.md §6.5): no
  // expansion and no shell syntax, and echo is /bin/echo (escapes only with -e). A shell (sh,
  // bash, dash) given -c runs its script as `sh -c` would (the words after it are $0, $1, ...);
  // without a script it reads stdin.
  // argv[0] should pass is_program(); anything else ends with status 127 and no output.
  void submit_program(std::vector<std::string> argv);
  // Whether `name` is a program on the virtual instance: one of the supported commands that is
  // an executable on a real system (not cd, exit, export, unset), by bare name or as
  // /bin/<name>, /usr/bin/<name>, /sbin/<name>, /usr/sbin/<name> or /usr/local/bin/<name>.
  static bool is_program(std::string_view name);
  Step run(std::size_t budget = kDefaultBudget);
  void wake(std::uint64_t sleep_id = 0);  // 0 wakes whichever sleep is running
  void stdin_data(std::string_view data);
  void stdin_eof();
  void interrupt(int signo);       // SIGINT (2) or SIGQUIT (3)
  void exit_shell(int status);     // EOF at the prompt, or the end of a script
  void set_window_size(unsigned rows, unsigned cols);

  bool busy() const;  // a command line is underway
  bool exited() const { return exited_; }
  int exit_status() const { return exit_status_; }
  int last_status() const { return last_status_; }
  // The signal that ended a non-interactive shell, 0 if it exited normally.
  int terminating_signal() const { return terminating_signal_; }

 private:
  enum class Link { always, and_then, or_else };
  struct Segment {
    std::string text;
    Link link = Link::always;
    std::vector<std::string> program;  // non-empty: an exec'd argv, run without expansion
  };
  enum class Fd : std::uint8_t { out, err, null };
  struct Expanded {
    std::vector<std::string> argv;
    Fd fd1 = Fd::out;
    Fd fd2 = Fd::err;
    bool ok = true;
  };
  enum class Active { none, seq, sleep, cat };

  void start_line(const std::string& line);
  void exec_next_segment();
  Expanded expand(std::string_view text, int depth);
  std::string expand_dollar(std::string_view text, std::size_t& i, int depth);
  std::string capture(std::string_view command, int depth);
  std::string arithmetic(std::string_view body, int depth);
  void fail_expansion(std::string message);
  int run_program(std::vector<std::string> argv);
  int run_builtin(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  void write(Fd fd, std::string_view s);
  void error(Fd fd2, std::string_view text);  // "sh: <line>: <text>\n"
  bool continue_seq();

  int cmd_echo(const std::vector<std::string>& argv, Fd fd1);
  int cmd_echo_program(const std::vector<std::string>& argv, Fd fd1);
  int cmd_printf(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  int cmd_seq(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  int cmd_sleep(const std::vector<std::string>& argv, Fd fd2);
  int cmd_cat(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  int cmd_id(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  int cmd_uname(const std::vector<std::string>& argv, Fd fd1, Fd fd2);
  int cmd_cd(const std::vector<std::string>& argv);
  int cmd_exit(const std::vector<std::string>& argv, Fd fd2);

  ShellIdentity id_;
  bool interactive_;
  Writer out_;
  Writer err_;
  std::map<std::string, std::string> vars_;
  std::vector<std::string> params_{"sh"};  // $0, $1, ...
  std::deque<std::string> lines_;
  std::deque<Segment> segments_;
  int line_no_ = 0;
  int last_status_ = 0;
  bool exited_ = false;
  int exit_status_ = 0;
  int terminating_signal_ = 0;
  std::string expansion_error_;  // set by an expansion that failed; expand() reports it
  unsigned rows_ = 0;
  unsigned cols_ = 0;

  Active active_ = Active::none;
  Fd active_fd_ = Fd::out;
  std::int64_t seq_next_ = 0;
  std::int64_t seq_step_ = 1;
  std::int64_t seq_last_ = 0;
  std::chrono::milliseconds sleep_for_{0};
  std::uint64_t sleep_id_ = 0;
  std::string stdin_buf_;
  bool stdin_eof_ = false;
  std::size_t budget_ = kDefaultBudget;
  std::size_t produced_ = 0;
};

// A pty in cooked mode around an Interpreter: echoes keystrokes (CR -> "\r\n", control
// characters as ^X), edits the line (DEL/BS, ^U), turns ^C into SIGINT (prints "^C", aborts the
// line, new prompt), ^D on an empty line into EOF, queues typed-ahead lines, and translates program
// output "\n" -> "\r\n". With interactive_shell it prints "$ " ("# " for root) before each line it
// reads; otherwise it runs `script` like `sh -c` on a pty and exits with its status.
class EmulatedTerminal {
 public:
  struct Config {
    ShellIdentity identity;
    bool interactive_shell = true;
    std::string profile;  // typed before the shell starts (echoed, then run), as the agent does
    std::string script;   // run instead of a prompt when interactive_shell is false
  };
  explicit EmulatedTerminal(Config config);
  EmulatedTerminal(const EmulatedTerminal&) = delete;
  EmulatedTerminal& operator=(const EmulatedTerminal&) = delete;

  void start();
  void input(std::string_view bytes);
  void resize(unsigned rows, unsigned cols) { interp_.set_window_size(rows, cols); }
  // Runs the shell as far as it can go; the state says what it waits for.
  Interpreter::Step advance(std::size_t budget = Interpreter::kDefaultBudget);
  void wake(std::uint64_t sleep_id = 0) { interp_.wake(sleep_id); }
  // Bytes the terminal produced since the last call (echo, prompts, program output).
  std::string take_output();
  bool exited() const { return interp_.exited(); }
  int exit_status() const { return interp_.exit_status(); }

 private:
  void erase_last_char();
  void program_output(std::string_view s);

  Config config_;
  std::string out_;
  Interpreter interp_;
  std::string line_;
  std::deque<std::optional<std::string>> typed_;  // completed lines; nullopt is ^D
  bool need_prompt_ = true;
};

}  // namespace mocksvc::agent
