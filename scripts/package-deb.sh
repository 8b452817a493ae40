#!/usr/bin/env bash
# Builds dist/vipps-webhookd_<version>_<arch>.deb: a package that runs on Debian 12 / Ubuntu 24.04 without a Swift
# toolchain. Needs the Swift toolchain, libssl-dev, dpkg-dev (dpkg-shlibdeps) and binutils; no root.
#
#   /usr/bin/vipps-webhookd                      release build with the Swift runtime linked in, stripped
#   /lib/systemd/system/vipps-webhookd.{service,socket}   from systemd/ (ExecStart= pointed at /usr/bin)
#   /etc/vipps-webhookd/config.example.yaml      conffiles: dpkg keeps the operator's edits on upgrade
#   /etc/nginx/sites-available/vipps-webhookd
#   /etc/logrotate.d/vipps-webhookd
#   /etc/vipps-webhookd/hooks/                   (postinst creates /etc/vipps-webhookd/credentials/, mode 0700)
#   /usr/share/man/man1/vipps-webhookd.1.gz      the --help text of every command
#   /usr/share/doc/vipps-webhookd/               copyright, changelog
# The version is BuildInfo.version (Sources/WebhookDaemon/BuildInfo.swift), checked against the binary's --version.
# Depends is computed by dpkg-shlibdeps from the binary; the build fails when the binary needs a shared library
# other than glibc, libstdc++, libgcc_s and libssl3/libcrypto3.
#
# Usage: scripts/package-deb.sh            (prints the path of the .deb on its last line)
# Environment: DEB_MAINTAINER="Name <address>" (the Maintainer field).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

package=vipps-webhookd
maintainer="${DEB_MAINTAINER:-vipps-webhookd maintainers <maintainers@vipps-webhookd.invalid>}"
# Shared libraries the binary may need at run time (extended regular expressions, one a line; also used by
# scripts/systemd-nspawn-test.sh on the installed binary's ldd).
allowed_libraries="$repo_root/scripts/debian/allowed-libraries"

fail() { echo "package-deb: $*" >&2; exit 1; }
log() { echo "package-deb: $*" >&2; }

for tool in swift dpkg-deb dpkg-shlibdeps objdump strip gzip; do
    command -v "$tool" >/dev/null || fail "$tool not found"
done

version="$(sed -n 's/^ *public static let version = "\([^"]*\)".*/\1/p' Sources/WebhookDaemon/BuildInfo.swift)"
[[ "$version" =~ ^[0-9][0-9A-Za-z.+~]*$ ]] \
    || fail "no usable version in Sources/WebhookDaemon/BuildInfo.swift (found '$version')"
arch="$(dpkg --print-architecture)"

# ---- build -----------------------------------------------------------------------------------------------------------
# -z now: the whole GOT read-only after start (full RELRO, as Debian's hardening=+bindnow).
build_flags=(-c release --static-swift-stdlib -Xlinker -z -Xlinker now --product "$package")
log "swift build ${build_flags[*]}"
swift build "${build_flags[@]}" >&2
binary="$(swift build "${build_flags[@]}" --show-bin-path)/$package"
[[ -x "$binary" ]] || fail "$binary was not built"
"$(dirname "${BASH_SOURCE[0]}")/check-no-foundation.sh" "$binary" >&2 || fail "the packaged binary carries full Foundation"
reported="$("$binary" --version)"
[[ "$reported" == "$package $version" ]] || fail "the binary reports '$reported', BuildInfo.swift says $version"

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
root="$staging/root"
doc="$root/usr/share/doc/$package"
install -d -m 0755 "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/$package/hooks" \
    "$root/etc/nginx/sites-available" "$root/etc/logrotate.d" "$root/usr/share/man/man1" "$doc" "$root/DEBIAN"

install -m 0755 "$binary" "$root/usr/bin/$package"
# What dh_strip does: no debug info, symbols only where dynamic linking needs them.
strip --remove-section=.comment --remove-section=.note --strip-unneeded "$root/usr/bin/$package"

needed="$(objdump -p "$root/usr/bin/$package" | awk '$1 == "NEEDED" { print $2 }')"
unexpected="$(grep -v -x -E -f "$allowed_libraries" <<<"$needed" || true)"
[[ -z "$unexpected" ]] \
    || fail "the binary needs libraries beyond glibc, libstdc++, libgcc_s and libssl3:"$'\n'"$unexpected"

# ---- units, configuration examples -----------------------------------------------------------------------------------
# The repository's unit runs /usr/local/bin/vipps-webhookd (installed from source); the package's binary is in /usr/bin.
sed 's#^ExecStart=/usr/local/bin/vipps-webhookd #ExecStart=/usr/bin/vipps-webhookd #' \
    systemd/vipps-webhookd.service >"$root/lib/systemd/system/$package.service"
grep -q '^ExecStart=/usr/bin/vipps-webhookd serve ' "$root/lib/systemd/system/$package.service" \
    || fail "systemd/vipps-webhookd.service: no 'ExecStart=/usr/local/bin/vipps-webhookd serve' line"
chmod 0644 "$root/lib/systemd/system/$package.service"
install -m 0644 systemd/vipps-webhookd.socket "$root/lib/systemd/system/$package.socket"
install -m 0644 config/config.example.yaml "$root/etc/$package/config.example.yaml"
install -m 0644 config/nginx/vipps-webhookd.conf "$root/etc/nginx/sites-available/$package"
install -m 0644 config/logrotate/vipps-webhookd "$root/etc/logrotate.d/$package"

# ---- documentation ---------------------------------------------------------------------------------------------------
# Reproducible: dates and file times come from the last commit (or SOURCE_DATE_EPOCH).
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH="$epoch"

# Man page: the --help text of the command and of every subcommand, verbatim.
subcommands_of() {
    "$binary" "$@" --help | awk '/^SUBCOMMANDS:/ { in_list = 1; next } in_list && /^[^ ]/ { in_list = 0 }
        in_list && /^  [a-z]/ { print $1 }'
}
roff_verbatim() { sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
{
    printf '.TH VIPPS-WEBHOOKD 1 "%s" "%s %s" "User Commands"\n' \
        "$(date -u -d "@$epoch" +%Y-%m-%d)" "$package" "$version"
    printf '.SH NAME\n%s \\- receive, verify, store and deliver Vipps MobilePay webhooks\n' "$package"
    printf '.SH SYNOPSIS\n.B %s\n.I command\n.RI [ options ]\n' "$package"
    printf '.SH DESCRIPTION\nThe text below is the output of \\fB%s \\-\\-help\\fR' "$package"
    printf ' and of each command'"'"'s \\fB\\-\\-help\\fR.\n'
    printf 'The service runs as the \\fBvipps\\-webhookd.service\\fR systemd unit;'
    printf ' see /usr/share/doc/%s/README.Debian.\n' "$package"
    emit() {
        printf '.SS "%s"\n.nf\n' "$package${*:+ $*}"
        "$binary" "$@" --help | roff_verbatim
        printf '.fi\n'
    }
    emit
    for command in $(subcommands_of); do
        emit "$command"
        for sub in $(subcommands_of "$command"); do emit "$command" "$sub"; done
    done
    printf '.SH FILES\n.TP\n/etc/%s/config.yaml\n' "$package"
    printf 'the configuration the unit starts with (example: config.example.yaml next to it)\n'
    printf '.TP\n/var/lib/%s\njournal, deduplication store, dead letters\n' "$package"
    printf '.TP\n/var/log/%s\nfile sinks of the example configuration\n' "$package"
} | gzip -9n >"$root/usr/share/man/man1/$package.1.gz"

{
    printf '%s (%s) stable; urgency=medium\n\n' "$package" "$version"
    printf '  * Release %s. The changes are listed in CHANGELOG.md of the source.\n\n' "$version"
    printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$epoch")"
} | gzip -9n >"$doc/changelog.gz"
[[ -f CHANGELOG.md ]] && gzip -9nc CHANGELOG.md >"$doc/CHANGELOG.md.gz"
install -m 0644 scripts/debian/README.Debian "$doc/README.Debian"
install -m 0644 scripts/debian/copyright "$doc/copyright"

# ---- control files ---------------------------------------------------------------------------------------------------
for script in postinst prerm postrm; do
    install -m 0755 "scripts/debian/$script" "$root/DEBIAN/$script"
done
find "$root/etc" -type f -printf '/etc/%P\n' | sort >"$root/DEBIAN/conffiles"

# Depends: what dpkg-shlibdeps derives from the binary's NEEDED entries and symbol versions, plus adduser (postinst).
mkdir -p "$staging/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$package" "$package" >"$staging/shlibs/debian/control"
shlib_depends="$(cd "$staging/shlibs" && dpkg-shlibdeps -O "$root/usr/bin/$package" 2>/dev/null \
    | sed -n 's/^shlibs:Depends=//p')"
[[ -n "$shlib_depends" ]] || fail "dpkg-shlibdeps computed no dependencies"
depends="adduser, $shlib_depends"

installed_size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: $package
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Recommends: logrotate
Suggests: nginx
Section: net
Priority: optional
Description: Vipps MobilePay webhook receiver
 A daemon that merchants run as the target URL of their Vipps MobilePay
 webhook registrations. It verifies each signed POST (HMAC-SHA256), stores
 it durably (fsync before answering 200), deduplicates it and hands it to
 JSON-lines files or to the merchant's own programs, with retries and dead
 letters.
 .
 The package installs the daemon, a hardened systemd service and socket unit,
 an example configuration, an nginx TLS site and a logrotate snippet. Nothing
 is started until the operator writes /etc/vipps-webhookd/config.yaml and
 enables the service.
EOF

(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
find "$root" -exec touch -h -d "@$epoch" {} +
mkdir -p dist
deb="dist/${package}_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
log "built $deb: $(du -h "$deb" | cut -f1), binary $(du -h "$root/usr/bin/$package" | cut -f1), Depends: $depends"
echo "$deb"
