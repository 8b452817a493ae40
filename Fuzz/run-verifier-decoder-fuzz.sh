#!/bin/sh
# Fuzzes SignatureVerifier.verify, DecodedEvent.decode and JSONParser.parse with libFuzzer + AddressSanitizer for
# SECONDS seconds (default 60). Input layout: see Sources/VerifierDecoderFuzz/VerifierDecoderFuzz.swift.
# Usage: Fuzz/run-verifier-decoder-fuzz.sh [SECONDS]
# New inputs go to Fuzz/corpus-work-verifier/ (gitignored); crashes are written as crash-* in the current directory.
set -eu
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
swift build -c release --package-path "$here" --product VerifierDecoderFuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
mkdir -p "$here/corpus-work-verifier"
exec "$here/.build/release/VerifierDecoderFuzz" "$here/corpus-work-verifier" "$here/corpus/verifier" \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1
