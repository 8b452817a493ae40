#!/usr/bin/env bash
# run.sh: benchmark vipps-webhookd next to nginx `return 204` and adnanh/webhook (issue 8; targets from issue 4).
#
#   bench/run.sh                 # full: daemon, nginx-w1, nginx-auto, webhook-append-sync/-async; c=1,16,128; ~10 min
#   bench/run.sh --short         # CI: DURATION=3, CONNS=16, daemon + nginx-w1 only; < 1 min after the build
#   bench/run.sh --pinned        # also the pinned mode (server on cpu 0, wrk on cpu 1); doubles the time
#   bench/run.sh --out FILE      # also write the report to FILE (e.g. bench/results-$(date +%F).txt)
#
# Builds the daemon in release mode, runs bench/peers.sh with the daemon as a counted target (its file sink is
# $BENCH_EVENTS_FILE, so persisted = lines written), and prints one table: req/s and p99 per connection count, RSS
# idle and peak (VmHWM), persisted/answered; then the ratios against the issue 4 targets:
#   daemon >= 0.4x nginx-w1 req/s at 16 connections, >= 0.6x at 128; >= 20x webhook-append-sync at 16 and 128;
#   p99 <= 10 ms at 128 connections; persisted == answered for the daemon (up to `conns` more: requests in flight
#   when wrk stopped are stored but never answered).
# Exit status: 1 when the daemon did not start, failed the preflight, lost or duplicated events (persisted <
# answered, or more than answered + conns) or answered errors; the performance ratios are reported as PASS/MISS and fail the run only with
# STRICT=1 (loopback numbers on a shared 2-core VM vary by +-15%).
# Knobs are those of bench/peers.sh (DURATION, CONNS, WRK_THREADS, DRAIN_MAX, BENCH_SECRET, ...).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
short=0 out="" modes=shared
while (($#)); do
  case $1 in
    --short) short=1; shift ;;
    --pinned) modes="shared pinned"; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if ((short)); then
  export DURATION=${DURATION:-3} CONNS=${CONNS:-16}
  only='^nginx-w1$'
else
  only='^(nginx-w1|nginx-auto|webhook-append-sync|webhook-append-async)$'
fi
export MODES=${MODES:-$modes} HYPERFINE=${HYPERFINE:-0}
# Every request must be a new event, or the daemon answers repeats as duplicates (200 without a journal write) and
# its req/s is inflated: 10 s at 45k req/s needs 450k events (wrk builds them before the load, ~25 us and ~2.5 KiB
# each, so ~15 s and ~1.5 GB per wrk run at the default). A run that still wraps fails the persisted/answered check
# below with "wrapped".
export BENCH_UNIQUE=${BENCH_UNIQUE:-$(( ${DURATION:-10} * 60000 ))}
export BENCH_SECRET=${BENCH_SECRET-bench-secret-not-for-production}

echo "building vipps-webhookd (release)..." >&2
(cd "$repo" && swift build -c release --product vipps-webhookd >&2) || { echo "release build failed" >&2; exit 1; }
daemon="$repo/.build/release/vipps-webhookd"

tsv=$(mktemp /tmp/bench-results.XXXXXX.tsv)
rawlog=$(mktemp /tmp/bench-peers.XXXXXX.txt)
trap 'rm -f "$tsv"' EXIT
RESULTS_TSV=$tsv "$here/peers.sh" --only "$only" \
  --counted-target vipps-webhookd "$here/daemon-target.sh $daemon 127.0.0.1:18090" \
  http://127.0.0.1:18090/webhooks/vipps 'wc -l < "$BENCH_EVENTS_FILE"' >"$rawlog"
peers_status=$?

report() {
  echo "# bench/run.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname); $(nproc) CPUs; kernel $(uname -r)"
  echo "# commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)$(git -C "$repo" diff --quiet 2>/dev/null || echo '+dirty')"
  echo "# DURATION=${DURATION:-10}s CONNS='${CONNS:-1 16 128}' MODES='$MODES' WRK_THREADS=${WRK_THREADS:-2}; unique signed events per wrk run"
  echo "# full peers.sh output (per-run logs, CPU/req, threads, fds): $rawlog"
  echo
  awk -F'\t' '
    function ms(u) { if (u == "" || u == "-") return "-"; if (u < 1000) return sprintf("%dus", u);
                     if (u < 1000000) return sprintf("%.2fms", u / 1000); return sprintf("%.2fs", u / 1e6) }
    function mib(k) { return sprintf("%.1f", k / 1024) }
    BEGIN { printf "%-22s %-7s %5s %9s %9s %9s %7s %9s %9s %10s %-18s %s\n", "target", "mode", "conns", "req/s", "p50",
            "p99", "errors", "RSS idle", "RSS peak", "CPU us/req", "persisted/answered", "bad sig" }
    NF < 17 { printf "%-22s %-7s %5s %s\n", $1, $2, $3, $NF; next }
    { printf "%-22s %-7s %5s %9.0f %9s %9s %7s %8sM %8sM %10s %-18s %s\n", $1, $2, $3, $4, ms($5), ms($6), $7,
             mib($8), mib($10), $11, $15 ($16 ~ /wrapped/ && $15 != "-" ? " WRAPPED" : ""), $17 }' "$tsv"
  echo
  echo "## vipps-webhookd against the issue 4 targets"
  awk -F'\t' -v strict="${STRICT:-0}" '
    NF < 17 { if ($1 == "vipps-webhookd") { bad = 1; print "FAIL  vipps-webhookd " $2 " c=" $3 ": " $NF } ; next }
    { rps[$1, $2, $3] = $4; p99[$1, $2, $3] = $6; cpu[$1, $2, $3] = $11; modes[$2] = 1; conns[$3] = 1
      # One daemon process serves every connection count of a mode: its peak RSS (VmHWM) only grows, so memory per
      # event is the highest peak over idle, divided by all events it persisted in that mode.
      if ($1 == "vipps-webhookd") {
        split($15, ev, "/"); held[$2] += ev[1]; idle[$2] = $8; if ($10 > peak[$2]) peak[$2] = $10
      }
      if ($1 == "vipps-webhookd") {
        split($15, pa, "/")
        # wrk stops with up to `conns` requests in flight: stored, never answered, so persisted may exceed answered
        ok = (pa[1] >= pa[2] && pa[1] <= pa[2] + $3 && $7 == 0 && $17 ~ /^yes/)
        if ($16 ~ /wrapped/) ok = 0
        printf "%s  %s c=%s: persisted/answered %s, errors %s, bad signature answered %s%s\n",
               ok ? "PASS" : "FAIL", $2, $3, $15, $7, $17,
               ($16 ~ /wrapped/) ? " (WRAPPED: more requests than unique events; raise BENCH_UNIQUE)" : ""
        if (!ok) bad = 1
      } }
    function ratio(num, den, want, label,   r) {
      if (num == "" || den == "" || den == 0) return
      r = num / den
      printf "%s  %s: %.2fx (%.0f / %.0f req/s; target >= %sx)\n", (r >= want) ? "PASS" : "MISS", label, r, num, den, want
      if (r < want) miss = 1
    }
    END {
      for (m in modes) {
        ratio(rps["vipps-webhookd", m, 16], rps["nginx-w1", m, 16], 0.4, m " daemon/nginx-w1 at 16 conns")
        ratio(rps["vipps-webhookd", m, 128], rps["nginx-w1", m, 128], 0.6, m " daemon/nginx-w1 at 128 conns")
        # Issue 4 sets the 20x target at 16 and 128 connections; at 1 connection every request waits for its own
        # fsync (the daemon answers only once the event is on disk), so that ratio is shown for information only.
        for (c in conns) {
          if (c == 16 || c == 128) ratio(rps["vipps-webhookd", m, c], rps["webhook-append-sync", m, c], 20,
                                         m " daemon/webhook-append-sync at " c " conns")
          else if (rps["webhook-append-sync", m, c] > 0)
            printf "INFO  %s daemon/webhook-append-sync at %s conns: %.2fx (no target: one fsync per request)\n", m, c,
                   rps["vipps-webhookd", m, c] / rps["webhook-append-sync", m, c]
        }
        # Issue 19: CPU per durable event against the CPU per request of nginx-w1 in the same run.
        for (c in conns) {
          d = cpu["vipps-webhookd", m, c]; n = cpu["nginx-w1", m, c]
          if (d != "" && d != "-" && n != "" && n != "-" && n > 0)
            printf "%s  %s CPU per event at %s conns: %.1f us, %.1fx nginx-w1 (%.1f us; target <= 3x)\n",
                   (d / n <= 3) ? "PASS" : "MISS", m, c, d, d / n, n
        }
        if (held[m] > 0 && peak[m] > idle[m])
          printf "INFO  %s RSS growth: %.1f bytes per persisted event (peak %.1f MiB over idle %.1f MiB, %d events)\n", m,
                 (peak[m] - idle[m]) * 1024 / held[m], peak[m] / 1024, idle[m] / 1024, held[m]
        if (p99["vipps-webhookd", m, 128] != "") {
          p = p99["vipps-webhookd", m, 128] / 1000
          printf "%s  %s p99 at 128 conns: %.2f ms (target <= 10 ms)\n", p <= 10 ? "PASS" : "MISS", m, p
          printf "%s  %s p99 at 128 conns: %.2f ms (issue 19: target <= 5 ms)\n", p <= 5 ? "PASS" : "MISS", m, p
          if (p > 10) miss = 1
        }
      }
      exit bad ? 1 : (miss && strict ? 1 : 0)
    }' "$tsv"
}

if [[ -n $out ]]; then report | tee "$out"; status=${PIPESTATUS[0]}; else report; status=$?; fi
((peers_status == 0)) || { echo "peers.sh exited $peers_status; see $rawlog" >&2; status=1; }
exit "$status"
