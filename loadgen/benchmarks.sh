#!/usr/bin/env bash
# The load-test figures of the README's "Load tests" section: one loadgen run per goal, each
# against its own mocksvc process, each started only once the machine is quiet (other builds
# share these 2 cores). Writes one JSON summary per run into OUT and prints the table rows.
#
#   loadgen/benchmarks.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, loadgen-results)
#   QUIET_LOAD=1.0 QUIET_WAIT=1800 RUNS="g1 g3" loadgen/benchmarks.sh build-loadgen
set -euo pipefail

build=${1:-build}
out=${2:-loadgen-results}
quiet_load=${QUIET_LOAD:-1.0}   # 1-minute load average to wait for before each run
quiet_wait=${QUIET_WAIT:-1800}  # give up waiting after this many seconds (then run anyway)
runs=${RUNS:-"g1 g2 g2tls g3 g3half g4 g4shell one"}
loadgen="$build/loadgen/loadgen"
mocksvc="$build/mocksvc/mocksvc"
mkdir -p "$out"

wait_quiet() {
  local waited=0
  while awk -v max="$quiet_load" '{ exit !($1 > max) }' /proc/loadavg; do
    if ((waited >= quiet_wait)); then
      echo "still busy after ${waited}s (load $(cut -d' ' -f1-3 /proc/loadavg)); running anyway" >&2
      return
    fi
    sleep 10
    waited=$((waited + 10))
  done
}

run() {
  local name=$1
  shift
  wait_quiet
  echo "== $name: load $(cut -d' ' -f1-3 /proc/loadavg): loadgen $*" >&2
  "$loadgen" --mocksvc-bin "$mocksvc" --quiet --json "$out/$name.json" "$@" > "$out/$name.txt" || true
  cat "$out/$name.txt"
}

for r in $runs; do
  case $r in
    # 10,000 interactive sessions held by one mocksvc process, idle: the memory per session.
    g1) run g1 --workload shell --sessions 10000 --ramp-up 20 --messages 1 --hold 30 --baseline off --threads 1 ;;
    # Session setups per second over plain ws and over TLS: 500 sessions in flight, each set up,
    # one round trip, terminated, and replaced, for 20 s.
    g2) run g2 --workload shell --sessions 500 --messages 1 --duration 20 --baseline off ;;
    g2tls) run g2tls --workload shell --sessions 500 --messages 1 --duration 20 --baseline off --tls ;;
    # 10,000 sessions each sending one message per second for a minute (open-loop timing), and
    # half of that: how close the machine gets to the goal.
    g3) run g3 --workload shell --sessions 10000 --ramp-up 30 --messages 60 --message-rate 1 ;;
    g3half) run g3half --workload shell --sessions 5000 --ramp-up 15 --messages 60 --message-rate 1 ;;
    # Relay throughput at 1 KiB against the plain WebSocket echo baseline.
    g4) run g4 --workload port --sessions 50 --messages 2000 --size 1024 --pipeline 4 ;;
    g4shell) run g4shell --workload shell --sessions 50 --messages 2000 --size 1024 ;;
    # One session alone: the floor of the round trip.
    one) run one --workload port --sessions 1 --messages 5000 --size 64 ;;
    *) echo "unknown run $r" >&2 ;;
  esac
done

echo
echo "run | load avg | sessions ok/failed | peak open | setups/s | setup p99 ms | RTT p50/p99/p99.9 ms | msgs/s recv | ratio msgs/s | baseline RTT p99 | RSS/session KiB"
for r in $runs; do
  f="$out/$r.json"
  [[ -f $f ]] || continue
  jq -r --arg r "$r" '[$r,
      ((.machine.load_average_start[0] * 100 | round / 100) | tostring),
      "\(.sessions.completed)/\(.sessions.failed)",
      (.sessions.peak_open | tostring),
      (.setups_per_second | tostring),
      (.setup_latency_ms.total.p99 | tostring),
      "\(.rtt_ms.p50)/\(.rtt_ms.p99)/\(.rtt_ms.p99_9)",
      (.throughput.messages_per_second_received | tostring),
      (.ratios_to_baseline.messages_per_second | tostring),
      (.baseline.rtt_ms.p99 // "-" | tostring),
      ((.mocksvc_memory.rss_per_open_session_bytes / 1024 * 10 | round / 10) | tostring)] | join(" | ")' "$f"
done
