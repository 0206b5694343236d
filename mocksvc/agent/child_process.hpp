// Real processes for the pty-mode shell plugins: /bin/sh on a fresh pseudo-terminal, or a
// NonInteractiveCommands program started as Go's os/exec starts it (PATH lookup, stdin from
// /dev/null, stdout and stderr on pipes), each in its own session so the whole process group can
// be signalled and killed. Only async-signal-safe calls run between fork and exec.
// Plain POSIX; the plugins wrap the returned descriptors in Asio objects on their strand.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/system/result.hpp>

#include "mocksvc/agent/command_line.hpp"

namespace mocksvc::agent {

struct PtyChild {
  pid_t pid = -1;
  int master_fd = -1;  // read: terminal output; write: keystrokes
};

struct CommandChild {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;  // -1 when stderr shares the stdout pipe
};

// Both children get the mock's environment plus TERM=xterm-256color, and LANG=C.UTF-8 when LANG
// is unset or empty (agent.md §6.5).

// argv[0] is the program path. rows/cols 0 leave the size unset.
boost::system::result<PtyChild> spawn_on_pty(const std::vector<std::string>& argv, unsigned rows,
                                             unsigned cols);

// Starts argv as exec.Command(argv[0], argv[1:]...).Start() does in the real agent: a name
// without '/' is looked up in the mock's $PATH (regular files the mock may execute; a hit
// through a relative entry is refused), execve runs it with argv[0] as given (no shell fallback
// for ENOEXEC), stdin reads /dev/null. With merge_output stderr shares the stdout pipe, as the
// agent's single output file does without separateOutputStream. The exec outcome comes back
// over a close-on-exec pipe, so a failed execve is a StartFailure, not an exit status.
std::variant<CommandChild, StartFailure> spawn_command(const std::vector<std::string>& argv,
                                                       bool merge_output);

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
