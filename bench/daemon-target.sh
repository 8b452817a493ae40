#!/usr/bin/env bash
# daemon-target.sh: START_CMD for vipps-webhookd in bench/peers.sh (bench/run.sh passes it).
#
# Writes a fresh config and state dir next to $BENCH_EVENTS_FILE (a new empty file per start, created by peers.sh),
# then execs the daemon in the foreground, so peers.sh sees the daemon's own PID. The endpoint secret comes from
# BENCH_SECRET via secret_env; the file sink writes every event ("*") to $BENCH_EVENTS_FILE, one line per event, so
# `wc -l < "$BENCH_EVENTS_FILE"` counts persisted events. Log level stays the default (info); stderr goes wherever
# peers.sh sends it (a per-run server log file), as in a real deployment.
#
# usage: bench/daemon-target.sh DAEMON_BINARY [LISTEN]   (LISTEN default 127.0.0.1:18090)
# DAEMON_WRAPPER (optional): a command the daemon runs under, split on spaces (bench/profile.sh: valgrind).
# BENCH_PAYMENTS_SEED (optional): a payments.log copied into the fresh state dir (bench/ledger-seed.sh: a full ledger).
set -euo pipefail
daemon=${1:?path to the vipps-webhookd binary}
listen=${2:-127.0.0.1:18090}
events=${BENCH_EVENTS_FILE:?BENCH_EVENTS_FILE not set (run through bench/peers.sh)}
: "${BENCH_SECRET:?BENCH_SECRET not set}"
base=${events%.events}
rm -rf "$base.state"
mkdir -p "$base.state"
if [[ -n ${BENCH_PAYMENTS_SEED:-} ]]; then cp "$BENCH_PAYMENTS_SEED" "$base.state/payments.log"; fi
cat >"$base.yaml" <<YAML
listen: "$listen"
state_dir: "$base.state"
endpoints:
  - path: "/webhooks/vipps"
    secret_env: "BENCH_SECRET"
    routes:
      - events: ["*"]
        sinks: ["events"]
sinks:
  events:
    file: "$events"
YAML
# shellcheck disable=SC2086 # the wrapper is words
exec ${DAEMON_WRAPPER:-} "$daemon" serve --config "$base.yaml"
