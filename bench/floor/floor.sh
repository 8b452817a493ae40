#!/usr/bin/env bash
# floor.sh: CPU per request of nginx-w1 (return 204) next to floor.c, an ideal minimal durable receiver in C
# (issue 19: is "CPU per durable event <= 3x nginx's CPU per request" reachable at all on this machine?).
#
#   bench/floor/floor.sh                   # CONNS="16 128", DURATION=10
#
# Builds floor.c into a temp dir, then for each connection count runs, one after another, each target in
# TARGETS under wrk -t2 -cC -d${DURATION}s -s bench/vipps.lua (BENCH_UNIQUE distinct signed events, as
# peers.sh does). Each target is started fresh for each run and stopped by its PID afterwards.
# CPU us/req = (utime+stime+cutime+cstime of the server process and its descendants, from /proc/PID/stat,
# after wrk ended minus before wrk started) / requests wrk got answers to; the same measure as peers.sh.
# ratio = CPU us/req / nginx-w1's CPU us/req at the same connection count in the same run.
# persisted = lines in floor's sink file written during the run (each one fdatasync'ed unless --nosync).
# req/commit = requests per group commit (one pwrite+fdatasync, one write+fdatasync), as floor counts them.
# kthread ticks = CPU of all kernel threads (children of kthreadd: kworkers doing writeback, ext4 extent
# conversion, jbd2 if the file system has a journal, ...) during the run, machine-wide: work that fdatasync
# causes outside the server process, so not in its CPU us/req (nor in the daemon's, measured the same way).
# Machine-wide, so it also holds whatever else ran meanwhile; compare it with nginx-w1's row.
# other ticks = machine-wide busy CPU (/proc/stat, without steal) during the run minus the server's, wrk's
# (incl. building its requests) and the kernel threads': anything else that ran meanwhile (a few tens of ticks
# even on a quiet machine: this script's own helpers, softirq ticks of the idle task). Rows with many are suspect.
#
# Knobs: CONNS ["16 128"]  DURATION [10]  WRK_THREADS [2]  BENCH_UNIQUE [100000]
#        TARGETS ["nginx-w1 floor floor--nosync floor--crypto floor--crypto-fetched"]
#                (floor--X--Y = floor.c with --X --Y)
# Loopback only. Needs cc, libssl-dev, nginx, wrk, curl.
set -uo pipefail

FLOOR_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(cd "$FLOOR_DIR/.." && pwd)
export BENCH_DIR
export BENCH_SECRET=${BENCH_SECRET-bench-secret-not-for-production}
export BENCH_UNIQUE=${BENCH_UNIQUE-100000}
CONNS=${CONNS:-"16 128"}
DURATION=${DURATION:-10}
WRK_THREADS=${WRK_THREADS:-2}
TARGETS=${TARGETS:-"nginx-w1 floor floor--nosync floor--crypto floor--crypto-fetched"}
FLOOR_PORT=18190
HZ=$(getconf CLK_TCK)

for tool in cc nginx wrk curl awk timeout ps; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/floor.XXXXXX)
SERVER_PID=""
WRK_PID=""
cleanup() { local p; [[ -n $WRK_PID ]] && for p in $(descendants "$WRK_PID"); do kill "$p" 2>/dev/null; done; stop_server; }
trap cleanup EXIT
trap 'exit 130' INT TERM
# log, descendants, cpu_ticks, stop_server, wait_ready
source "$FLOOR_DIR/../process-helpers.sh"

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }   # user nice system irq softirq
kthread_pids() { ps -e -o pid=,ppid= | awk '$2 == 2 { print $1 }'; }

log "building floor.c in $WORK"
cc -std=c11 -O2 -Wall -o "$WORK/floor" "$FLOOR_DIR/floor.c" -lcrypto || exit 1

echo "# floor.sh run $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname), commit $(git -C "$FLOOR_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# kernel $(uname -r), $(nproc) CPUs: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
echo "# $(wrk --version 2>&1 | head -1 | cut -c1-40) | $(nginx -v 2>&1) | $(openssl version 2>/dev/null) | $(cc --version | head -1)"
echo "# wrk -t$WRK_THREADS -cC -d${DURATION}s -s bench/vipps.lua, BENCH_UNIQUE=$BENCH_UNIQUE; journal+sink files on $(df -T "$WORK" | awk 'NR==2{print $2" "$1}')"

ROWS=$WORK/rows.tsv
: >"$ROWS"
run=0
for conns in $CONNS; do
  nginx_us=""
  for target in $TARGETS; do
    run=$((run + 1))
    dir=$WORK/$run.$target.c$conns; mkdir -p "$dir/tmp"
    case $target in
      nginx-w1)
        cmd="nginx -p $dir/ -e $dir/error.log -c $BENCH_DIR/nginx/nginx.conf -g 'worker_processes 1;'"
        url=http://127.0.0.1:18080/webhooks/vipps ;;
      floor*)
        flags=${target#floor}; flags=${flags//--/ --}
        cmd="$WORK/floor $FLOOR_PORT$flags"
        url=http://127.0.0.1:$FLOOR_PORT/webhooks/vipps ;;
      *) echo "unknown target $target" >&2; exit 2 ;;
    esac
    log "== $target c=$conns: $cmd"
    (cd "$dir" && exec bash -c "exec $cmd") >"$dir/server.out" 2>"$dir/server.err" &
    SERVER_PID=$!
    if ! wait_ready "$url"; then
      log "!! $target did not come up"; tail -5 "$dir/server.err" >&2; stop_server
      printf '%s\t%s\tDID-NOT-START\n' "$target" "$conns" >>"$ROWS"; continue
    fi
    sleep 0.5
    pids=$(descendants "$SERVER_PID" | tr '\n' ' ')
    sink0=0; [[ -f $dir/sink.log ]] && sink0=$(wc -l <"$dir/sink.log")
    cpu0=$(cpu_ticks $pids); k0=$(cpu_ticks $(kthread_pids)); m0=$(busy_ticks)
    # the wrapping bash reports wrk's CPU (bash `times`: children's user and system time) in wrk.times
    BENCH_THREADS=$WRK_THREADS bash -c '"$@"; s=$?; times >"$0"; exit $s' "$dir/wrk.times" \
      timeout -s INT $((DURATION + 60)) \
      wrk -t"$WRK_THREADS" -c"$conns" -d"${DURATION}s" -s "$BENCH_DIR/vipps.lua" "$url" >"$dir/wrk.txt" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID"; WRK_PID=""
    sleep 0.5
    cpu1=$(cpu_ticks $pids); k1=$(cpu_ticks $(kthread_pids)); m1=$(busy_ticks)
    wrk_ticks=$(awk -v hz="$HZ" 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
                                          printf "%d", t * hz + 0.5 }' "$dir/wrk.times" 2>/dev/null)
    other=$(( (m1 - m0) - (cpu1 - cpu0) - (k1 - k0) - ${wrk_ticks:-0} ))
    persisted=-; [[ -f $dir/sink.log ]] && persisted=$(( $(wc -l <"$dir/sink.log") - sink0 ))
    stop_server
    per_commit=$(awk -F'[= ]' '/^commits=/ { if ($2 > 0) printf "%.1f", $4 / $2 }' "$dir/server.out" 2>/dev/null)
    # a run leaves up to ~1 GB of journal, sink and access log: keep the log's last lines only
    tail -3 "$dir/server.err" >"$dir/server.err.tail" 2>/dev/null; rm -f "$dir/journal.bin" "$dir/sink.log" "$dir/server.err"
    line=$(grep '^BENCH ' "$dir/wrk.txt" | tail -1)
    if [[ -z $line ]]; then
      log "!! no BENCH line from wrk"; tail -5 "$dir/wrk.txt" >&2
      printf '%s\t%s\tWRK-FAILED\n' "$target" "$conns" >>"$ROWS"; continue
    fi
    declare -A b=(); for kv in ${line#BENCH }; do b[${kv%%=*}]=${kv#*=}; done
    errs=$((b[err_connect] + b[err_read] + b[err_write] + b[err_timeout] + b[err_status]))
    us=$(awk -v d=$((cpu1 - cpu0)) -v n="${b[requests]}" -v hz="$HZ" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
    [[ $target == nginx-w1 ]] && nginx_us=$us
    ratio=$(awk -v a="$us" -v b="$nginx_us" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')
    log "   ${b[req_s]} req/s, $us us/req CPU, ratio $ratio, errors $errs, persisted $persisted/${b[requests]}"
    printf '%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$conns" "${b[req_s]}" "$us" "$ratio" \
      "$((cpu1 - cpu0))" "${per_commit:--}" "$((k1 - k0))" "$other" "$persisted/${b[requests]}" "$errs" >>"$ROWS"
    unset b
  done
done

echo "## CPU us/req: server process(es) utime+stime (ticks of 1/$HZ s) / requests answered; ratio: to nginx-w1 at the same conns in this run"
{ printf 'target\tconns\treq/s\tCPU us/req\tratio\tCPU ticks\treq/commit\tkthread ticks\tother ticks\tpersisted/answered\terrors\n'; cat "$ROWS"; } | column -t -s $'\t'
echo "# work dir (wrk output, server logs): $WORK"
