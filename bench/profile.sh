#!/usr/bin/env bash
# profile.sh: where one daemon binary spends its CPU per durable event (issue 19), the measurements behind the
# README's "Performance" notes. Not a benchmark table (that is run.sh): each subcommand loads one daemon
# (bench/daemon-target.sh: file sink, default log level) with wrk and bench/vipps.lua on loopback and prints one figure.
#
#   bench/profile.sh cpu BINARY CONNS SECONDS [WARM_ROUNDS [PERF_DATA]]
#       CPU µs per answered request (user, system) from /proc, p99 and req/s; WARM_ROUNDS rounds of 10 s at 16
#       connections first (a full payment ledger and dedup index, as run.sh's 128-connection run meets them); with
#       PERF_DATA also `perf record -g` of the measured part (read it with `perf report -i PERF_DATA`).
#   bench/profile.sh syscalls BINARY CONNS SECONDS
#       system calls per request by name (strace -c -f).
#   bench/profile.sh callgrind BINARY SECONDS OUT_DIR
#       instructions per request under valgrind (4 connections; counters zeroed after start-up). Give it a copy
#       stripped of debug info (strip --strip-debug) and read OUT_DIR/cg.out.1 with callgrind_annotate, or with
#       bench/callgrind-calls.py for callers and callees. Valgrind hides SHA-NI: OpenSSL's share is inflated there.
#
# BENCH_PAYMENTS_SEED=FILE starts the daemon with that payments.log (bench/ledger-seed.sh writes a full one: each new
# payment then makes the ledger forget one, as in a daemon that has run for a while).
#
# Runs on 2 vCPUs are noisy (±15–40% between runs minutes apart): compare binaries in interleaved pairs, or by
# instructions. Every process started here is stopped by its PID. Port: PORT [18191].
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_DIR BENCH_SECRET=${BENCH_SECRET-bench-secret-not-for-production} BENCH_UNIQUE=${BENCH_UNIQUE:-100000}
PORT=${PORT:-18191}
URL=http://127.0.0.1:$PORT/webhooks/vipps
SERVER_PID=""
# log, descendants, cpu_ticks, stop_server, wait_ready
source "$BENCH_DIR/process-helpers.sh"

WORK=$(mktemp -d /tmp/profile.XXXXXX)
trap 'stop_server; rm -rf "$WORK"' EXIT
export BENCH_EVENTS_FILE=$WORK/daemon.events
: >"$BENCH_EVENTS_FILE"

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' >&2; exit 2; }

# Runs COMMAND... (daemon-target.sh and its arguments) in the background as SERVER_PID and waits until it answers.
start_daemon() {
  "$@" 2>"$WORK/daemon.log" &
  SERVER_PID=$!
  wait_ready "http://127.0.0.1:$PORT/healthz" || { log "daemon did not start; see $WORK/daemon.log"; exit 1; }
}

load() { # CONNS SECONDS [THREADS] -> wrk's output
  wrk -t"${3:-2}" -c"$1" -d"$2"s -s "$BENCH_DIR/vipps.lua" "$URL" 2>&1
}

requests() { awk '/requests in/ { print $1 }'; }

cmd=${1:-}
case $cmd in
  cpu)
    (($# >= 4)) || usage
    binary=$2 conns=$3 seconds=$4 warm=${5:-0} perf_data=${6:-}
    start_daemon "$BENCH_DIR/daemon-target.sh" "$binary" "127.0.0.1:$PORT"
    for ((round = 0; round < warm; round++)); do load 16 10 >/dev/null; done
    ((warm > 0)) && log "warmed: $(wc -l <"$BENCH_EVENTS_FILE") events stored"
    read -r user0 system0 < <(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$SERVER_PID/stat")
    perf_pid=""
    if [[ -n $perf_data ]]; then
      perf record -F 2000 -g -p "$SERVER_PID" -o "$perf_data" -- sleep "$seconds" >/dev/null 2>&1 &
      perf_pid=$!
    fi
    out=$(load "$conns" "$seconds")
    read -r user1 system1 < <(awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$SERVER_PID/stat")
    [[ -n $perf_pid ]] && wait "$perf_pid"
    answered=$(requests <<<"$out")
    echo "$out" | grep -o 'req_s=[^ ]*\|p99_us=[^ ]*' | tr '\n' ' '
    awk -v u=$((user1 - user0)) -v s=$((system1 - system0)) -v r="$answered" -v hz="$(getconf CLK_TCK)" \
      'BEGIN { printf "answered=%d cpu_us=%.1f user_us=%.1f system_us=%.1f\n", r, (u + s) * 1e6 / hz / r, u * 1e6 / hz / r, s * 1e6 / hz / r }'
    ;;
  syscalls)
    (($# == 4)) || usage
    binary=$2 conns=$3 seconds=$4
    start_daemon "$BENCH_DIR/daemon-target.sh" "$binary" "127.0.0.1:$PORT"
    timeout $((seconds + 5)) strace -f -c -p "$SERVER_PID" -o "$WORK/strace.txt" 2>/dev/null &
    strace_pid=$!
    sleep 0.5
    answered=$(load "$conns" "$seconds" | requests)
    kill -INT "$strace_pid" 2>/dev/null
    wait "$strace_pid"
    echo "answered=$answered"
    awk -v r="$answered" 'NR > 2 && $NF != "total" && $4 + 0 > 0 { printf "%-18s %.3f a request\n", $NF, $4 / r }' \
      "$WORK/strace.txt" | sort -k2 -nr
    ;;
  callgrind)
    (($# == 4)) || usage
    binary=$2 seconds=$3 out=$4
    mkdir -p "$out"
    export DAEMON_WRAPPER="valgrind --tool=callgrind --callgrind-out-file=$out/cg.out --separate-threads=no"
    start_daemon "$BENCH_DIR/daemon-target.sh" "$binary" "127.0.0.1:$PORT"
    callgrind_control -z "$SERVER_PID" >/dev/null
    answered=$(load 4 "$seconds" 1 | requests)
    callgrind_control -d "$SERVER_PID" >/dev/null
    sleep 1
    total=$(callgrind_annotate "$out/cg.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    echo "answered=$answered instructions=$total per_request=$((total / answered)) profile=$out/cg.out.1"
    ;;
  *) usage ;;
esac
