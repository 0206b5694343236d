#include "mocksvc/agent/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

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

  explicit ExecImage(const std::vector<std::string>& a) : args(a) {
    bool have_lang = false;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      if (kv.starts_with("TERM=")) continue;
      if (kv.starts_with("LANG=") && kv.size() > 5) have_lang = true;
      env.emplace_back(kv);
    }
    env.emplace_back("TERM=xterm-256color");
    if (!have_lang) env.emplace_back("LANG=C.UTF-8");
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// In the child: default signal dispositions and an empty mask (the mock may ignore SIGPIPE or
// block signals for its threads), and no inherited descriptors above `last_kept`.
void reset_child_state(int last_kept) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU}) {
    sigaction(sig, &sa, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const unsigned first = static_cast<unsigned>(last_kept) + 1;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, first, ~0U, 0U) == 0) return;
#endif
  const long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = first; fd < (max_fd > 0 ? max_fd : 1024); ++fd) close(static_cast<int>(fd));
}

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Moves a close-on-exec descriptor above 0-2, so dup2 onto the child's stdio cannot clobber it
// even when the mock runs with a standard descriptor closed.
bool lift_above_stdio(int& fd) {
  if (fd > 2) return true;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  close(fd);
  fd = moved;
  return true;
}

// Go's findExecutable: exists, is not a directory, and the mock may execute it.
bool is_executable_file(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return false;
  return faccessat(AT_FDCWD, path.c_str(), X_OK, AT_EACCESS) == 0;
}

// Go's filepath.Join(dir, file) for a clean file name: one separator, "./" dropped.
std::string join_path(std::string_view dir, std::string_view file) {
  if (dir == ".") return std::string(file);
  std::string p(dir);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p != "/") p += '/';
  return p + std::string(file);
}

// exec.LookPath for a name without '/': the first executable hit along $PATH (an empty entry
// means "."); a hit through a relative entry is refused as Go 1.19+ refuses it.
std::variant<std::string, StartFailure> look_path(const std::string& name) {
  const char* path_env = std::getenv("PATH");
  std::string_view path = path_env ? path_env : "";
  while (!path.empty()) {
    const auto colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    path = colon == std::string_view::npos ? std::string_view{} : path.substr(colon + 1);
    if (colon != std::string_view::npos && path.empty()) path = ".";  // a trailing ':' is "."
    if (dir.empty()) dir = ".";
    std::string candidate = join_path(dir, name);
    if (!is_executable_file(candidate)) continue;
    if (candidate.front() != '/') return StartFailure{StartFailure::Kind::relative_path, name, 0};
    return candidate;
  }
  return StartFailure{StartFailure::Kind::not_found, name, 0};
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
  ExecImage image(argv);

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
    reset_child_state(2);
    execve(image.argv[0], image.argv.data(), image.envp.data());
    _exit(127);
  }
  return PtyChild{pid, master};
}

std::variant<CommandChild, StartFailure> spawn_command(const std::vector<std::string>& argv,
                                                       bool merge_output) {
  if (argv.empty() || argv[0].empty()) return StartFailure{StartFailure::Kind::no_command, "", 0};
  std::string path = argv[0];
  if (path.find('/') == std::string::npos) {
    auto found = look_path(path);
    if (auto* failure = std::get_if<StartFailure>(&found)) return std::move(*failure);
    path = std::get<std::string>(std::move(found));
  }
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  int status[2] = {-1, -1};  // the child writes its execve errno here; exec closes it
  int null_fd = -1;
  auto fail = [&] {
    StartFailure failure{StartFailure::Kind::exec_failed, path, errno};
    for (int* p : {out, err, status}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    close_fd(null_fd);
    return failure;
  };
  if (pipe2(out, O_CLOEXEC) != 0 || !lift_above_stdio(out[0]) || !lift_above_stdio(out[1])) return fail();
  if (!merge_output &&
      (pipe2(err, O_CLOEXEC) != 0 || !lift_above_stdio(err[0]) || !lift_above_stdio(err[1]))) {
    return fail();
  }
  if (pipe2(status, O_CLOEXEC) != 0 || !lift_above_stdio(status[0]) || !lift_above_stdio(status[1])) {
    return fail();
  }
  null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || !lift_above_stdio(null_fd)) return fail();
  ExecImage image(argv);

  const pid_t pid = fork();
  if (pid < 0) return fail();
  if (pid == 0) {
    setsid();
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(merge_output ? out[1] : err[1], 2);
    // The status pipe becomes fd 3, still close-on-exec; everything above it is closed.
    if (status[1] != 3) dup2(status[1], 3);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    reset_child_state(3);
    execve(path.c_str(), image.argv.data(), image.envp.data());
    const int exec_errno = errno;
    ssize_t ignored = write(3, &exec_errno, sizeof exec_errno);
    (void)ignored;
    _exit(127);
  }
  close_fd(out[1]);
  close_fd(err[1]);
  close_fd(status[1]);
  close_fd(null_fd);
  int exec_errno = 0;
  ssize_t n = 0;
  do {
    n = read(status[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(status[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    int ignored = 0;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    close_fd(out[0]);
    close_fd(err[0]);
    return StartFailure{StartFailure::Kind::exec_failed, path, exec_errno};
  }
  return CommandChild{pid, out[0], err[0]};
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
