#!/usr/bin/env bash
# Checks the systemd units in systemd/ (or in the directory given as $1):
#   1. `systemd-analyze security --offline=true` rates vipps-webhookd.service at MAX_EXPOSURE (default 1.5) or lower;
#   2. `systemd-analyze verify` reports nothing except that /usr/local/bin/vipps-webhookd is not installed here.
# Exit 0 when both hold, 1 otherwise (with the reason on stderr). Needs systemd-analyze (systemd >= 252).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unit_dir="${1:-$repo_root/systemd}"
max_exposure="${MAX_EXPOSURE:-1.5}"
service="$unit_dir/vipps-webhookd.service"
socket="$unit_dir/vipps-webhookd.socket"
binary="/usr/local/bin/vipps-webhookd"

fail() { echo "check-systemd: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (install systemd)"
[[ -f "$service" ]] || fail "$service not found"

# 1. Security exposure. The tool exits 0 whatever the score, so parse the summary line:
#    "→ Overall exposure level for vipps-webhookd.service: 1.1 OK 🙂"
security_output="$(systemd-analyze security --offline=true --no-pager "$service" 2>&1)" \
    || fail "systemd-analyze security failed:"$'\n'"$security_output"
exposure="$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\(\.[0-9]*\)\?\).*/\1/p' <<<"$security_output")"
[[ -n "$exposure" ]] || fail "no 'Overall exposure level' line in systemd-analyze security output:"$'\n'"$security_output"
if awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
    grep '✗' <<<"$security_output" >&2 || true
    fail "exposure level $exposure is above $max_exposure"
fi
echo "check-systemd: security exposure $exposure (limit $max_exposure)"

# 2. Unit syntax and semantics. The only tolerated complaint is the daemon binary missing on this machine.
units=("$service")
[[ -f "$socket" ]] && units+=("$socket")
verify_output="$(systemd-analyze verify --no-pager "${units[@]}" 2>&1)" && verify_status=0 || verify_status=$?
unexpected="$(grep -v -F "Command $binary is not executable: No such file or directory" <<<"$verify_output" \
    | grep -v '^[[:space:]]*$' || true)"
if [[ -n "$unexpected" ]]; then
    fail "systemd-analyze verify reported (exit $verify_status):"$'\n'"$unexpected"
fi
if [[ "$verify_status" -ne 0 && -x "$binary" ]]; then
    fail "systemd-analyze verify failed (exit $verify_status) although $binary exists:"$'\n'"$verify_output"
fi
echo "check-systemd: verify OK (${units[*]##*/})"
