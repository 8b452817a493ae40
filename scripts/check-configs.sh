#!/usr/bin/env bash
# Checks the shipped configuration files for real:
#   1. config/nginx/vipps-webhookd.conf passes `nginx -t` (inside a throw-away nginx.conf, with a self-signed
#      certificate in place of the Let's Encrypt one and log paths moved to a temp directory);
#   2. config/logrotate/vipps-webhookd rotates a sample file as intended (renamed, not copied or truncated, no new
#      file created, not compressed on the first rotation) when run by logrotate against a temp directory;
#   3. config/config.example.yaml parses and uses only the documented keys (sinks named in routes exist, one secret
#      source per endpoint). With VIPPS_WEBHOOKD=/path/to/vipps-webhookd also `check-config` on it.
# Exit 0 when all pass, 1 otherwise. Needs nginx, openssl, logrotate and python3 with PyYAML.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config_dir="$repo_root/config"
nginx_bin="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
logrotate_bin="${LOGROTATE:-$(command -v logrotate || echo /usr/sbin/logrotate)}"

fail() { echo "check-configs: $*" >&2; exit 1; }

[[ -x "$nginx_bin" ]] || fail "nginx not found (apt-get install nginx-light, or set NGINX=)"
[[ -x "$logrotate_bin" ]] || fail "logrotate not found (apt-get install logrotate, or set LOGROTATE=)"
command -v openssl >/dev/null || fail "openssl not found"
python3 -c 'import yaml' 2>/dev/null || fail "python3 with PyYAML not found (apt-get install python3-yaml)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. nginx ----------------------------------------------------------------------------------------------------------
mkdir -p "$work/nginx/cert" "$work/nginx/log" "$work/nginx/www" "$work/nginx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=hooks.example.com" \
    -keyout "$work/nginx/cert/privkey.pem" -out "$work/nginx/cert/fullchain.pem" 2>"$work/nginx/openssl.log" \
    || fail "openssl could not make a test certificate: $(cat "$work/nginx/openssl.log")"
sed -e "s#/etc/letsencrypt/live/hooks.example.com#$work/nginx/cert#g" \
    -e "s#/var/log/nginx#$work/nginx/log#g" \
    -e "s#/var/www/letsencrypt#$work/nginx/www#g" \
    "$config_dir/nginx/vipps-webhookd.conf" >"$work/nginx/site.conf"
if grep -q -e '/etc/letsencrypt' -e '/var/log/' "$work/nginx/site.conf"; then
    fail "nginx site uses paths this check does not redirect; update scripts/check-configs.sh"
fi
cat >"$work/nginx/nginx.conf" <<CONF
pid $work/nginx/nginx.pid;
error_log $work/nginx/log/error.log;
events {}
http {
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    access_log off;
    include $work/nginx/site.conf;
}
CONF
if ! nginx_output="$("$nginx_bin" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>&1)"; then
    fail "nginx -t rejected config/nginx/vipps-webhookd.conf:"$'\n'"$nginx_output"
fi
[[ -z "$nginx_output" ]] || fail "nginx -t warned about config/nginx/vipps-webhookd.conf:"$'\n'"$nginx_output"
echo "check-configs: nginx site OK ($("$nginx_bin" -v 2>&1))"

# 2. logrotate -------------------------------------------------------------------------------------------------------
mkdir -p "$work/logrotate/log"
chmod 0750 "$work/logrotate/log"
sed -e "s#/var/log/vipps-webhookd#$work/logrotate/log#g" "$config_dir/logrotate/vipps-webhookd" \
    >"$work/logrotate/vipps-webhookd"
chmod 0644 "$work/logrotate/vipps-webhookd"
echo '{"id":"1"}' >"$work/logrotate/log/payments.jsonl"
: >"$work/logrotate/log/empty.jsonl"
# postrotate only reloads an active vipps-webhookd.service, which does not exist here.
if ! logrotate_output="$("$logrotate_bin" --force --state "$work/logrotate/state" \
    "$work/logrotate/vipps-webhookd" 2>&1)"; then
    fail "logrotate failed on config/logrotate/vipps-webhookd:"$'\n'"$logrotate_output"
fi
rotated=("$work"/logrotate/log/payments.jsonl-*)
[[ ${#rotated[@]} -eq 1 && -f "${rotated[0]}" ]] || fail "logrotate did not rename payments.jsonl"
[[ "${rotated[0]}" != *.gz ]] || fail "logrotate compressed the newest rotation (delaycompress missing)"
[[ "$(cat "${rotated[0]}")" == '{"id":"1"}' ]] || fail "rotated file lost its content"
[[ ! -e "$work/logrotate/log/payments.jsonl" ]] || fail "logrotate created or kept payments.jsonl (expected nocreate)"
[[ -e "$work/logrotate/log/empty.jsonl" ]] || fail "logrotate rotated an empty file (expected notifempty)"
echo "check-configs: logrotate OK"

# 3. config.example.yaml ---------------------------------------------------------------------------------------------
python3 - "$config_dir/config.example.yaml" <<'PY' || fail "config/config.example.yaml does not match the documented keys"
import sys, yaml

path = sys.argv[1]
config = yaml.safe_load(open(path, encoding="utf-8"))
problems = []

def keys(where, value, allowed, required=()):
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a mapping")
        return {}
    for key in value:
        if key not in allowed:
            problems.append(f"{where}.{key}: unknown key" if where else f"{key}: unknown key")
    for key in required:
        if key not in value:
            problems.append(f"{where}.{key}: missing" if where else f"{key}: missing")
    return value

top = keys("", config, {"listen", "public_url", "state_dir", "clock_skew_seconds", "max_body_bytes", "endpoints",
                        "sinks", "server", "log"}, ("listen", "endpoints", "sinks"))
keys("server", top.get("server", {}), {"header_timeout_seconds", "body_timeout_seconds", "idle_timeout_seconds",
                                       "max_header_bytes", "max_connections", "max_requests_per_connection",
                                       "shutdown_grace_seconds"})
log = keys("log", top.get("log", {}), {"format", "level"})
if log.get("format", "auto") not in ("auto", "json", "text"):
    problems.append("log.format: must be auto, json or text")

sinks = top.get("sinks", {})
for name, sink in sinks.items():
    sink = keys(f"sinks.{name}", sink, {"file", "exec", "timeout_seconds", "max_attempts", "concurrency"})
    if ("file" in sink) == ("exec" in sink):
        problems.append(f"sinks.{name}: needs exactly one of file, exec")
    if "exec" in sink and not (isinstance(sink["exec"], list) and sink["exec"] and sink["exec"][0].startswith("/")):
        problems.append(f"sinks.{name}.exec: must be a non-empty argv with an absolute program path")

for i, endpoint in enumerate(top.get("endpoints", [])):
    where = f"endpoints[{i}]"
    endpoint = keys(where, endpoint, {"path", "public_url", "secret_file", "secret_env", "secrets", "routes"},
                    ("path", "routes"))
    if sum(k in endpoint for k in ("secret_file", "secret_env", "secrets")) != 1:
        problems.append(f"{where}: needs exactly one of secret_file, secret_env, secrets")
    for j, route in enumerate(endpoint.get("routes", [])):
        route = keys(f"{where}.routes[{j}]", route, {"events", "where", "sinks"}, ("events", "sinks"))
        for sink in route.get("sinks", []):
            if sink not in sinks:
                problems.append(f"{where}.routes[{j}].sinks: no sink named {sink!r}")

for problem in problems:
    print(f"{path}: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
if [[ -n "${VIPPS_WEBHOOKD:-}" ]]; then
    "$VIPPS_WEBHOOKD" check-config --config "$config_dir/config.example.yaml" \
        || fail "vipps-webhookd check-config rejected config/config.example.yaml"
fi
echo "check-configs: config.example.yaml OK"
