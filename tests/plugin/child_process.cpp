#include "tests/plugin/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ssmh::plugin::testing {
namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string path_of(const std::vector<std::string>& env) {
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) return e.substr(5);
  return "/usr/bin:/bin";
}

// posix_spawnp searches the parent's PATH; the child's own PATH is what the test means.
std::string resolve(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  const std::string path = path_of(env);
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv,
                                                  const std::vector<std::string>& env, std::string* error) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    if (error) *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // The child starts with default signal dispositions and an empty mask whatever the test
  // runner set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string program = resolve(argv.at(0), env);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    if (error) *error = "posix_spawn " + program + ": " + std::strerror(rc);
    return nullptr;
  }
  std::unique_ptr<ChildProcess> c(new ChildProcess());
  c->pid_ = pid;
  c->in_ = in[1];
  c->out_fd_ = out[0];
  c->err_fd_ = err[0];
  ::fcntl(c->out_fd_, F_SETFL, ::fcntl(c->out_fd_, F_GETFL) | O_NONBLOCK);
  ::fcntl(c->err_fd_, F_SETFL, ::fcntl(c->err_fd_, F_GETFL) | O_NONBLOCK);
  return c;
}

ChildProcess::~ChildProcess() {
  close_fd(in_);
  if (!status_ && pid_ > 0) {
    // The child leads its own process group: take down anything it started too.
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  close_fd(out_fd_);
  close_fd(err_fd_);
}

bool ChildProcess::write(std::string_view bytes) {
  while (!bytes.empty()) {
    if (in_ < 0) return false;
    const ssize_t n = ::write(in_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void ChildProcess::close_stdin() { close_fd(in_); }

void ChildProcess::send_signal(int signo) {
  if (!status_ && pid_ > 0) ::kill(pid_, signo);
}

bool ChildProcess::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  const int ready = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (ready <= 0) return true;
  char buf[8192];
  int* fd_of[2] = {&out_fd_, &err_fd_};
  std::string* sink_of[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    for (;;) {
      const ssize_t n = ::read(*fd_of[i], buf, sizeof buf);
      if (n > 0) {
        sink_of[i]->append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EINTR)) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close_fd(*fd_of[i]);  // EOF or error
      break;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool ChildProcess::expect_in(const std::string& text, std::size_t& cursor, const int& fd, std::string_view needle,
                             std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto at = text.find(needle, cursor);
    if (at != std::string::npos) {
      cursor = at + needle.size();
      return true;
    }
    const auto now = Clock::now();
    if (now >= deadline) return false;
    if (fd < 0) return false;  // the pipe is closed: nothing more will come
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pump(std::min(left, std::chrono::milliseconds(100)));
  }
}

bool ChildProcess::expect(std::string_view needle, std::chrono::milliseconds timeout) {
  return expect_in(out_, consumed_, out_fd_, needle, timeout);
}

bool ChildProcess::expect_stderr(std::string_view needle, std::chrono::milliseconds timeout) {
  return expect_in(err_, err_consumed_, err_fd_, needle, timeout);
}

bool ChildProcess::reap(bool block) {
  if (status_) return true;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!reap(false)) {
    const auto now = Clock::now();
    if (now >= deadline) return std::nullopt;
    const auto step = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                               std::chrono::milliseconds(20));
    if (out_fd_ >= 0 || err_fd_ >= 0) {
      pump(step);
    } else {
      // Both pipes closed (maybe inherited by a grandchild): poll the exit status.
      ::poll(nullptr, 0, static_cast<int>(step.count()));
    }
  }
  // Whatever the child wrote last: read until both pipes close, briefly.
  const auto drain_until = Clock::now() + std::chrono::milliseconds(500);
  while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_until) pump(std::chrono::milliseconds(50));
  return status_;
}

std::string ChildProcess::transcript() const {
  return "--- stdout ---\n" + out_ + "\n--- stderr ---\n" + err_ + "\n--------------";
}

}  // namespace ssmh::plugin::testing
