#!/bin/sh
# Exec-sink hook for the sink-outage check of scripts/reliability.sh.
# usage: hook.sh FLAG_FILE OK_FILE FAIL_FILE
# Fails (exit 1, appending the event id to FAIL_FILE) while FLAG_FILE exists; otherwise appends $VIPPS_EVENT_ID to
# OK_FILE and exits 0. The daemon passes the id in the environment and the event on stdin (ignored here).
if [ -e "$1" ]; then
    printf '%s\n' "$VIPPS_EVENT_ID" >>"$3"
    exit 1
fi
printf '%s\n' "$VIPPS_EVENT_ID" >>"$2"
