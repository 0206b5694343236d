#include "loadgen/system.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ssmh::loadgen {
namespace {

std::optional<std::uint64_t> field_kib(const std::string& text, const char* name) {
  const std::string key = std::string(name) + ":";
  std::size_t at = 0;
  while ((at = text.find(key, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      const char* p = text.c_str() + at + key.size();
      char* end = nullptr;
      const unsigned long long v = std::strtoull(p, &end, 10);
      if (end == p) return std::nullopt;
      return static_cast<std::uint64_t>(v) * 1024;
    }
    at += key.size();
  }
  return std::nullopt;
}

std::uint64_t per_session_loadgen(const SocketPlan& p) {
  // The client's data channel; with simulated agents also the agent's data channel, and for
  // port sessions the agent's socket to the echo target and the target's end of it.
  std::uint64_t n = 1;
  if (p.agents) n += 1 + (p.port_workload ? 2 : 0);
  return n;
}

std::uint64_t per_session_service(const SocketPlan& p) {
  // The client's data channel; the agent's data channel (simulated agents) or, for virtual
  // port sessions, the virtual agent's socket to the built-in echo and the echo's end of it.
  std::uint64_t n = 1;
  if (p.agents) n += 1;
  else if (p.port_workload) n += 2;
  return n;
}

// Descriptors held regardless of the session count, per side: API connections, each agent's
// control channel and REST connection.
std::uint64_t fixed_loadgen(const SocketPlan& p) { return kFixedDescriptors + p.api_connections + 2 * p.agents; }
std::uint64_t fixed_service(const SocketPlan& p) { return kFixedDescriptors + p.api_connections + 2 * p.agents; }

}  // namespace

std::optional<MemoryUsage> parse_proc_status(const std::string& text) {
  auto rss = field_kib(text, "VmRSS");
  if (!rss) return std::nullopt;
  MemoryUsage m;
  m.rss_bytes = *rss;
  m.hwm_bytes = field_kib(text, "VmHWM").value_or(*rss);
  return m;
}

std::optional<MemoryUsage> read_memory(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return parse_proc_status(text.str());
}

std::array<double, 3> load_average() {
  std::array<double, 3> l{};
  if (::getloadavg(l.data(), 3) != 3) l = {};
  return l;
}

FileLimit raise_open_files_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return {};
  if (r.rlim_cur < r.rlim_max) {
    rlimit raised = r;
    raised.rlim_cur = r.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) r = raised;
  }
  return {static_cast<std::uint64_t>(r.rlim_cur), static_cast<std::uint64_t>(r.rlim_max)};
}

SocketBudget plan_sockets(const SocketPlan& p) {
  SocketBudget b;
  b.loadgen_per_session = per_session_loadgen(p);
  b.service_per_session = per_session_service(p);
  b.loadgen_total = fixed_loadgen(p) + p.open_sessions * b.loadgen_per_session;
  const std::uint64_t service = fixed_service(p) + p.open_sessions * b.service_per_session;
  if (p.service == Placement::in_process) {
    b.loadgen_total += service;
  } else {
    b.service_total = service;
  }
  if (p.baseline_connections) {
    // Client and server end of every connection; the server is in this process exactly when
    // mocksvc is.
    const std::uint64_t ends = p.service == Placement::in_process ? 2 : 1;
    b.baseline_loadgen_total = kFixedDescriptors + ends * p.baseline_connections;
  }
  std::ostringstream e;
  e << "each session holds " << b.loadgen_per_session << " socket" << (b.loadgen_per_session == 1 ? "" : "s")
    << " in the load generator (the client's data channel"
    << (p.agents ? (p.port_workload ? ", the agent's data channel, the agent's echo connection and the echo's end"
                                    : ", the agent's data channel")
                 : "")
    << ") and " << b.service_per_session << " in mocksvc (the client's data channel"
    << (p.agents ? ", the agent's data channel" : p.port_workload ? ", the virtual agent's echo connection and the echo's end" : "")
    << ")";
  b.explain = e.str();
  return b;
}

std::uint64_t max_sessions_within(const SocketPlan& p, std::uint64_t limit) {
  const std::uint64_t lg = per_session_loadgen(p);
  const std::uint64_t svc = per_session_service(p);
  auto fit = [limit](std::uint64_t fixed, std::uint64_t per) -> std::uint64_t {
    return limit > fixed ? (limit - fixed) / per : 0;
  };
  if (p.service == Placement::in_process) return fit(fixed_loadgen(p) + fixed_service(p), lg + svc);
  return std::min(fit(fixed_loadgen(p), lg), fit(fixed_service(p), svc));
}

std::string check_socket_budget(const SocketPlan& p, std::uint64_t limit) {
  const SocketBudget b = plan_sockets(p);
  std::ostringstream out;
  auto need = [&](const char* who, std::uint64_t total) {
    out << "this run needs about " << total << " open files in " << who << " (" << p.open_sessions
        << " sessions; " << b.explain << "), but the open-files limit (RLIMIT_NOFILE, a hard limit on this machine) is "
        << limit << ". ";
  };
  if (b.loadgen_total > limit) {
    need(p.service == Placement::in_process ? "the load generator's process, which also runs mocksvc" : "the load generator's process",
         b.loadgen_total);
  } else if (b.service_total > limit) {
    need("the mocksvc process", b.service_total);
  } else if (b.baseline_loadgen_total > limit) {
    out << "the baseline needs about " << b.baseline_loadgen_total << " open files in this process ("
        << p.baseline_connections << " WebSocket connections with both ends here), but the limit is " << limit
        << ". Run mocksvc as a separate process (--mocksvc-bin) so the baseline's server runs apart too, or "
           "--baseline off.";
    return out.str();
  } else {
    return {};
  }
  const std::uint64_t here = max_sessions_within(p, limit);
  out << "At most " << here << " sessions fit with this placement.";
  if (p.service == Placement::in_process) {
    SocketPlan apart = p;
    apart.service = Placement::process;
    out << " Run mocksvc as a separate process (--mocksvc-bin PATH, or --endpoint URL with --mocksvc-pid) to fit up to "
        << max_sessions_within(apart, limit) << ".";
  }
  if (p.port_workload && !p.agents) {
    SocketPlan shell = p;
    shell.port_workload = false;
    out << " The shell workload needs no echo connections (" << max_sessions_within(shell, limit) << " fit).";
  }
  return out.str();
}

}  // namespace ssmh::loadgen
