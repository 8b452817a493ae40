#!/bin/sh
# Exec-sink hook for the sink-outage check of scripts/reliability.sh.
# usage: hook.sh FLAG_FILE OK_FILE FAIL_FILE
# Fails (exit 1, appending the load generator's id to FAIL_FILE) while FLAG_FILE exists; otherwise appends it to
# OK_FILE and exits 0. loadgen.py sends reference "rel-<its id>", which the daemon passes as $VIPPS_REFERENCE (the
# event's own id, $VIPPS_EVENT_ID, is derived from the body and unknown to the load generator); stdin is ignored.
if [ -e "$1" ]; then
    printf '%s\n' "${VIPPS_REFERENCE#rel-}" >>"$3"
    exit 1
fi
printf '%s\n' "${VIPPS_REFERENCE#rel-}" >>"$2"
