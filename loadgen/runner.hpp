// A whole load run: checks the open-files budget, brings up the service (in this process, as a
// child process, or at a URL) and the simulated agents if asked, launches sessions closed-loop
// (N in flight, starts spread over the ramp-up, each slot starting anew until the duration ends)
// or open-loop (arrivals at a fixed rate, climbing over the ramp-up, waiting for a free slot
// when the cap is reached, latency counted from the intended arrival), prints one progress line
// a second, enforces the hard bounds, then runs the baseline and builds the summary.
//
// run_load() blocks the calling thread, which must not be an I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "loadgen/options.hpp"
#include "loadgen/summary.hpp"

namespace ssmh::loadgen {

struct RunOutcome {
  std::optional<Summary> summary;  // empty when the run could not start
  std::string error;               // why not, one paragraph
};

// `interrupted` (optional) ends the run early like --max-time does, e.g. on SIGINT.
RunOutcome run_load(const Options& o, std::ostream& progress, const std::atomic<bool>* interrupted = nullptr);

// The k-th (0-based) arrival of an open loop, in seconds from the start: the rate climbs
// linearly from 0 to `rate` over `ramp_s`, then stays.
double open_loop_arrival(std::uint64_t k, double rate, double ramp_s);

}  // namespace ssmh::loadgen
