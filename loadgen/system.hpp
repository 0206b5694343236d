// What the load generator reads from the machine: a process's resident memory (VmRSS, VmHWM from
// /proc/<pid>/status), the load average, and the open-files limit, with the socket budget of a
// run checked against it before anything starts (one process may hold at most RLIMIT_NOFILE
// descriptors: 20,000 on the machines this harness is measured on).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace ssmh::loadgen {

struct MemoryUsage {
  std::uint64_t rss_bytes = 0;  // VmRSS
  std::uint64_t hwm_bytes = 0;  // VmHWM: the peak resident set
};

// Parses the text of /proc/<pid>/status; nullopt when VmRSS is missing.
std::optional<MemoryUsage> parse_proc_status(const std::string& text);
std::optional<MemoryUsage> read_memory(std::int64_t pid);

std::array<double, 3> load_average();

struct FileLimit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};
// Raises the soft limit to the hard one (allowed without privileges) and returns both.
FileLimit raise_open_files_limit();

// Where the sockets of a run live.
enum class Placement { in_process, process, external };

struct SocketPlan {
  Placement service = Placement::in_process;
  bool port_workload = true;  // sessions dial a TCP echo target behind the agent
  std::uint64_t open_sessions = 0;
  std::uint64_t agents = 0;  // simulated agents in the load generator's process
  std::uint64_t api_connections = 16;
  std::uint64_t baseline_connections = 0;  // 0: no baseline
};

struct SocketBudget {
  // Descriptors each side holds per open session and in all, at the run's peak.
  std::uint64_t loadgen_per_session = 0;
  std::uint64_t service_per_session = 0;
  std::uint64_t loadgen_total = 0;  // the load generator's process (mocksvc included when in-process)
  std::uint64_t service_total = 0;  // a separate mocksvc process; 0 when in-process
  std::uint64_t baseline_loadgen_total = 0;  // during the baseline
  std::string explain;  // one line: what each session holds where
};

// Descriptors that are not sockets of sessions: stdio, epoll, eventfds, listeners, the state
// directory's files, the resolver and timers. Measured under 40; this leaves room.
inline constexpr std::uint64_t kFixedDescriptors = 64;

SocketBudget plan_sockets(const SocketPlan& plan);
// The most sessions that fit under `limit` with this plan (open_sessions ignored).
std::uint64_t max_sessions_within(const SocketPlan& plan, std::uint64_t limit);
// Empty when the plan fits; otherwise one clear paragraph: what the run needs, the limit, and
// how to make it fit.
std::string check_socket_budget(const SocketPlan& plan, std::uint64_t limit);

}  // namespace ssmh::loadgen
