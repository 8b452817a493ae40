#!/usr/bin/env bash
# ledger-seed.sh: writes a payments.log of COUNT payments, one CREATED line each, their events in the last hour, to
# standard output: a payment ledger at its bound (49,000 payments by default), as a daemon that has run for a while
# meets every new payment (each one then makes the ledger forget its oldest). For bench/profile.sh with
# BENCH_PAYMENTS_SEED (bench/daemon-target.sh copies it into the fresh state directory).
#
#   bench/ledger-seed.sh [COUNT] > /tmp/payments.log      # COUNT default 49000
set -euo pipefail
count=${1:-49000}
now=$(($(date +%s) * 1000))
awk -v count="$count" -v now="$now" 'BEGIN {
  for (i = 0; i < count; i++)
    printf "{\"msn\":\"123456\",\"reference\":\"seed-%08d\",\"pspReference\":\"seed-psp-%08d\",\"name\":\"CREATED\",\"success\":true,\"endpoint\":\"/webhooks/vipps\",\"at\":%.0f,\"amount\":1000}\n", i, i, now - 3600000 + i
}'
