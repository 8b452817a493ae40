#!/usr/bin/env python3
"""Compares the webhook-ids answered 200 (loadgen --accepted files) with what reached a sink.

usage: check_sink.py SINK_FILE ACCEPTED_FILE...     (SINK_FILE: file-sink JSON lines, matched by "webhook_id", or
                                                     --plain: one id a line, e.g. what an exec hook appended)
Prints one JSON object: accepted (distinct 200-answered ids), lines (sink lines), missing (accepted ids not in the
sink), duplicated (ids on more than one sink line: a sink wrote/ran an event twice; for JSON lines also a repeated
event "id"), bad_lines (not JSON / no webhook_id).
Exits 1 when anything is missing or duplicated or a line is unreadable.
"""
import collections
import json
import sys


def main():
    args = sys.argv[1:]
    plain = False
    if args and args[0] == "--plain":
        plain, args = True, args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    sink, accepted_files = args[0], args[1:]
    accepted = set()
    for path in accepted_files:
        with open(path) as f:
            accepted.update(line.strip() for line in f if line.strip())
    counts = collections.Counter()
    event_ids = collections.Counter()
    lines = bad = 0
    with open(sink, "rb") as f:
        for raw in f:
            lines += 1
            if plain:
                counts[raw.decode(errors="replace").strip()] += 1
                continue
            try:
                line = json.loads(raw)
                counts[line["webhook_id"]] += 1
                event_ids[line["id"]] += 1
            except (ValueError, KeyError, TypeError):
                bad += 1
    missing = [i for i in accepted if i not in counts]
    duplicated = [i for i, n in counts.items() if n > 1] + [i for i, n in event_ids.items() if n > 1]
    result = {
        "accepted": len(accepted),
        "lines": lines,
        "missing": len(missing),
        "duplicated": len(duplicated),
        "bad_lines": bad,
        "missing_sample": missing[:3],
        "duplicated_sample": duplicated[:3],
    }
    print(json.dumps(result))
    sys.exit(1 if missing or duplicated or bad else 0)


if __name__ == "__main__":
    main()
