#!/usr/bin/env python3
"""callgrind-calls.py: who calls a function, and what it calls, per request, from a callgrind profile.

    bench/callgrind-calls.py callers PROFILE REQUESTS FUNCTION...
    bench/callgrind-calls.py callees PROFILE REQUESTS FUNCTION...

PROFILE is a callgrind output (bench/profile.sh callgrind writes OUT_DIR/cg.out.1), REQUESTS the requests answered
while it was recorded. FUNCTION is a symbol as the profile names it, mangled for Swift (e.g. swift_retain, malloc,
or `$s13WebhookDaemon...`; pipe the output through `swift demangle --simplified` to read it). callers prints how
often each caller called it per request; callees prints each callee's inclusive instructions and calls per request.
"""
import collections
import re
import sys


def read(path):
    """(calls, inclusive) per (caller, callee), and the functions' own instructions."""
    names = {}

    def name(token):
        match = re.match(r"\((\d+)\)(?: (.*))?", token)
        if not match:
            return token
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), token)

    calls, inclusive, own = collections.Counter(), collections.Counter(), collections.Counter()
    function = callee = None
    cost_line_follows = False
    with open(path, errors="replace") as profile:
        for line in profile:
            if cost_line_follows:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    inclusive[(function, callee)] += int(parts[1])
                cost_line_follows = False
            elif line.startswith("fn="):
                function = name(line[3:].strip())
            elif line.startswith("cfn="):
                callee = name(line[4:].strip())
            elif line.startswith("calls="):
                calls[(function, callee)] += int(line[6:].split()[0])
                cost_line_follows = True
            elif line[:1].isdigit() or line[:1] in "+-*":
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    own[function] += int(parts[1])
    return calls, inclusive, own


def main(argv):
    if len(argv) < 5 or argv[1] not in ("callers", "callees"):
        sys.exit(__doc__)
    mode, path, requests, targets = argv[1], argv[2], float(argv[3]), argv[4:]
    calls, inclusive, own = read(path)
    for target in targets:
        if mode == "callers":
            rows = sorted(((count, caller) for (caller, called), count in calls.items() if called == target), reverse=True)
            print(f"== {target}: called {sum(count for count, _ in rows) / requests:.1f} times a request")
            for count, caller in rows[:25]:
                print(f"  {count / requests:8.2f}  {caller[:150]}")
        else:
            rows = sorted(((cost, called) for (caller, called), cost in inclusive.items() if caller == target), reverse=True)
            print(f"== {target}: own {own[target] / requests:.0f} instructions a request")
            for cost, called in rows[:25]:
                print(f"  {cost / requests:9.0f} instr  {calls[(target, called)] / requests:6.2f} calls  {called[:130]}")


if __name__ == "__main__":
    main(sys.argv)
