#!/usr/bin/env python3
"""Checks that every event answered 200 was settled exactly once for one exec sink: run by its hook (OK_FILE, one id
a line) or moved to its dead letters (STATE_DIR/dead-letters/*.json of that sink), never both, never twice.

usage: check_owed.py SINK OK_FILE STATE_DIR ACCEPTED_FILE...
Prints one JSON object: accepted, ran, dead_letters, sink_removed (dead letters whose last error is sink_removed),
missing, twice (ids run or dead-lettered more than once, or both; accepted or not: an event answered after a reload
may still be owed to the sink when it was routed under the old configuration). Exits 1 when anything is missing or
twice.
"""
import collections
import glob
import json
import os
import sys


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    sink, ok_file, state, accepted_files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    accepted = set()
    for path in accepted_files:
        with open(path) as f:
            accepted.update(line.strip() for line in f if line.strip())
    counts = collections.Counter()
    ran = 0
    if os.path.exists(ok_file):
        with open(ok_file) as f:
            for line in f:
                if line.strip():
                    counts[line.strip()] += 1
                    ran += 1
    letters = removed = 0
    for path in glob.glob(os.path.join(state, "dead-letters", "*.json")):
        with open(path) as f:
            letter = json.load(f)
        if letter.get("sink") != sink:
            continue
        letters += 1
        counts[letter["event"].get("webhook_id", letter["event"]["id"])] += 1
        if letter.get("last_error", {}).get("kind") == "sink_removed":
            removed += 1
    missing = [i for i in accepted if i not in counts]
    twice = [i for i, n in counts.items() if n > 1]
    print(json.dumps({"accepted": len(accepted), "ran": ran, "dead_letters": letters, "sink_removed": removed,
                      "missing": len(missing), "twice": len(twice)}))
    sys.exit(1 if missing or twice else 0)


if __name__ == "__main__":
    main()
