# syntax=docker/dockerfile:1
#
# vipps-webhookd container image.
#
#   docker build -t vipps-webhookd .
#   docker run -d --name vipps-webhookd -p 127.0.0.1:8080:8080 --stop-timeout 30 \
#       -v /srv/vipps-webhookd/etc:/etc/vipps-webhookd:ro \
#       -v vipps-webhookd-state:/var/lib/vipps-webhookd \
#       -v vipps-webhookd-log:/var/log/vipps-webhookd \
#       vipps-webhookd
#
# The mounted /etc/vipps-webhookd/config.yaml must listen on all interfaces inside the container
# (`listen: "0.0.0.0:8080"`) and point secret_file at files in the mounted directory (readable by uid 10001).
# Stop timeout: the daemon drains for server.shutdown_grace_seconds (20 s) after SIGTERM; Docker's default of 10 s
# would SIGKILL it first, hence --stop-timeout 30 (compose: stop_grace_period: 30s).
# PID 1 is tini: it reaps orphaned grandchildren of merchant hooks and forwards signals to the daemon.
# The example configuration is at /etc/vipps-webhookd/config.example.yaml (hidden by the mounted directory).
#
# Untested: the development machines have no container engine and no registry access, so this file has never been
# built there. What it runs is tested: scripts/package-deb.sh and the package under systemd-nspawn.

# ---- build ----------------------------------------------------------------------------------------------------------
# The image holds the same static binary as the Debian package: scripts/package-deb.sh builds both.
FROM swift:6.3-bookworm AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev dpkg-dev binutils \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts ./scripts
COPY systemd ./systemd
COPY config ./config

# Static Swift runtime: the binary needs only glibc, libstdc++/libgcc_s and libssl3 at run time (the script checks).
RUN --mount=type=cache,target=/src/.build \
    mkdir -p /out && cp "$(scripts/package-deb.sh | tail -n 1)" /out/

# ---- runtime --------------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# The user first, with a fixed uid for mounted volumes: the package's postinst keeps an existing user and creates
# /var/lib/vipps-webhookd and /var/log/vipps-webhookd owned by it (it starts nothing: no systemd here).
RUN groupadd --system --gid 10001 vipps-webhookd \
    && useradd --system --uid 10001 --gid vipps-webhookd --no-create-home \
        --home-dir /var/lib/vipps-webhookd --shell /usr/sbin/nologin vipps-webhookd

# The package pulls in its Depends (libssl3, libstdc++6, ...); ca-certificates: the management API client and hooks
# calling HTTPS; curl: HEALTHCHECK; tini: PID 1.
COPY --from=build /out/*.deb /tmp/
RUN apt-get update \
    && apt-get install -y --no-install-recommends /tmp/vipps-webhookd_*.deb ca-certificates curl tini \
    && rm -rf /var/lib/apt/lists/* /tmp/vipps-webhookd_*.deb

# Fail the build, not the first start, when a shared library is missing.
RUN if ldd /usr/bin/vipps-webhookd | grep 'not found'; then exit 1; fi \
    && vipps-webhookd --version

USER 10001:10001
WORKDIR /var/lib/vipps-webhookd
VOLUME ["/etc/vipps-webhookd", "/var/lib/vipps-webhookd", "/var/log/vipps-webhookd"]
EXPOSE 8080
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8080/healthz || exit 1

ENTRYPOINT ["/usr/bin/tini", "--", "vipps-webhookd"]
CMD ["serve", "--config", "/etc/vipps-webhookd/config.yaml"]
