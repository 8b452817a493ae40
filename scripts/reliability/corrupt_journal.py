#!/usr/bin/env python3
"""Damages journal records for the journal-corruption check of scripts/reliability.sh (the daemon must be stopped).

usage: corrupt_journal.py JOURNAL_DIR COUNT

Walks the frames of every segment-*.log (u32 payload length, u32 CRC-32, payload; padding frames are a delivered
mark (kind 2) of sequence 0, then zeros; a zero length ends a segment), picks COUNT event records (payload kind 1)
spread evenly over all segments, and flips one byte inside each one's JSON body, so its CRC no longer matches. The webhook-id of each damaged event is
read from its body (loadgen.py puts it in "reference": "rel-<id>").

Prints one JSON object: segments, events (records found), damaged (list of webhook-ids), places (segment:offset).
"""
import json
import os
import re
import struct
import sys


def frames(data):
    """(offset, payload) of every frame up to the first zero length."""
    offset = 0
    while offset + 8 <= len(data):
        length, _crc = struct.unpack_from("<II", data, offset)
        if length == 0 or offset + 8 + length > len(data):
            return
        yield offset, data[offset + 8 : offset + 8 + length]
        offset += 8 + length


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    directory, count = sys.argv[1], int(sys.argv[2])
    names = sorted(n for n in os.listdir(directory) if n.startswith("segment-") and n.endswith(".log"))
    events = []  # (path, frame offset, payload)
    for name in names:
        path = os.path.join(directory, name)
        with open(path, "rb") as f:
            data = f.read()
        events += [(path, offset, payload) for offset, payload in frames(data) if payload[:1] == b"\x01"]
    if len(events) < count:
        sys.exit(f"only {len(events)} event records found")
    chosen = [events[(2 * i + 1) * len(events) // (2 * count)] for i in range(count)]
    damaged, places = [], []
    for path, offset, payload in chosen:
        match = re.search(rb'"reference":"rel-([0-9a-f-]{36})"', payload)
        if not match:
            sys.exit(f"no loadgen reference in the record at {path}:{offset}")
        flip = offset + 8 + match.start(1) + 10  # inside the id of the body's reference
        with open(path, "r+b") as f:
            f.seek(flip)
            byte = f.read(1)[0]
            f.seek(flip)
            f.write(bytes([byte ^ 0x01]))
        damaged.append(match.group(1).decode())
        places.append(f"{os.path.basename(path)}:{offset}")
    print(json.dumps({"segments": len(names), "events": len(events), "damaged": damaged, "places": places}))


if __name__ == "__main__":
    main()
