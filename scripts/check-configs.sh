#!/usr/bin/env bash
# Checks the shipped configuration files for real:
#   1. config/nginx/vipps-webhookd.conf passes `nginx -t` (inside a throw-away nginx.conf, with a self-signed
#      certificate in place of the Let's Encrypt one and log paths moved to a temp directory);
#   2. config/logrotate/vipps-webhookd rotates a sample file as intended (renamed, not copied or truncated, no new
#      file created, not compressed on the first rotation) when run by logrotate against a temp directory;
#   3. config/config.example.yaml passes `vipps-webhookd check-config` (VIPPS_WEBHOOKD, default .build/debug), with
#      its credential paths pointed at throw-away secrets.
# Exit 0 when all pass, 1 otherwise. Needs nginx, openssl, logrotate and a built vipps-webhookd.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config_dir="$repo_root/config"
nginx_bin="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
logrotate_bin="${LOGROTATE:-$(command -v logrotate || echo /usr/sbin/logrotate)}"

fail() { echo "check-configs: $*" >&2; exit 1; }

[[ -x "$nginx_bin" ]] || fail "nginx not found (apt-get install nginx-light, or set NGINX=)"
[[ -x "$logrotate_bin" ]] || fail "logrotate not found (apt-get install logrotate, or set LOGROTATE=)"
command -v openssl >/dev/null || fail "openssl not found"

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
# Checked by the daemon's own loader as an operator would (`--credentials-directory`, the directory the unit's
# LoadCredential= lines read), with throw-away secrets for every credential the example names.
daemon_bin="${VIPPS_WEBHOOKD:-$repo_root/.build/debug/vipps-webhookd}"
[[ -x "$daemon_bin" ]] || fail "$daemon_bin not found (swift build, or set VIPPS_WEBHOOKD=)"
secrets_dir="$work/credentials"
mkdir -p "$secrets_dir"
names="$(grep -oE 'credential: *"[A-Za-z0-9._-]+"' "$config_dir/config.example.yaml" | sed -E 's/.*"(.*)"/\1/' | sort -u)"
[[ -n "$names" ]] || fail "config/config.example.yaml names no credential; update scripts/check-configs.sh"
for name in $names; do
    printf 'example-secret\n' >"$secrets_dir/$name"
    chmod 600 "$secrets_dir/$name"
done
env -u CREDENTIALS_DIRECTORY "$daemon_bin" check-config --config "$config_dir/config.example.yaml" \
    --credentials-directory "$secrets_dir" \
    || fail "vipps-webhookd check-config rejected config/config.example.yaml"
echo "check-configs: config.example.yaml OK"
