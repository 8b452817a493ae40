#!/usr/bin/env bash
# peers.sh: side-by-side HTTP benchmark of webhook receivers on loopback.
#
# Starts each target, checks it accepts a correctly signed Vipps webhook (and whether it
# rejects a badly signed one), loads it with wrk + bench/vipps.lua at several connection
# counts, samples its memory and CPU, stops it, and prints one table for all targets.
#
#   bench/peers.sh                         # all built-in peers (nginx, adnanh/webhook variants)
#   bench/peers.sh --only 'nginx'          # targets whose name matches the regex
#   bench/peers.sh --only none --target swift './.build/release/vippsd --port 18090' \
#                  http://127.0.0.1:18090/webhooks/vipps      # --target ignores --only
#   bench/peers.sh --only none --counted-target NAME CMD URL 'wc -l < "$BENCH_EVENTS_FILE"'
#                  # the same plus a COUNT_CMD (persisted events); bench/run.sh uses this for the daemon
#
# Environment knobs (defaults in brackets):
#   DURATION [10]  seconds per wrk run      CONNS ["1 16 128"]     WRK_THREADS [2]
#   MODES ["shared pinned"]  shared: no affinity; pinned: server on SERVER_CPU [0], wrk on WRK_CPU [1]
#   WRK_TIMEOUT [5]  wrk per-request timeout, seconds
#   BENCH_SECRET [bench-secret-not-for-production]  shared by vipps.lua, sign.sh, hooks.json.tmpl
#   HYPERFINE [1]  time one exec of the webhook commands first     RAW [0]  1: append every raw wrk output
#   MAX_TASKS [12000]  safety guard: a run is aborted (wrk stopped) if the machine's task count
#                  (threads+processes, /proc/loadavg) passes this, e.g. a fork-per-request peer piling up
#   DRAIN_MAX [180] seconds to wait after a run until the target is idle again (no extra child
#                  processes, no CPU use for 1 s): async peers keep working after answering
#   BENCH_UNIQUE [min(80000 x DURATION, 100000)]  distinct, individually signed events per wrk run
#                  (own reference, pspReference, idempotencyKey, webhook-id, signatures; built by
#                  vipps.lua before the load starts, ~20-30 us each). A run that sends more repeats
#                  them: the "unique" column then says "N wrapped". 0 or 1: one identical request
#                  (the old behaviour; a de-duplicating receiver sees duplicates after the first).
#   RESULTS_TSV [unset]  also copy the raw result rows (tab-separated, see print_table) to this file
#
# Every load targets 127.0.0.1 only and stops by itself (wrk -d, wrapped in timeout).
# Every process this script starts is stopped by its PID, never by name.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export BENCH_DIR
export BENCH_SECRET=${BENCH_SECRET-bench-secret-not-for-production}
DURATION=${DURATION:-10}
CONNS=${CONNS:-"1 16 128"}
WRK_THREADS=${WRK_THREADS:-2}
MODES=${MODES:-"shared pinned"}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
WRK_TIMEOUT=${WRK_TIMEOUT:-5}
HYPERFINE=${HYPERFINE:-1}
RAW=${RAW:-0}
MAX_TASKS=${MAX_TASKS:-12000}
DRAIN_MAX=${DRAIN_MAX:-180}
BENCH_UNIQUE=${BENCH_UNIQUE-$((DURATION * 80000 < 100000 ? DURATION * 80000 : 100000))}
export BENCH_UNIQUE
ONLY=${ONLY:-}
EXTRA_TARGETS=()

while (($#)); do
  case $1 in
    --only) ONLY=$2; shift 2 ;;
    --target) EXTRA_TARGETS+=("$2" "$3" "$4" ""); shift 4 ;;
    --counted-target) EXTRA_TARGETS+=("$2" "$3" "$4" "$5"); shift 5 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

for tool in wrk curl openssl taskset ps awk timeout; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (apt-get install -y wrk curl openssl util-linux procps)" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/bench.XXXXXX)
RESULTS=$WORK/results.tsv
SERVER_PID=""
WRK_PID=""
MON_PID=""

cleanup() {
  local p
  for p in $WRK_PID $MON_PID; do kill "$p" 2>/dev/null; done
  [[ -n $SERVER_PID ]] && stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# log, descendants, cpu_ticks, stop_server, wait_ready
source "$BENCH_DIR/process-helpers.sh"

# ---------------------------------------------------------------------------
# process helpers (all by PID)
# ---------------------------------------------------------------------------
mem_kb() { # PIDs... -> "rss_kb hwm_kb" summed
  local r=0 h=0 p v
  for p in "$@"; do
    v=$(awk '/^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{print r+0, h+0}' "/proc/$p/status" 2>/dev/null) || continue
    r=$((r + ${v% *})); h=$((h + ${v#* }))
  done
  echo "$r $h"
}

tasks_total() { awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg; }

start_server() { # MODE NAME CMD -> sets SERVER_PID
  local mode=$1 name=$2 cmd=$3 pin=()
  [[ $mode == pinned ]] && pin=(taskset -c "$SERVER_CPU")
  "${pin[@]}" bash -c "exec $cmd" >"$WORK/$name.$mode.server.log" 2>&1 &
  SERVER_PID=$!
}

signed_post() { # URL [bad] -> HTTP status of one POST of payload.json with Vipps headers
  local url=$1 bad=${2:-} hostport path hdrs=() line
  [[ $url =~ ^https?://([^/]+)(/.*)?$ ]] || { echo "bad-url"; return; }
  hostport=${BASH_REMATCH[1]}; path=${BASH_REMATCH[2]:-/}
  while IFS= read -r line; do
    if [[ -n $bad ]]; then   # same shape, wrong values: flip signatures
      line=${line/Signature=/Signature=AAAA}
      line=${line/sha256=/sha256=00}
    fi
    hdrs+=(-H "$line")
  done < <("$BENCH_DIR/sign.sh" "$path" "$hostport")
  curl -s -o /dev/null -m 5 -w '%{http_code}' "${hdrs[@]}" --data-binary @"$BENCH_DIR/payload.json" "$url"
}

fmt_us() { # microseconds -> short human string
  awk -v u="$1" 'BEGIN { if (u == "" || u == "-") print "-"; else if (u < 1000) printf "%dus\n", u;
                         else if (u < 1000000) printf "%.2fms\n", u / 1000; else printf "%.2fs\n", u / 1e6 }'
}

kb_mib() { awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'; }

# ---------------------------------------------------------------------------
# bench_target NAME START_CMD URL [COUNT_CMD]
#   NAME       label in the table
#   START_CMD  one command that serves in the foreground (no daemonizing); run as
#              `bash -c "exec START_CMD"`, so its PID is the server's. It sees BENCH_SECRET,
#              BENCH_DIR and BENCH_EVENTS_FILE (a fresh file per start) in its environment.
#   URL        http://127.0.0.1:PORT/path the webhook is POSTed to (path+host are signed)
#   COUNT_CMD  optional shell snippet printing how many events the target has persisted so
#              far (e.g. 'wc -l < "$BENCH_EVENTS_FILE"'); the table then shows events per run.
# ---------------------------------------------------------------------------
bench_target() {
  local name=$1 cmd=$2 url=$3 count_cmd=${4:-}
  if [[ -n $ONLY && ! $name =~ $ONLY ]]; then return; fi
  local mode conns
  for mode in $MODES; do
    export BENCH_EVENTS_FILE="$WORK/$name.$mode.events"
    : >"$BENCH_EVENTS_FILE"
    log "== $name ($mode): starting: $cmd"
    start_server "$mode" "$name" "$cmd"
    if ! wait_ready "$url"; then
      log "!! $name ($mode) did not come up; see $WORK/$name.$mode.server.log"
      tail -5 "$WORK/$name.$mode.server.log" >&2
      stop_server
      printf '%s\t%s\tDID-NOT-START\n' "$name" "$mode" >>"$RESULTS"
      continue
    fi
    local good bad verifies
    good=$(signed_post "$url"); bad=$(signed_post "$url" bad)
    if [[ $bad == 2* ]]; then verifies=no; else verifies="yes($bad)"; fi
    [[ $good == 2* ]] || { log "!! $name: correctly signed POST got HTTP $good; numbers below are for error responses"; verifies="PREFLIGHT-$good"; }
    sleep 1
    local base_pids idle
    base_pids=$(descendants "$SERVER_PID" | sort -n | tr '\n' ' ')
    idle=$(mem_kb $base_pids)
    log "   pids: $base_pids idle rss=$(kb_mib "${idle% *}")MiB signed=$good bad=$bad"
    for conns in $CONNS; do
      run_one "$name" "$mode" "$conns" "$url" "$base_pids" "${idle% *}" "$verifies" "$count_cmd"
    done
    stop_server
  done
}

run_one() {
  local name=$1 mode=$2 conns=$3 url=$4 base_pids=$5 idle_rss=$6 verifies=$7 count_cmd=$8
  local threads=$((conns < WRK_THREADS ? conns : WRK_THREADS))
  local pin=() out="$WORK/raw/$name.$mode.c$conns.txt" mon="$WORK/raw/$name.$mode.c$conns.mon"
  mkdir -p "$WORK/raw"
  [[ $mode == pinned ]] && pin=(taskset -c "$WRK_CPU")
  local nbase; nbase=$(wc -w <<<"$base_pids")
  local ev0=0; [[ -n $count_cmd ]] && ev0=$(bash -c "$count_cmd" 2>/dev/null || echo 0)
  local cpu0; cpu0=$(cpu_ticks $base_pids)

  # BENCH_THREADS: how many blocks vipps.lua splits the BENCH_UNIQUE requests into (one per wrk thread)
  BENCH_THREADS=$threads "${pin[@]}" timeout -s INT $((DURATION + 60)) \
    wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
        -s "$BENCH_DIR/vipps.lua" "$url" >"$out" 2>&1 &
  WRK_PID=$!

  # monitor: extra child processes of the target, its thread count, machine-wide tasks;
  # aborts the run (stops wrk by PID) if the task count passes MAX_TASKS.
  (
    kids_max=0 thr_max=0 fds_max=0 tasks_max=0 aborted=0
    while kill -0 "$WRK_PID" 2>/dev/null; do
      n=$(descendants "$SERVER_PID" | wc -l); k=$((n - nbase)); ((k > kids_max)) && kids_max=$k
      t=$(awk '/^Threads:/{print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
      ((t > thr_max)) && thr_max=$t
      f=$(ls "/proc/$SERVER_PID/fd" 2>/dev/null | wc -l); ((f > fds_max)) && fds_max=$f
      tt=$(tasks_total); ((tt > tasks_max)) && tasks_max=$tt
      if ((tt > MAX_TASKS)); then aborted=1; kill -INT "$WRK_PID" 2>/dev/null; fi
      echo "$kids_max $thr_max $fds_max $tasks_max $aborted" >"$mon"
      sleep 0.5
    done
  ) &
  MON_PID=$!
  wait "$WRK_PID"; WRK_PID=""
  wait "$MON_PID" 2>/dev/null; MON_PID=""

  local after; after=$(mem_kb $base_pids)
  # drain: a fork-per-request or queueing peer may still be working on accepted requests.
  # Done when it has no extra child processes and its CPU time (incl. reaped children)
  # has not grown for 1 s; gives up after DRAIN_MAX seconds.
  local t0=$EPOCHREALTIME drained quiet=0 c_prev c_now
  c_prev=$(cpu_ticks $base_pids)
  while ((quiet < 4)) && awk -v a="$t0" -v b="$EPOCHREALTIME" -v m="$DRAIN_MAX" 'BEGIN { exit !(b - a < m) }'; do
    sleep 0.25
    c_now=$(cpu_ticks $base_pids)
    if (( $(descendants "$SERVER_PID" | wc -l) <= nbase && c_now - c_prev <= 1 )); then
      quiet=$((quiet + 1))
    else
      quiet=0
    fi
    c_prev=$c_now
  done
  drained=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { d = b - a - 1; if (d < 0) d = 0; printf "%.1f\n", d }')
  local hwm; hwm=$(mem_kb $base_pids); hwm=${hwm#* }
  local cpu1; cpu1=$(cpu_ticks $base_pids)
  local events="-"
  if [[ -n $count_cmd ]]; then events=$(( $(bash -c "$count_cmd" 2>/dev/null || echo 0) - ev0 )); fi
  local kids_max thr_max fds_max tasks_max aborted
  read -r kids_max thr_max fds_max tasks_max aborted <"$mon" 2>/dev/null || { kids_max=0 thr_max=0 fds_max=0 tasks_max=0 aborted=0; }

  local line; line=$(grep '^BENCH ' "$out" | tail -1)
  if [[ -z $line ]]; then
    log "!! $name $mode c=$conns: no BENCH line from wrk; see $out"; tail -5 "$out" >&2
    printf '%s\t%s\t%s\tWRK-FAILED\n' "$name" "$mode" "$conns" >>"$RESULTS"
    return
  fi
  local -A b=(); local kv
  for kv in ${line#BENCH }; do b[${kv%%=*}]=${kv#*=}; done
  local errs=$((b[err_connect] + b[err_read] + b[err_write] + b[err_timeout] + b[err_status]))
  local cpu_per_req
  cpu_per_req=$(awk -v d=$((cpu1 - cpu0)) -v n="${b[requests]}" -v hz="$(getconf CLK_TCK)" \
                 'BEGIN { if (n > 0) printf "%.1f\n", d / hz * 1e6 / n; else print "-" }')
  ((aborted)) && errs="$errs+ABORTED"
  [[ $events != - ]] && events="$events/${b[requests]}"
  # distinct requests wrk had; "wrapped": it sent more than that, so some were repeats
  local uniq=identical
  if ((${b[unique]:-1} > 1)); then
    uniq=${b[unique]}; [[ ${b[wrapped]:-} == yes ]] && uniq="$uniq wrapped"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$name" "$mode" "$conns" "${b[req_s]}" "${b[p50_us]}" "${b[p99_us]}" "$errs" \
    "$idle_rss" "${after% *}" "$hwm" "$cpu_per_req" "$kids_max/$thr_max/$fds_max" "$tasks_max" "$drained" "$events" "$uniq" "$verifies" \
    >>"$RESULTS"
  log "   c=$conns $mode: ${b[req_s]} req/s p50=$(fmt_us "${b[p50_us]}") p99=$(fmt_us "${b[p99_us]}") errors=$errs rss=$(kb_mib "${after% *}")MiB kids/threads/fds max=$kids_max/$thr_max/$fds_max drain=${drained}s events=$events unique=$uniq (built in ${b[build_s]:-0}s)"
  sleep 1
}

print_table() {
  {
    printf 'target\tmode\tconns\treq/s\tp50\tp99\terrors\tRSS idle MiB\tRSS after MiB\tHWM MiB\tCPU us/req\tkids/thr/fds max\ttasks max\tdrain s\tpersisted/answered\tunique\trejects bad sig\n'
    awk -F'\t' 'NF < 17 { print; next }
      { printf "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
          $1, $2, $3, $4, fmt($5), fmt($6), $7, $8/1024, $9/1024, $10/1024, $11, $12, $13, $14, $15, $16, $17 }
      function fmt(u) { if (u < 1000) return sprintf("%dus", u); if (u < 1000000) return sprintf("%.2fms", u/1000); return sprintf("%.2fs", u/1e6) }' \
      "$RESULTS"
  } | column -t -s $'\t'
}

# ---------------------------------------------------------------------------
# environment header
# ---------------------------------------------------------------------------
echo "# peers.sh run $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
echo "# kernel $(uname -r), $(nproc) CPUs: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
echo "# $(wrk --version 2>&1 | head -1 | cut -c1-40) | $(nginx -v 2>&1) | webhook $(webhook -version 2>/dev/null | awk '{print $3}')"
echo "# DURATION=${DURATION}s CONNS='$CONNS' WRK_THREADS=$WRK_THREADS (capped at conns) MODES='$MODES' pinned: server cpu $SERVER_CPU, wrk cpu $WRK_CPU"
echo "# body $(wc -c <"$BENCH_DIR/payload.json") bytes, Vipps HMAC headers + X-Body-Signature-256 (see vipps.lua); work dir $WORK"
if ((BENCH_UNIQUE > 1)); then
  echo "# BENCH_UNIQUE=$BENCH_UNIQUE distinct signed events per wrk run (reference, pspReference, idempotencyKey, webhook-id)"
else
  echo "# BENCH_UNIQUE=$BENCH_UNIQUE: one identical signed request repeated (de-duplicating receivers see duplicates)"
fi
echo

if [[ $HYPERFINE == 1 ]] && command -v hyperfine >/dev/null && [[ -z $ONLY || $ONLY == *webhook* ]]; then
  echo "## cost of one command exec (what adnanh/webhook pays per request), hyperfine -N"
  BENCH_EVENTS_FILE=$WORK/hyperfine.events hyperfine -N --style basic --warmup 50 --runs 1000 \
    --export-markdown "$WORK/hyperfine.md" /bin/true \
    "$BENCH_DIR/webhook/append.sh $(head -c "$(wc -c <"$BENCH_DIR/payload.json")" /dev/zero | tr '\0' x)" \
    >/dev/null 2>&1 && sed "s#$BENCH_DIR/##; s#append.sh x*#append.sh <265-byte arg>#" "$WORK/hyperfine.md"
  echo
fi

# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------
mkdir -p "$WORK/nginx-w1/tmp" "$WORK/nginx-auto/tmp"
NGINX_CONF=$BENCH_DIR/nginx/nginx.conf
WEBHOOK="webhook -template -hooks $BENCH_DIR/webhook/hooks.json.tmpl -ip 127.0.0.1 -nopanic"
COUNT_EVENTS='wc -l < "$BENCH_EVENTS_FILE"'

if command -v nginx >/dev/null; then
  bench_target nginx-w1   "nginx -p $WORK/nginx-w1/ -e $WORK/nginx-w1/error.log -c $NGINX_CONF -g 'worker_processes 1;'" \
               http://127.0.0.1:18080/webhooks/vipps
  bench_target nginx-auto "nginx -p $WORK/nginx-auto/ -e $WORK/nginx-auto/error.log -c $NGINX_CONF -g 'worker_processes auto;'" \
               http://127.0.0.1:18080/webhooks/vipps
fi
if command -v webhook >/dev/null; then
  bench_target webhook-true-async   "$WEBHOOK -port 19001" http://127.0.0.1:19001/hooks/true-async
  bench_target webhook-true-sync    "$WEBHOOK -port 19002" http://127.0.0.1:19002/hooks/true-sync
  bench_target webhook-append-async "$WEBHOOK -port 19003" http://127.0.0.1:19003/hooks/append-async "$COUNT_EVENTS"
  bench_target webhook-append-sync  "$WEBHOOK -port 19004" http://127.0.0.1:19004/hooks/append-sync  "$COUNT_EVENTS"
fi
# The project's daemon: bench/run.sh passes it with --counted-target (see bench/daemon-target.sh).
for ((i = 0; i < ${#EXTRA_TARGETS[@]}; i += 4)); do   # --target / --counted-target always run
  ONLY="" bench_target "${EXTRA_TARGETS[i]}" "${EXTRA_TARGETS[i+1]}" "${EXTRA_TARGETS[i+2]}" "${EXTRA_TARGETS[i+3]}"
done
[[ -n ${RESULTS_TSV:-} ]] && cp "$RESULTS" "$RESULTS_TSV"

echo "## results (req/s, latency and errors from wrk; RSS/HWM summed over the server's own processes;"
echo "##  CPU us/req = server CPU incl. reaped children, until drained / requests answered;"
echo "##  kids/thr/fds = most extra child processes, threads, open fds of the server seen (0.5 s samples);"
echo "##  tasks = machine-wide threads+processes; drain = s after wrk ended until the server was idle;"
echo "##  persisted/answered = events the target wrote (COUNT_CMD) / 2xx-or-other responses wrk got;"
echo "##  unique = distinct signed events wrk had; \"wrapped\": it sent more, so a de-duplicating receiver"
echo "##  can persist at most that many; identical = BENCH_UNIQUE<2, one request repeated)"
print_table
echo
if [[ $RAW == 1 ]]; then
  echo "## raw wrk output"
  for f in "$WORK"/raw/*.txt; do echo "### $(basename "$f" .txt)"; grep -v '^BENCH ' "$f"; done
fi
echo "# work dir (logs, raw wrk output): $WORK"
