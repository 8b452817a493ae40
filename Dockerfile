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

# ---- build ----------------------------------------------------------------------------------------------------------
FROM swift:6.3-bookworm AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Package.* ./
COPY Sources ./Sources
COPY Tests ./Tests

# Static Swift runtime: the binary then needs glibc, libstdc++/libgcc_s, libssl3 and libcurl4 (FoundationNetworking,
# used by the management API client) at run time (ldd).
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --static-swift-stdlib --product vipps-webhookd \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/vipps-webhookd" \
        /out/usr/local/bin/vipps-webhookd

# ---- runtime --------------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim

# libssl3: libcrypto (HMAC-SHA256); libcurl4: FoundationNetworking (management API client); libstdc++6: linked even
# with a static Swift runtime; ca-certificates: the management API client and hooks calling HTTPS; curl: HEALTHCHECK;
# tini: PID 1.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 libcurl4 libstdc++6 ca-certificates curl tini \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 vipps-webhookd \
    && useradd --system --uid 10001 --gid vipps-webhookd --no-create-home \
        --home-dir /var/lib/vipps-webhookd --shell /usr/sbin/nologin vipps-webhookd \
    && install -d -m 0755 /etc/vipps-webhookd /etc/vipps-webhookd/hooks \
    && install -d -m 0750 -o vipps-webhookd -g vipps-webhookd /var/lib/vipps-webhookd /var/log/vipps-webhookd

COPY --from=build /out/usr/local/bin/vipps-webhookd /usr/local/bin/vipps-webhookd
COPY config/config.example.yaml /usr/share/doc/vipps-webhookd/config.example.yaml
# Fail the build, not the first start, when a shared library is missing.
RUN if ldd /usr/local/bin/vipps-webhookd | grep 'not found'; then exit 1; fi \
    && vipps-webhookd --help >/dev/null

USER 10001:10001
WORKDIR /var/lib/vipps-webhookd
VOLUME ["/etc/vipps-webhookd", "/var/lib/vipps-webhookd", "/var/log/vipps-webhookd"]
EXPOSE 8080
STOPSIGNAL SIGTERM

HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:8080/healthz || exit 1

ENTRYPOINT ["/usr/bin/tini", "--", "vipps-webhookd"]
CMD ["serve", "--config", "/etc/vipps-webhookd/config.yaml"]
