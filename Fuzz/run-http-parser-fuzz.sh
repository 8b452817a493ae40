#!/bin/sh
# Fuzzes HTTPRequestParser and HTTPConnectionStateMachine (Sources/HTTP1) with libFuzzer + AddressSanitizer for SECONDS seconds (default 60).
# Usage: Fuzz/run-http-parser-fuzz.sh [SECONDS]
# New inputs go to Fuzz/corpus-work/ (gitignored); crashes are written as crash-* in the current directory.
set -eu
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
swift build -c release --package-path "$here" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p "$here/corpus-work"
exec "$here/.build/release/HTTPParserFuzz" "$here/corpus-work" "$here/corpus/http" \
    -max_total_time="$seconds" -max_len=2048 -print_final_stats=1
