# syntax=docker/dockerfile:1
# The media server (and its other roles: api-server, stage, publish) as a container image.
#
#   docker build -t ivs-media-server .
#   docker run --rm --env-file .env -p 3001:3001/tcp -p 50000:50000/udp \
#     -e RTC_ANNOUNCED_IP=<public IP> ivs-media-server
#
# Two stages on Debian 12, the distribution the project is developed and tested on:
#   build    installs the same build packages as scripts/setup.sh and builds the one binary with
#            CMake (Release, no tests, no benchmarks; the web pages are embedded at build time);
#   runtime  only the shared libraries the binary links against, curl for the health check, and
#            a non-root user. ffmpeg (~300 MB with its dependencies) is only needed by the
#            `publish` role to generate test media, so it is opt-in: --build-arg WITH_FFMPEG=true.
# See docs/deployment.md (ports, RTC_ANNOUNCED_IP, graceful stop) and docs/troubleshooting.md.

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ ninja-build pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libssl-dev libsrtp2-dev libspdlog-dev libfmt-dev liburing-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY web/ web/
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DIVS_BUILD_TESTS=OFF -DIVS_BUILD_BENCH=OFF \
 && cmake --build build --target media-server \
 && strip build/media-server \
 && build/media-server --version

FROM debian:12-slim AS runtime
ARG WITH_FFMPEG=false
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates curl \
      libboost-json1.81.0 libboost-url1.81.0 \
      libssl3 libsrtp2-1 liburing2 libnss3 libnspr4 libspdlog1.10 libfmt9 \
 && if [ "$WITH_FFMPEG" = true ]; then \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg; \
    fi \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ivs \
 && useradd --system --uid 10001 --gid ivs --home-dir /var/lib/ivs-media-server \
      --create-home --shell /usr/sbin/nologin ivs
COPY --from=build /src/build/media-server /usr/local/bin/media-server
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# The process reads ./.env if present (the environment wins); mount one here, or pass
# --env-file. XDG_CACHE_HOME is where the publish role caches generated test media.
WORKDIR /var/lib/ivs-media-server
ENV PORT=3001 \
    RTC_UDP_PORT=50000 \
    XDG_CACHE_HOME=/var/lib/ivs-media-server/.cache
USER 10001:10001

# 3001/tcp: HTTP (WHIP, WHEP, health, metrics, dashboard). 50000/udp: WebRTC media of the
# ingest and WHEP viewers (RTC_UDP_PORT). Egress to the stages uses ephemeral UDP ports
# outbound only, so nothing else needs publishing.
EXPOSE 3001/tcp 50000/udp

# The process handles SIGTERM: it stops accepting, DELETEs every stage session and sends a last
# heartbeat within SHUTDOWN_TIMEOUT (10 s). Give `docker stop` more than that: --stop-timeout 15.
STOPSIGNAL SIGTERM
# /health/live answers while the event loop does. (The api-server role has only /health: override
# the health check with --health-cmd when running that role.)
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${PORT:-3001}/health/live" || exit 1

ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["serve"]
