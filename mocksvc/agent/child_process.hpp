// Real processes for the pty-mode shell plugins: /bin/sh on a fresh pseudo-terminal, or
// `sh -c` with separate stdin/stdout/stderr, each in its own session so the whole process group
// can be signalled and killed. Only async-signal-safe calls run between fork and exec.
// Plain POSIX; the plugins wrap the returned descriptors in Asio objects on their strand.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

namespace mocksvc::agent {

struct PtyChild {
  pid_t pid = -1;
  int master_fd = -1;  // read: terminal output; write: keystrokes
};

struct PipeChild {
  pid_t pid = -1;
  int stdin_fd = -1;   // one end of a socketpair, so writes after the child exits fail with
                       // EPIPE instead of raising SIGPIPE in the mock (Asio sends MSG_NOSIGNAL)
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// argv[0] is the program path. The child gets the mock's environment plus TERM=xterm-256color
// (pty only) and LANG=C.UTF-8 when LANG is unset (agent.md §6.5). rows/cols 0 leave the size unset.
boost::system::result<PtyChild> spawn_on_pty(const std::vector<std::string>& argv, unsigned rows,
                                             unsigned cols);
boost::system::result<PipeChild> spawn_with_pipes(const std::vector<std::string>& argv);

// TIOCSWINSZ on a pty master.
void set_pty_size(int master_fd, unsigned rows, unsigned cols);
// Signals the child's whole process group (it leads its own session).
void signal_group(pid_t pid, int signo);

struct ExitStatus {
  int code = 0;     // exit code, or 128 + signal
  int signal = 0;   // the signal that killed it, 0 for a normal exit
};
// waitpid(WNOHANG): nullopt while the child runs; an ECHILD (someone else reaped it) reads as 0.
std::optional<ExitStatus> try_reap(pid_t pid);

}  // namespace mocksvc::agent
