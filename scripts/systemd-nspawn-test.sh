#!/usr/bin/env bash
# Installs the Debian package into a Debian 12 root booted by a real systemd (systemd-nspawn) and checks it there:
#   install     apt-get install ./vipps-webhookd_*.deb; ldd lists only glibc and libssl3/libcrypto3; nothing started
#   start       nginx (TLS, self-signed) in front of the daemon, secret via LoadCredential=, socket + service started
#   events      signed events sent from OUTSIDE the container through nginx with TLS land in the file sink
#   reload      `systemctl reload` with a broken config keeps the old one (events still accepted, log says refused)
#   restart     `systemctl restart` under a steady trickle of events loses none (socket unit holds the connections)
#   journal     `journalctl -u vipps-webhookd` shows the daemon's JSON log
#   security    `systemd-analyze security vipps-webhookd` on the running unit is at most 1.5
#   watchdog    the daemon sends WATCHDOG=1; stopped with SIGSTOP, it is killed and restarted by the systemd watchdog
#   upgrade     installing the package again restarts the running service, keeps it enabled and config.yaml as is
#   purge       `apt-get purge` removes the package and /var/lib/vipps-webhookd, keeps the event files and what the
#               operator wrote in /etc/vipps-webhookd
# Each step prints its result and how long it took. Exit 0 when all pass, 1 on the first failure, 0 with "SKIP" when
# this machine cannot boot a container (no systemd-nspawn, not root, or the boot fails before systemd runs).
#
# The Debian root is built once with debootstrap and cached in $VIPPS_CI_ROOT_CACHE (default
# /var/cache/vipps-webhookd-ci); it is rebuilt when missing or incomplete. Every run works on a copy (the cache stays
# pristine). The container shares the host's network: nginx listens on 127.0.0.1:18443 (HTTPS; 127.0.0.1:18481 for
# its port-80 server) and the daemon's socket on 127.0.0.1:18480 (18489 in its config, unused), ports no other test or
# benchmark uses.
#
# Runs on one machine are serialized by a lock in the cache directory (they share the ports).
#
# Usage: scripts/systemd-nspawn-test.sh [path/to/vipps-webhookd_VERSION_ARCH.deb]
#        (default: the newest dist/*.deb; the sender is .build/debug/vipps-webhookd, or $VIPPS_WEBHOOKD)
#        scripts/systemd-nspawn-test.sh --prepare-root-only      (build the cached root when it is missing, then exit)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${VIPPS_CI_ROOT_CACHE:-/var/cache/vipps-webhookd-ci}"
cached_root="$cache_dir/bookworm"
# Changing this list rebuilds the cached root (the list is stored in the root's completion marker).
root_packages="systemd,systemd-sysv,dbus,adduser,nginx,libssl3,ca-certificates,procps"
https_port=18443
http_port=18481
daemon_port=18480
unused_port=18489

started_at=$(date +%s.%N)
step_started_at=$started_at

log() { printf 'nspawn-test: %s\n' "$*"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { step_started_at=$(date +%s.%N); log "---- $1"; }
pass() { log "PASS $* ($(elapsed "$step_started_at") s)"; }
fail() { log "FAIL $* ($(elapsed "$step_started_at") s)"; exit 1; }
skip() { log "SKIP: $*"; exit 0; }

# ---- the cached Debian root ------------------------------------------------------------------------------------------

# The Debian mirror this machine's apt uses (first reachable one), else deb.debian.org.
find_mirror() {
    local candidates uri
    candidates="$(
        {
            grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{ for (i = 2; i <= NF; i++) print $i }'
            grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
                | sed 's/\[[^]]*\]//' | awk '{ print $2 }'
        } | grep -v -e security -e '^$' || true
    )"
    for uri in $candidates http://deb.debian.org/debian; do
        if curl -fsS -o /dev/null --max-time 15 "${uri%/}/dists/bookworm/Release" 2>/dev/null; then
            echo "${uri%/}"
            return 0
        fi
    done
    return 1
}

root_complete() {
    [[ -f "$cached_root/.vipps-webhookd-ci-complete" ]] \
        && [[ "$(cat "$cached_root/.vipps-webhookd-ci-complete")" == "$root_packages" ]] \
        && [[ -x "$cached_root/lib/systemd/systemd" && -x "$cached_root/usr/sbin/nginx" ]]
}

build_root() {
    local mirror build_dir t0
    command -v debootstrap >/dev/null || fail "debootstrap not found (apt-get install debootstrap)"
    mirror="$(find_mirror)" || fail "no reachable Debian mirror (tried this machine's apt sources and deb.debian.org)"
    build_dir="$cached_root.partial"
    rm -rf "$build_dir"
    mkdir -p "$cache_dir"
    t0=$(date +%s.%N)
    log "debootstrap bookworm from $mirror into $build_dir (cold: a few minutes)"
    if ! debootstrap --variant=minbase --include="$root_packages" bookworm "$build_dir" "$mirror" \
        >"$cache_dir/debootstrap.log" 2>&1; then
        tail -n 20 "$cache_dir/debootstrap.log" >&2
        fail "debootstrap failed (log: $cache_dir/debootstrap.log)"
    fi
    # Boot-time noise the test does not need; nginx is started by the test with its own site.
    rm -f "$build_dir/etc/nginx/sites-enabled/default"
    chroot "$build_dir" systemctl disable nginx.service >/dev/null 2>&1 || true
    chroot "$build_dir" systemctl mask systemd-resolved.service systemd-networkd.service getty@.service \
        console-getty.service >/dev/null 2>&1 || true
    echo "vipps-ci" >"$build_dir/etc/hostname"
    apt-get clean -o Dir="$build_dir" >/dev/null 2>&1 || true
    echo "$root_packages" >"$build_dir/.vipps-webhookd-ci-complete"
    rm -rf "$cached_root"
    mv "$build_dir" "$cached_root"
    log "debootstrap done in $(elapsed "$t0") s"
}

prepare_root() {
    mkdir -p "$cache_dir"
    exec 9>"$cache_dir/.lock"
    flock -w 1200 9 || fail "another run holds $cache_dir/.lock"
    if root_complete; then
        log "cached root $cached_root is complete"
    else
        build_root
    fi
}

# ---- the container ---------------------------------------------------------------------------------------------------

nspawn_pid=""
ct_pid=""
sender_pid=""
work=""

# Runs a command inside the booted container (its mount, UTS, IPC and PID namespaces; the network is shared anyway).
in_ct() { nsenter -t "$ct_pid" -m -u -i -p -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

cleanup() {
    local status=$?
    [[ -n "$sender_pid" ]] && kill "$sender_pid" 2>/dev/null || true
    if [[ -n "$nspawn_pid" ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
        if [[ -n "$ct_pid" ]]; then
            in_ct systemctl --no-block poweroff >/dev/null 2>&1 || kill -TERM "$nspawn_pid" 2>/dev/null || true
        else
            kill -TERM "$nspawn_pid" 2>/dev/null || true
        fi
        for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
        wait "$nspawn_pid" 2>/dev/null || true
        log "container stopped"
    fi
    if [[ -n "$work" ]]; then
        if [[ "$status" -ne 0 && -f "$work/console.log" ]]; then
            log "container console (last 30 lines):"
            tail -n 30 "$work/console.log" >&2 || true
        fi
        rm -rf "$work"
    fi
    log "total $(elapsed "$started_at") s"
}

boot_container() {
    work="$(mktemp -d /var/tmp/vipps-webhookd-nspawn.XXXXXX)"
    root="$work/root"
    cp -a "$cached_root" "$root"
    systemd-nspawn -b --register=no --keep-unit --console=passive --quiet -D "$root" \
        --machine="vipps-ci-$$" >"$work/console.log" 2>&1 </dev/null &
    nspawn_pid=$!
    # The container's systemd is a child of systemd-nspawn (nspawn is its subreaper).
    for _ in $(seq 1 150); do
        kill -0 "$nspawn_pid" 2>/dev/null \
            || skip "systemd-nspawn exited during boot: $(tail -n 3 "$work/console.log" | tr '\n' ' ')"
        for child in $(pgrep -P "$nspawn_pid" || true); do
            [[ "$(cat "/proc/$child/comm" 2>/dev/null)" == "systemd" ]] && ct_pid=$child
        done
        [[ -n "$ct_pid" ]] && break
        sleep 0.2
    done
    [[ -n "$ct_pid" ]] || skip "no systemd came up inside systemd-nspawn within 30 s"
    local state
    state="$(timeout 90 nsenter -t "$ct_pid" -m -u -i -p -- systemctl is-system-running --wait 2>/dev/null || true)"
    case "$state" in
    running) ;;
    degraded)
        log "system state degraded: $(in_ct systemctl --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')"
        ;;
    *) skip "the container's systemd did not finish booting (state '$state')" ;;
    esac
}

# ---- events ----------------------------------------------------------------------------------------------------------

public_url="https://hooks.example.com:$https_port"
endpoint_url="$public_url/vipps/epayment"
sink_file="/var/log/vipps-webhookd/events.jsonl"

# Sends one signed ePayment event with reference $1 through nginx (TLS), signed with secret file $2; prints the
# HTTP status (000 when no answer).
send_event() {
    local reference="$1" secret="${2:-$work/epayment.secret}" body="$work/body-$1.json" headers=() line
    {
        printf '{"msn":"123456","reference":"%s","pspReference":"psp-%s","name":"CAPTURED",' "$reference" "$reference"
        printf '"amount":{"currency":"NOK","value":49900},"timestamp":"%s",' "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
        printf '"idempotencyKey":"idem-%s","success":true}' "$reference"
    } >"$body"
    while IFS= read -r line; do headers+=(-H "$line"); done \
        < <("$sender" sign --secret-file "$secret" --url "$endpoint_url" --body-file "$body")
    ((${#headers[@]} == 6)) || { echo "sign-failed"; return 0; }
    curl -sS -o /dev/null -w '%{http_code}' --max-time 15 --cacert "$work/cert.pem" \
        --resolve "hooks.example.com:$https_port:127.0.0.1" -H 'content-type: application/json' "${headers[@]}" \
        --data-binary @"$body" "$endpoint_url" 2>/dev/null || true
}

# Sends reference $1 until it is answered 2xx (at most $2 tries, 0.2 s apart); prints
# "REF LAST-STATUS TRIES NON2XX FAILED-STATUSES" (000 = no answer).
send_until_accepted() {
    local reference="$1" tries="${2:-100}" status="" attempt non2xx=0 seen=""
    for ((attempt = 1; attempt <= tries; attempt++)); do
        status="$(send_event "$reference")"
        [[ "$status" == 2?? ]] && break
        non2xx=$((non2xx + 1))
        seen+="$status,"
        sleep 0.2
    done
    echo "$reference $status $attempt $non2xx ${seen:--}"
}

# How many lines of the file sink carry reference $1.
sink_count() {
    [[ -f "$root$sink_file" ]] || { echo 0; return; }
    grep -c -F "\"reference\":\"$1\"" "$root$sink_file" || true
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s
    local seconds="$1" what="$2"
    shift 2
    local deadline=$(($(date +%s) + seconds))
    until "$@"; do
        (($(date +%s) < deadline)) || fail "$what: not within $seconds s"
        sleep 0.2
    done
}

main_pid() { in_ct systemctl show -P MainPID vipps-webhookd.service; }
watchdog_pinged_since() {
    [[ "$(in_ct systemctl show -P WatchdogTimestampMonotonic vipps-webhookd.service)" != "$1" ]]
}
main_pid_changed_from() { local pid; pid="$(main_pid)"; [[ "$pid" != 0 && "$pid" != "$1" ]]; }
# True when the file sink has $2 lines containing $1.
sink_has_lines() { [[ "$(grep -c -F "$1" "$root$sink_file" 2>/dev/null)" == "$2" ]]; }
service_active() { [[ "$(in_ct systemctl is-active vipps-webhookd.service)" == active ]]; }
# grep reads all of journalctl's output (no -q): under pipefail, a grep that stops at its first match can leave
# journalctl killed by SIGPIPE, and the pipeline fails although the line is there.
journal_has() { in_ct journalctl -u vipps-webhookd.service --no-pager -o cat | grep -F "$1" >/dev/null; }

write_config() { # write_config FILE: a configuration for this test
    # `listen:` differs from the socket unit's address: the daemon must serve on the socket systemd hands it.
    cat >"$1" <<YAML
listen: "127.0.0.1:$unused_port"
public_url: "$public_url"
state_dir: "/var/lib/vipps-webhookd"
log:
  format: json
endpoints:
  - path: "/vipps/epayment"
    secret_file: "/run/credentials/vipps-webhookd.service/epayment.secret"
    routes:
      - events: ["*"]
        sinks: ["events"]
sinks:
  events:
    file: "$sink_file"
YAML
}

# ---- the test --------------------------------------------------------------------------------------------------------

if [[ "${1:-}" == "--prepare-root-only" ]]; then
    prepare_root
    exit 0
fi

[[ "$(id -u)" -eq 0 ]] || skip "needs root (debootstrap, systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn not found (apt-get install systemd-container)"
for tool in nsenter curl openssl flock; do command -v "$tool" >/dev/null || fail "$tool not found"; done
deb="${1:-$(ls -t "$repo_root"/dist/vipps-webhookd_*.deb 2>/dev/null | head -n 1)}"
[[ -f "$deb" ]] || fail "no .deb (run scripts/package-deb.sh first or give its path)"
sender="${VIPPS_WEBHOOKD:-$repo_root/.build/debug/vipps-webhookd}"
[[ -x "$sender" ]] || fail "$sender not found (swift build)"
trap cleanup EXIT
trap 'exit 130' INT TERM

step "root: cached Debian 12 root"
prepare_root
pass "root: $cached_root"

step "boot: systemd-nspawn -b"
boot_container
pass "boot: systemd $(in_ct systemctl --version | awk 'NR == 1 { print $2 }') is PID 1 (host pid $ct_pid)"

step "install: apt-get install ./$(basename "$deb")"
cp "$deb" "$root/root/"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/root/$(basename "$deb")" >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; fail "install: apt-get install failed"; }
libraries="$(in_ct ldd /usr/bin/vipps-webhookd | awk '{ print $1 }' | sed 's#.*/##' | sort | tr '\n' ' ')"
unexpected="$(tr ' ' '\n' <<<"$libraries" | grep -v -e '^$' \
    | grep -v -x -E -f "$repo_root/scripts/debian/allowed-libraries" | tr '\n' ' ' || true)"
[[ -z "$unexpected" ]] || fail "install: ldd lists $unexpected(all: $libraries)"
if in_ct ldd /usr/bin/vipps-webhookd | grep 'not found' >/dev/null; then
    fail "install: a library is missing: $(in_ct ldd /usr/bin/vipps-webhookd)"
fi
for unit in vipps-webhookd.service vipps-webhookd.socket; do
    enabled="$(in_ct systemctl is-enabled "$unit" || true)"
    active="$(in_ct systemctl is-active "$unit" || true)"
    [[ "$enabled" == disabled && "$active" == inactive ]] \
        || fail "install: $unit is $enabled/$active, expected disabled/inactive"
done
in_ct id vipps-webhookd >/dev/null || fail "install: no user vipps-webhookd"
for dir in /var/lib/vipps-webhookd /var/log/vipps-webhookd; do
    owner="$(in_ct stat -c '%U:%G %a' "$dir")"
    [[ "$owner" == "vipps-webhookd:vipps-webhookd 750" ]] || fail "install: $dir is $owner"
done
[[ "$(in_ct stat -c '%U %a' /etc/vipps-webhookd/credentials)" == "root 700" ]] || fail "install: credentials directory"
version="$(in_ct vipps-webhookd --version)"
# Started by hand before it is configured (no secret, no config.yaml), it fails and says why.
in_ct systemctl start vipps-webhookd.service 2>/dev/null && fail "install: the unconfigured service started"
in_ct journalctl -u vipps-webhookd.service --no-pager -o cat | grep -i credential >/dev/null \
    || fail "install: the failed start does not name the missing credential"
in_ct systemctl stop vipps-webhookd.service
in_ct systemctl reset-failed vipps-webhookd.service 2>/dev/null || true
pass "install: $version; ldd: $libraries; units disabled and inactive; an unconfigured start fails"

step "start: nginx with TLS, secret by LoadCredential=, socket + service"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=hooks.example.com \
    -addext subjectAltName=DNS:hooks.example.com -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
install -d -m 0755 "$root/etc/ssl/vipps-ci"
install -m 0644 "$work/cert.pem" "$root/etc/ssl/vipps-ci/cert.pem"
install -m 0600 "$work/key.pem" "$root/etc/ssl/vipps-ci/key.pem"
# The packaged site, moved to this test's loopback ports and certificate.
sed -e "s#listen 443 ssl;#listen 127.0.0.1:$https_port ssl;#" -e "s#listen 80;#listen 127.0.0.1:$http_port;#" \
    -e '/listen \[::\]/d' -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$daemon_port;#" \
    -e "s#/etc/letsencrypt/live/hooks.example.com/fullchain.pem#/etc/ssl/vipps-ci/cert.pem#" \
    -e "s#/etc/letsencrypt/live/hooks.example.com/privkey.pem#/etc/ssl/vipps-ci/key.pem#" \
    "$root/etc/nginx/sites-available/vipps-webhookd" >"$root/etc/nginx/sites-enabled/vipps-webhookd"
for expected in "127.0.0.1:$https_port ssl" "127.0.0.1:$http_port" "server 127.0.0.1:$daemon_port" \
    vipps-ci/cert.pem vipps-ci/key.pem; do
    grep -q -F "$expected" "$root/etc/nginx/sites-enabled/vipps-webhookd" \
        || fail "start: the packaged nginx site has changed: no '$expected' after rewriting it"
done
in_ct nginx -t >"$work/nginx-t.log" 2>&1 || { cat "$work/nginx-t.log" >&2; fail "start: nginx -t"; }
in_ct systemctl start nginx.service || fail "start: nginx did not start"
head -c 32 /dev/urandom | base64 >"$work/epayment.secret"
install -m 0600 "$work/epayment.secret" "$root/etc/vipps-webhookd/credentials/epayment.secret"
head -c 32 /dev/urandom | base64 >"$work/wrong.secret"
write_config "$root/etc/vipps-webhookd/config.yaml"
install -d "$root/etc/systemd/system/vipps-webhookd.socket.d"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$daemon_port" \
    >"$root/etc/systemd/system/vipps-webhookd.socket.d/test-port.conf"
in_ct systemctl daemon-reload
in_ct systemctl enable --now vipps-webhookd.socket vipps-webhookd.service >"$work/enable.log" 2>&1 \
    || {
        cat "$work/enable.log" >&2
        in_ct journalctl -u vipps-webhookd --no-pager -n 20 >&2
        fail "start: systemctl enable --now"
    }
service_active || fail "start: service not active"
health="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$daemon_port/healthz" || true)"
[[ "$health" == 200 ]] || fail "start: /healthz answered $health"
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$unused_port/healthz" \
    && fail "start: the daemon listens on its config's address instead of the inherited socket"
in_ct vipps-webhookd check-config --config /etc/vipps-webhookd/config.yaml >/dev/null \
    || fail "start: check-config refuses the running configuration"
pass "start: service active (MainPID $(main_pid)), /healthz 200 on the inherited socket"

step "events: signed events from outside the container, through nginx with TLS"
for i in $(seq 1 20); do
    status="$(send_event "tls-$i")"
    [[ "$status" == 200 ]] || fail "events: event tls-$i answered $status"
done
status="$(send_event forged "$work/wrong.secret")"
[[ "$status" == 401 ]] || fail "events: an event signed with another secret answered $status, expected 401"
wait_for 10 "events: all 20 events in $sink_file" sink_has_lines '"reference":"tls-' 20
[[ "$(sink_count forged)" == 0 ]] || fail "events: the forged event reached the sink"
memory="$(in_ct cat "/proc/$(main_pid)/status" \
    | awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s %.1f MB ", $1, $2 / 1024 }')"
pass "events: 20 x 200 and in the sink once each; forged event 401 and not in the sink; daemon $memory"

step "reload: a broken configuration is refused, the running one stays"
pid_before="$(main_pid)"
cp "$root/etc/vipps-webhookd/config.yaml" "$work/config.good.yaml"
sed -i 's/sinks: \["events"\]/sinks: ["no-such-sink"]/' "$root/etc/vipps-webhookd/config.yaml"
in_ct systemctl reload vipps-webhookd.service || fail "reload: systemctl reload failed"
wait_for 10 "reload: log line 'new configuration refused'" journal_has "new configuration refused"
service_active || fail "reload: service not active after a refused reload"
[[ "$(main_pid)" == "$pid_before" ]] || fail "reload: the daemon was restarted"
status="$(send_event reload-1)"
[[ "$status" == 200 ]] || fail "reload: event after the refused reload answered $status"
wait_for 10 "reload: event reload-1 in the sink" test "$(sink_count reload-1)" = 1
cp "$work/config.good.yaml" "$root/etc/vipps-webhookd/config.yaml"
in_ct systemctl reload vipps-webhookd.service
wait_for 10 "reload: log line 'configuration reloaded' after restoring" journal_has "SIGHUP: configuration reloaded"
pass "reload: refused (logged), same MainPID $pid_before, events still accepted; the good configuration reloads"

step "restart: systemctl restart twice under a steady trickle of events (socket unit active)"
: >"$work/trickle.log"
(
    i=0
    while [[ ! -f "$work/trickle.stop" ]]; do
        i=$((i + 1))
        send_until_accepted "trickle-$i" 150 >>"$work/trickle.log"
        sleep 0.05
    done
) &
sender_pid=$!
sleep 3
pid_before="$(main_pid)"
in_ct systemctl restart vipps-webhookd.service || fail "restart: first restart failed"
sleep 3
in_ct systemctl restart vipps-webhookd.service || fail "restart: second restart failed"
sleep 3
touch "$work/trickle.stop"
wait "$sender_pid" || true
sender_pid=""
[[ "$(main_pid)" != "$pid_before" ]] || fail "restart: MainPID did not change"
sent=0 retried=0 non2xx=0 statuses=""
while read -r reference status attempts failures seen; do
    sent=$((sent + 1))
    [[ "$status" == 2?? ]] || fail "restart: $reference never accepted (last status $status after $attempts tries)"
    ((failures > 0)) && retried=$((retried + 1)) && statuses+="$seen"
    non2xx=$((non2xx + failures))
done <"$work/trickle.log"
((sent >= 20)) || fail "restart: only $sent events sent"
missing=0 doubled=0
wait_for 10 "restart: the last trickle event in the sink" test "$(sink_count "trickle-$sent")" = 1
for i in $(seq 1 "$sent"); do
    count="$(sink_count "trickle-$i")"
    ((count == 0)) && missing=$((missing + 1))
    ((count > 1)) && doubled=$((doubled + 1))
done
((missing == 0 && doubled == 0)) || fail "restart: $missing accepted events missing from the sink, $doubled twice in it"
pass "restart: $sent events, every one 200 and in the sink once; $non2xx non-2xx answers (${statuses:-none})" \
    "on $retried events, all retried until 200"

step "journal: journalctl -u vipps-webhookd shows the JSON log"
in_ct journalctl -u vipps-webhookd.service --no-pager -o cat >"$work/journal.txt"
python3 - "$work/journal.txt" <<'PY' || fail "journal: see above"
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace") if l.startswith("{")]
objects = []
for line in lines:
    try:
        objects.append(json.loads(line))
    except ValueError:
        sys.exit(f"not JSON: {line[:200]}")
if len(objects) < 5:
    sys.exit(f"only {len(objects)} JSON lines")
incomplete = [o for o in objects if not {"ts", "level", "msg"} <= o.keys()]
if incomplete:
    sys.exit(f"JSON log lines without ts, level and msg: {incomplete[:2]}")
if not any("new configuration refused" in o["msg"] and o["level"] == "error" for o in objects):
    sys.exit("no JSON line for the refused reload")
levels = sorted({o["level"] for o in objects})
print(f"nspawn-test: {len(objects)} JSON log lines (levels {', '.join(levels)}), each with ts, level, msg")
PY
pass "journal: the daemon's JSON log is in the journal"

step "security: systemd-analyze security vipps-webhookd on the running unit"
in_ct systemd-analyze security --no-pager vipps-webhookd.service >"$work/security.txt" 2>&1 || true
exposure="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9]*\)\?\).*/\1/p' "$work/security.txt")"
[[ -n "$exposure" ]] || { cat "$work/security.txt" >&2; fail "security: no exposure line"; }
if ! awk -v e="$exposure" 'BEGIN { exit !(e <= 1.5) }'; then
    grep '✗' "$work/security.txt" >&2
    fail "security: exposure $exposure above 1.5"
fi
pass "security: exposure $exposure (limit 1.5)"

step "watchdog: the daemon pings; stopped with SIGSTOP, it is killed and restarted"
# The daemon pings every WatchdogSec/2; systemd records the last ping in WatchdogTimestampMonotonic.
ping_before="$(in_ct systemctl show -P WatchdogTimestampMonotonic vipps-webhookd.service)"
wait_for 30 "watchdog: a WATCHDOG=1 ping from the daemon" watchdog_pinged_since "$ping_before"
pid_before="$(main_pid)"
restarts_before="$(in_ct systemctl show -P NRestarts vipps-webhookd.service)"
watchdog="$(in_ct systemctl show -P WatchdogUSec vipps-webhookd.service)"
in_ct kill -STOP "$pid_before"
wait_for 120 "watchdog: a new MainPID" main_pid_changed_from "$pid_before"
wait_for 30 "watchdog: service active again" service_active
wait_for 15 "watchdog: 'Watchdog timeout' in the journal" journal_has "Watchdog timeout"
restarts_after="$(in_ct systemctl show -P NRestarts vipps-webhookd.service)"
((restarts_after > restarts_before)) || fail "watchdog: NRestarts stayed $restarts_before"
status="$(send_event watchdog-1)"
[[ "$status" == 200 ]] || fail "watchdog: event after the restart answered $status"
pass "watchdog: WatchdogSec=$watchdog, pings seen; pid $pid_before stopped, restarted as $(main_pid)" \
    "(NRestarts $restarts_after)"

step "upgrade: installing the package again restarts the running service"
pid_before="$(main_pid)"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall "/root/$(basename "$deb")" \
    >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; fail "upgrade: apt-get install --reinstall failed"; }
wait_for 30 "upgrade: service active" service_active
[[ "$(main_pid)" != "$pid_before" ]] || fail "upgrade: the service was not restarted"
[[ "$(in_ct systemctl is-enabled vipps-webhookd.socket)" == enabled ]] \
    || fail "upgrade: the socket is no longer enabled"
cmp -s "$work/config.good.yaml" "$root/etc/vipps-webhookd/config.yaml" || fail "upgrade: config.yaml changed"
status="$(send_event upgrade-1)"
[[ "$status" == 200 ]] || fail "upgrade: event after the upgrade answered $status"
pass "upgrade: restarted ($pid_before -> $(main_pid)), still enabled, config.yaml untouched, events accepted"

step "purge: apt-get purge"
# As README.Debian has the operator enable the site: a link to the packaged one (besides the test's own copy).
ln -s ../sites-available/vipps-webhookd "$root/etc/nginx/sites-enabled/vipps-webhookd-linked"
in_ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vipps-webhookd >"$work/apt.log" 2>&1 \
    || { cat "$work/apt.log" >&2; fail "purge: apt-get purge failed"; }
[[ -z "$(find "$root/etc/systemd/system" -name 'vipps-webhookd.*' -type l)" ]] \
    || fail "purge: enablement links left: $(find "$root/etc/systemd/system" -name 'vipps-webhookd.*' -type l)"
[[ ! -L "$root/etc/nginx/sites-enabled/vipps-webhookd-linked" ]] || fail "purge: a link to the purged nginx site left"
in_ct nginx -t >"$work/nginx-t.log" 2>&1 || { cat "$work/nginx-t.log" >&2; fail "purge: nginx -t fails"; }
in_ct pgrep -x vipps-webhookd >/dev/null && fail "purge: the daemon still runs"
[[ ! -e "$root/usr/bin/vipps-webhookd" && ! -e "$root/lib/systemd/system/vipps-webhookd.service" ]] \
    || fail "purge: package files left"
[[ ! -e "$root/var/lib/vipps-webhookd" ]] || fail "purge: /var/lib/vipps-webhookd left"
[[ -s "$root$sink_file" ]] || fail "purge: the event file was deleted"
[[ ! -e "$root/etc/vipps-webhookd/config.example.yaml" ]] || fail "purge: conffile left"
[[ -f "$root/etc/vipps-webhookd/config.yaml" && -f "$root/etc/vipps-webhookd/credentials/epayment.secret" ]] \
    || fail "purge: the operator's config.yaml or secret was deleted"
pass "purge: daemon stopped, package files, enablement and the nginx link gone; event files, config.yaml and secret kept"

log "all steps passed"
