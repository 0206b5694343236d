// How a NonInteractiveCommands session turns properties.linux.commands into a program and its
// arguments, and how a start that fails is worded (agent.md §6.5). The real agent runs no shell
// there: it splits the string with Go's github.com/google/shlex and hands the words to os/exec.
// Pure functions; the pty plugin spawns the result, the emulated plugin runs it in the interpreter.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mocksvc/agent/error.hpp"

namespace mocksvc::agent {

// shlex.Split. Words are separated by space, tab, CR and LF. Within '...' every character is
// literal; within "..." a backslash escapes any next character (and is dropped); outside quotes
// a backslash escapes any next character. Quotes join onto the word around them ('' alone is an
// empty word). A '#' that starts a word comments out the rest of the line. Nothing else is
// special: no expansion, no operators, no globbing. An unclosed quote is Error::unterminated_quote
// and a trailing backslash Error::trailing_escape (their messages are shlex's). Invalid UTF-8 bytes
// become U+FFFD, as Go's rune reader turns them.
Result<std::vector<std::string>> shlex_split(std::string_view s);

// Go's strings.TrimSpace(s) == "" (ASCII and Unicode spaces).
bool is_blank_command(std::string_view s);

// The argv the agent starts for `commands`: {"sh"} when blank, else shlex_split's words. A string
// of comments alone yields no words.
Result<std::vector<std::string>> command_argv(std::string_view commands);

// What the agent sends as StdErr when shlex_split fails ("Unable to start command: Failed to
// parse commands input: <shlex message>\n\n": both layers of its wrapping end in a newline).
std::string parse_failure_text(const boost::system::error_code& ec);

// A program that could not start, worded as Go's os/exec words it; the agent sends text() as
// StdErr (agent.md §6.5).
struct StartFailure {
  enum class Kind {
    no_command,     // argv[0] is empty: exec: no command
    not_found,      // a bare name on no PATH entry: exec: "<name>": executable file not found in $PATH
    relative_path,  // found only through a relative PATH entry (Go 1.19+ refuses it)
    exec_failed,    // execve failed: fork/exec <path>: <errno text>
  };
  Kind kind = Kind::not_found;
  std::string name;  // argv[0] as given; for exec_failed the path handed to execve
  int error = 0;     // errno, for exec_failed
  std::string text() const;
};

// strconv.Quote for the names in exec errors: "..." with \" \\ and control bytes escaped.
std::string go_quote(std::string_view s);
// syscall.Errno.Error(): the C library's text with a lowercase first letter
// ("no such file or directory", "permission denied", "exec format error").
std::string go_errno_text(int error);

}  // namespace mocksvc::agent
