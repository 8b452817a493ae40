#!/usr/bin/env bash
# memory.sh: the daemon's memory after many unique events (issue 19): idle RSS, peak RSS (VmHWM) after EVENTS unique
# signed events, and the bytes each persisted event added to the peak.
#
#   bench/memory.sh                  # 1,000,000 events (about 2 minutes at 15k req/s, plus wrk's build of the requests)
#   EVENTS=200000 bench/memory.sh    # fewer
#   DAEMON=path/to/vipps-webhookd bench/memory.sh   # a given binary (default: a release build, static stdlib, as the
#                                                   # .deb ships it: scripts/package-deb.sh)
#
# One daemon (bench/daemon-target.sh: file sink, default log level, fsync before each 200) is loaded by rounds of wrk
# with bench/vipps.lua, ROUND_EVENTS [100000] distinct events per round (each round has its own random run tag, so
# rounds never repeat each other), 16 connections, until the sink holds EVENTS lines. Every event is an ePayment
# event of its own payment, so the dedup index and the payment ledger both grow by one entry per event. Prints one
# line per round and a summary; exits 1 when the daemon dies, answers an error, or the sink holds fewer lines than
# answered events.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
events_target=${EVENTS:-1000000}
round_events=${ROUND_EVENTS:-100000}
conns=${CONNS:-16}
listen=127.0.0.1:${PORT:-18093}
export BENCH_SECRET=${BENCH_SECRET-bench-secret-not-for-production}

if [[ -z ${DAEMON:-} ]]; then
    echo "building vipps-webhookd (release, static stdlib)..." >&2
    flags=(-c release --static-swift-stdlib --product vipps-webhookd)
    (cd "$repo" && swift build "${flags[@]}" >&2) || { echo "release build failed" >&2; exit 1; }
    DAEMON="$(cd "$repo" && swift build "${flags[@]}" --show-bin-path)/vipps-webhookd"
fi

work=$(mktemp -d /tmp/bench-memory.XXXXXX)
export BENCH_EVENTS_FILE=$work/daemon.events
: >"$BENCH_EVENTS_FILE"
bash -c "exec \"$here/daemon-target.sh\" \"$DAEMON\" $listen" 2>"$work/daemon.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT

field_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
persisted() { wc -l <"$BENCH_EVENTS_FILE"; }

for _ in $(seq 100); do
    curl -s -o /dev/null "http://$listen/healthz" && break
    sleep 0.1
done
kill -0 "$pid" 2>/dev/null || { echo "the daemon did not start:" >&2; cat "$work/daemon.log" >&2; exit 1; }
sleep 1
idle_kb=$(field_kb VmRSS)
echo "idle: RSS $((idle_kb / 1024)) MiB ($idle_kb kB: $(field_kb RssAnon) kB anonymous, $(field_kb RssFile) kB file-backed)"

answered=0 round=0 failed=0
while (($(persisted) < events_target)); do
    round=$((round + 1))
    want=$((events_target - $(persisted)))
    ((want > round_events)) && want=$round_events
    ((want < 2)) && want=2
    # Long enough for `want` requests at 8k req/s; a round that sends them all sooner wraps and sends repeats, which
    # the daemon answers as duplicates without storing them (counted in answered, not in persisted).
    seconds=$((want / 8000 + 2))
    out=$(BENCH_UNIQUE=$want BENCH_THREADS=2 timeout -s INT $((seconds + 120)) \
        wrk -t2 -c"$conns" -d"${seconds}s" --timeout 5s -s "$here/vipps.lua" "http://$listen/webhooks/vipps" 2>&1)
    line=$(grep '^BENCH ' <<<"$out")
    [[ -n $line ]] || { echo "wrk failed: $out" >&2; failed=1; break; }
    requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$line")
    errors=$(grep -o 'err_[a-z]*=[0-9]*' <<<"$line" | awk -F= '{ s += $2 } END { print s + 0 }')
    answered=$((answered + requests))
    kill -0 "$pid" 2>/dev/null || { echo "the daemon died" >&2; failed=1; break; }
    printf 'round %d: %d requests, %d errors, persisted %d, RSS %d MiB, peak %d MiB\n' "$round" "$requests" \
        "$errors" "$(persisted)" $(($(field_kb VmRSS) / 1024)) $(($(field_kb VmHWM) / 1024))
    ((errors == 0)) || failed=1
done

sleep 1
peak_kb=$(field_kb VmHWM)
total=$(persisted)
echo "persisted $total of $answered answered (the rest are repeats of a round that wrapped)"
echo "peak: RSS $((peak_kb / 1024)) MiB ($peak_kb kB) after $total unique events; $(((peak_kb - idle_kb) * 1024 / (total > 0 ? total : 1))) bytes per event over idle"
grep -o '"dedup_entries":[0-9]*' "$work/daemon.log" | tail -1
exit $failed
