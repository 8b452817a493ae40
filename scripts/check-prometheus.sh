#!/usr/bin/env bash
# Checks the shipped Prometheus files for real:
#   1. config/prometheus-alerts.yml passes `promtool check rules` and its unit tests
#      (`promtool test rules config/prometheus-alerts.test.yml`);
#   2. a real Prometheus (Debian's `prometheus` package) scrapes a running vipps-webhookd (loopback, high ports) that
#      has seen a little of everything (events, a duplicate, a forgery, a malformed request, a failing hook), and
#      every query of config/grafana-dashboard.json returns at least one series; every alert expression evaluates.
# Bounded: at most ~60 s of waiting. Exit 0 when all pass, 1 otherwise. Needs prometheus, promtool, jq, curl and a
# built vipps-webhookd (VIPPS_WEBHOOKD, default .build/debug/vipps-webhookd).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
daemon_bin="${VIPPS_WEBHOOKD:-$repo_root/.build/debug/vipps-webhookd}"
prometheus_bin="${PROMETHEUS:-$(command -v prometheus || echo /usr/bin/prometheus)}"
promtool_bin="${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}"

fail() { echo "check-prometheus: $*" >&2; exit 1; }

[[ -x "$prometheus_bin" && -x "$promtool_bin" ]] || fail "prometheus/promtool not found (apt-get install prometheus)"
[[ -x "$daemon_bin" ]] || fail "$daemon_bin not found (swift build, or set VIPPS_WEBHOOKD=)"
command -v jq >/dev/null || fail "jq not found"
command -v curl >/dev/null || fail "curl not found"

# 1. Rules ------------------------------------------------------------------------------------------------------------
"$promtool_bin" check rules "$repo_root/config/prometheus-alerts.yml" >/dev/null \
    || fail "promtool check rules rejected config/prometheus-alerts.yml"
(cd "$repo_root/config" && "$promtool_bin" test rules prometheus-alerts.test.yml >/dev/null) \
    || fail "promtool test rules failed: (cd config && promtool test rules prometheus-alerts.test.yml)"
echo "check-prometheus: alert rules OK ($("$promtool_bin" --version 2>&1 | head -n 1))"

# 2. A real scrape ------------------------------------------------------------------------------------------------------
work="$(mktemp -d)"
daemon_pid=""
prometheus_pid=""
cleanup() {
    [[ -n "$prometheus_pid" ]] && kill "$prometheus_pid" 2>/dev/null && wait "$prometheus_pid" 2>/dev/null
    [[ -n "$daemon_pid" ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A free loopback port from 19000 up (the daemon takes port 0 and reports its own).
free_port() {
    local port
    for port in $(seq "$1" $(($1 + 200))); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    fail "no free loopback port from $1"
}

printf 'check-prometheus-secret\n' >"$work/secret"
chmod 600 "$work/secret"
printf '#!/bin/sh\necho "hook refuses on purpose" >&2\nexit 1\n' >"$work/hook.sh"
chmod 755 "$work/hook.sh"
cat >"$work/config.yaml" <<CONF
listen: "127.0.0.1:0"
state_dir: "$work/state"
log: { format: json, level: info }
endpoints:
  - path: "/vipps/epayment"
    secret_file: "$work/secret"
    routes:
      - { events: ["*"], sinks: ["events"] }
      - { events: ["epayments.payment.captured.v1"], sinks: ["fulfil"] }
sinks:
  events: { file: "$work/events.jsonl" }
  fulfil: { exec: ["$work/hook.sh", "{reference}"], max_attempts: 1 }
CONF
"$daemon_bin" serve --config "$work/config.yaml" 2>"$work/daemon.log" &
daemon_pid=$!
address=""
for _ in $(seq 100); do
    address="$(jq -r 'select(.msg == "listening") | .address' "$work/daemon.log" 2>/dev/null | head -n 1)"
    [[ -n "$address" ]] && break
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon exited: $(cat "$work/daemon.log")"
    sleep 0.1
done
[[ -n "$address" ]] || fail "the daemon did not report its address within 10 s: $(cat "$work/daemon.log")"
url="http://$address/vipps/epayment"

# Traffic: two captures (their hook fails: dead letters), a duplicate, a forgery (401), a malformed request.
"$daemon_bin" send --url "$url" --secret-file "$work/secret" --event epayments.payment.captured.v1 --count 2 >/dev/null
"$daemon_bin" send --url "$url" --secret-file "$work/secret" --event epayments.payment.authorized.v1 >/dev/null
printf '{"msn":"123456","reference":"check-prometheus-1","pspReference":"p-1","name":"CREATED","amount":{"currency":"NOK","value":100},"timestamp":"2026-01-01T00:00:00Z","success":true}' >"$work/body.json"
"$daemon_bin" send --url "$url" --secret-file "$work/secret" --body-file "$work/body.json" --count 2 >/dev/null
printf 'wrong-secret\n' >"$work/wrong"
if "$daemon_bin" send --url "$url" --secret-file "$work/wrong" --event epayments.payment.created.v1 >/dev/null 2>&1; then
    fail "a forged event was accepted"
fi
(exec 3<>"/dev/tcp/${address%:*}/${address##*:}" && printf 'NONSENSE\r\n\r\n' >&3 && cat <&3 >/dev/null) || true
for _ in $(seq 100); do
    [[ "$(curl -fsS "http://$address/metrics" | awk '$1 == "vipps_webhookd_dead_letters{sink=\"fulfil\"}" {print $2}')" == 2 ]] && break
    sleep 0.1
done

prometheus_port="$(free_port 19090)"
cat >"$work/prometheus.yml" <<CONF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["$repo_root/config/prometheus-alerts.yml"]
scrape_configs:
  - job_name: vipps-webhookd
    static_configs: [{ targets: ["$address"] }]
CONF
"$prometheus_bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn 2>"$work/prometheus.log" &
prometheus_pid=$!
api="http://127.0.0.1:$prometheus_port/api/v1"

query() { curl -fsS --max-time 5 "$api/query" --data-urlencode "query=$1"; }

# Four scrapes at least, so that rate() over them has two samples and more.
for _ in $(seq 300); do
    scrapes="$(query 'count_over_time(up{job="vipps-webhookd"}[5m])' 2>/dev/null | jq -r '.data.result[0].value[1] // 0' 2>/dev/null || echo 0)"
    (( scrapes >= 4 )) && break
    kill -0 "$prometheus_pid" 2>/dev/null || fail "prometheus exited: $(cat "$work/prometheus.log")"
    sleep 0.2
done
(( scrapes >= 4 )) || fail "prometheus scraped the daemon $scrapes time(s) in 60 s: $(cat "$work/prometheus.log")"
[[ "$(query 'up{job="vipps-webhookd"}' | jq -r '.data.result[0].value[1]')" == 1 ]] || fail "scrape target is down"

empty=0
checked=0
while IFS= read -r expr; do
    checked=$((checked + 1))
    answer="$(query "$expr")" || fail "query failed: $expr"
    [[ "$(jq -r .status <<<"$answer")" == success ]] || fail "query error: $expr: $answer"
    if [[ "$(jq '.data.result | length' <<<"$answer")" == 0 ]]; then
        echo "check-prometheus: dashboard query returns no series: $expr" >&2
        empty=$((empty + 1))
    fi
done < <(jq -r '.panels[].targets[].expr' "$repo_root/config/grafana-dashboard.json")
(( checked > 0 )) || fail "no query found in config/grafana-dashboard.json"
(( empty == 0 )) || fail "$empty of $checked dashboard queries return no series"

rules="$(curl -fsS --max-time 5 "$api/rules")"
[[ "$(jq '[.data.groups[].rules[] | select(.health == "err")] | length' <<<"$rules")" == 0 ]] \
    || fail "alert rules do not evaluate: $(jq -c '[.data.groups[].rules[] | select(.health == "err") | {name, lastError}]' <<<"$rules")"
echo "check-prometheus: prometheus scraped the daemon; all $checked dashboard queries return series; $(jq '[.data.groups[].rules[]] | length' <<<"$rules") alert rules evaluate"
