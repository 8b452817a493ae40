#!/usr/bin/env bash
# Checks that a built vipps-webhookd binary carries no swift-corelibs-foundation, the mark of `import Foundation`
# anywhere in the program (a module or a dependency), which adds CoreFoundation and ICU (about 24 MB of text, 6 MB of
# idle memory); FoundationEssentials alone does not. A static build (--static-swift-stdlib, the release package) holds
# CoreFoundation's start-up, __CFInitialize, once anything calls into full Foundation (a static link takes only what
# is used); a dynamic one (swift build) names libFoundation.so as a needed library as soon as a module imports it.
# Usage: scripts/check-no-foundation.sh BINARY   (exit 0: clean; 1: Foundation linked in; 2: usage or tool error)
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 BINARY" >&2
    exit 2
fi
binary="$1"
if [[ ! -f "$binary" ]]; then
    echo "check-no-foundation: $binary: no such file" >&2
    exit 2
fi
if ! command -v nm >/dev/null || ! command -v readelf >/dev/null; then
    echo "check-no-foundation: nm or readelf not found (install binutils)" >&2
    exit 2
fi

# The symbol table, or the dynamic one of a binary stripped of it; no symbols at all cannot pass.
symbols="$(nm "$binary" 2>/dev/null || true)"
[[ -n "$symbols" ]] || symbols="$(nm -D "$binary" 2>/dev/null || true)"
if [[ -z "$symbols" ]]; then
    echo "check-no-foundation: nm finds no symbols in $binary (stripped?); check an unstripped build" >&2
    exit 2
fi
needed="$(readelf -d "$binary" 2>/dev/null | grep -oE 'lib(Foundation|FoundationNetworking|FoundationXML)\.so' || true)"
if grep -qw "__CFInitialize" <<<"$symbols" || [[ -n "$needed" ]]; then
    found="${needed:-__CFInitialize}"
    echo "check-no-foundation: FAIL: $binary links full Foundation (${found//$'\n'/, } found)." >&2
    echo "  Some module or dependency imports Foundation (or FoundationNetworking/FoundationXML) and uses an API" >&2
    echo "  only they have (FileHandle, String(format:), NSString...); import FoundationEssentials instead." >&2
    echo "  Sources: grep -rn 'import Foundation\$' Sources; dependencies: check their imports too." >&2
    exit 1
fi
echo "check-no-foundation: ok: $binary has no CoreFoundation (no __CFInitialize, no libFoundation.so)"
