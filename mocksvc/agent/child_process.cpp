#include "mocksvc/agent/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace mocksvc::agent {
namespace {

using boost::system::error_code;

error_code last_error() { return error_code(errno, boost::system::system_category()); }

// argv and envp are built before fork: the child may only make async-signal-safe calls.
struct ExecImage {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;

  ExecImage(const std::vector<std::string>& a, bool terminal) : args(a) {
    bool have_lang = false;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (terminal && kv.starts_with("TERM=")) continue;
      if (kv.starts_with("LANG=")) have_lang = true;
      env.emplace_back(kv);
    }
    if (terminal) env.emplace_back("TERM=xterm-256color");
    if (!have_lang) env.emplace_back("LANG=C.UTF-8");
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// In the child: default signal dispositions and an empty mask (the mock may ignore SIGPIPE or
// block signals for its threads), and no inherited descriptors beyond 0-2.
void reset_child_state() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU}) {
    sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  const long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (max_fd > 0 ? max_fd : 1024); ++fd) close(static_cast<int>(fd));
}

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

boost::system::result<PtyChild> spawn_on_pty(const std::vector<std::string>& argv, unsigned rows,
                                             unsigned cols) {
  if (argv.empty()) return error_code(EINVAL, boost::system::system_category());
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return last_error();
  char slave_name[128];
  if (grantpt(master) != 0 || unlockpt(master) != 0 ||
      ptsname_r(master, slave_name, sizeof slave_name) != 0) {
    auto ec = last_error();
    close(master);
    return ec;
  }
  if (rows && cols) set_pty_size(master, rows, cols);
  ExecImage image(argv, /*terminal=*/true);

  const pid_t pid = fork();
  if (pid < 0) {
    auto ec = last_error();
    close(master);
    return ec;
  }
  if (pid == 0) {
    setsid();
    const int slave = open(slave_name, O_RDWR);
    if (slave < 0) _exit(127);
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    reset_child_state();
    execve(image.argv[0], image.argv.data(), image.envp.data());
    _exit(127);
  }
  return PtyChild{pid, master};
}

boost::system::result<PipeChild> spawn_with_pipes(const std::vector<std::string>& argv) {
  if (argv.empty()) return error_code(EINVAL, boost::system::system_category());
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  auto fail = [&] {
    auto ec = last_error();
    for (int* p : {in, out, err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    return ec;
  };
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return fail();
  if (pipe2(out, O_CLOEXEC) != 0) return fail();
  if (pipe2(err, O_CLOEXEC) != 0) return fail();
  ExecImage image(argv, /*terminal=*/false);

  const pid_t pid = fork();
  if (pid < 0) return fail();
  if (pid == 0) {
    setsid();
    dup2(in[1], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    reset_child_state();
    execve(image.argv[0], image.argv.data(), image.envp.data());
    _exit(127);
  }
  close_fd(in[1]);
  close_fd(out[1]);
  close_fd(err[1]);
  // The child reads stdin from a stream socket; shut our read side so only writes remain.
  shutdown(in[0], SHUT_RD);
  return PipeChild{pid, in[0], out[0], err[0]};
}

void set_pty_size(int master_fd, unsigned rows, unsigned cols) {
  struct winsize ws;
  std::memset(&ws, 0, sizeof ws);
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  ioctl(master_fd, TIOCSWINSZ, &ws);
}

void signal_group(pid_t pid, int signo) {
  if (pid > 0) kill(-pid, signo);
}

std::optional<ExitStatus> try_reap(pid_t pid) {
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) {
    if (errno == EINTR) return std::nullopt;
    return ExitStatus{0, 0};
  }
  if (WIFSIGNALED(status)) return ExitStatus{128 + WTERMSIG(status), WTERMSIG(status)};
  return ExitStatus{WEXITSTATUS(status), 0};
}

}  // namespace mocksvc::agent
