// A program under test as a child process: posix_spawn with pipes for stdin, stdout and stderr,
// and waits that always end at a deadline. Output is read as it comes (both pipes drained, so
// the child never blocks on a full pipe); expectations consume stdout up to the match.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ssmh::plugin::testing {

class ChildProcess {
 public:
  // argv[0] is looked up in the PATH of `env` when it has no '/'. nullptr (and *error set)
  // when the spawn fails.
  static std::unique_ptr<ChildProcess> spawn(const std::vector<std::string>& argv,
                                             const std::vector<std::string>& env, std::string* error);
  ~ChildProcess();  // SIGKILLs and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool write(std::string_view bytes);
  void close_stdin();
  void send_signal(int signo);

  // True once stdout past the last match contains `needle`; the match and what precedes it are
  // then consumed. False at the deadline or when the child closed stdout without it.
  bool expect(std::string_view needle, std::chrono::milliseconds timeout);
  // The same on stderr (its own cursor), e.g. for the program's log lines.
  bool expect_stderr(std::string_view needle, std::chrono::milliseconds timeout);
  // Exit status (128 + n for a signal), or nullopt at the deadline. Drains output meanwhile.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  std::string_view unconsumed() const { return std::string_view(out_).substr(consumed_); }
  // Everything seen so far, for failure messages.
  std::string transcript() const;
  pid_t pid() const { return pid_; }

 private:
  ChildProcess() = default;
  // Reads whatever is available within `timeout`; false when both pipes are closed.
  bool pump(std::chrono::milliseconds timeout);
  bool expect_in(const std::string& text, std::size_t& cursor, const int& fd, std::string_view needle,
                 std::chrono::milliseconds timeout);
  bool reap(bool block);

  pid_t pid_ = -1;
  int in_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::size_t consumed_ = 0;
  std::size_t err_consumed_ = 0;
  std::optional<int> status_;
};

}  // namespace ssmh::plugin::testing
