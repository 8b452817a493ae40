# process-helpers.sh: shell functions shared by bench/peers.sh, bench/floor/floor.sh and bench/profile.sh (sourced).
# Every process is handled by its PID; SERVER_PID is the caller's variable for the target under test.

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }

descendants() { # PID -> PID and every descendant, one per line
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END { for (p in parent) { q = p; n = 0
            while (q != root && (q in parent) && q > 1 && n++ < 64) q = parent[q]
            if (q == root) print p } }'
}

cpu_ticks() { # PIDs... -> utime+stime+cutime+cstime summed (clock ticks)
  local t=0 p v
  for p in "$@"; do
    v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + v))
  done
  echo "$t"
}

stop_server() { # TERM, up to 10 s, then KILL the process in SERVER_PID
  local i
  [[ -z $SERVER_PID ]] && return
  kill -TERM "$SERVER_PID" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

wait_ready() { # URL -> 0 when anything answers HTTP within 15 s
  local i code
  for i in $(seq 1 150); do
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' -X POST "$1" 2>/dev/null)
    [[ $code != 000 && -n $code ]] && return 0
    sleep 0.1
  done
  return 1
}
