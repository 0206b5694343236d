// A program the load generator starts beside itself (a mocksvc, the baseline's echo server):
// spawned with its stdout on a pipe, whose first JSON line says it is ready, and ended with
// SIGTERM (SIGKILL if it does not go). Its stdin is a pipe too, so it sees EOF should the load
// generator die.
//
// Not thread-safe: one owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ssmh::loadgen {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // stop()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (a path) with argv; the error is one line.
  std::optional<std::string> spawn(const std::vector<std::string>& argv);
  // The first stdout line that starts with '{', within `timeout`; stderr passes through. nullopt
  // when the program exits or the time is up first.
  std::optional<std::string> read_json_line(std::chrono::milliseconds timeout);
  // Waits for the program to exit by itself, reading (and keeping) its stdout meanwhile; the exit
  // status, or nullopt when `timeout` passed first (it keeps running).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Everything read from stdout so far that read_json_line() did not return.
  const std::string& output() const { return buffer_; }
  // SIGTERM, then SIGKILL after `grace`; returns the exit status (-1 if unknown). Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::string buffer_;
};

// This program's own path (/proc/self/exe), for starting a helper copy of it.
std::string self_executable();

}  // namespace ssmh::loadgen
