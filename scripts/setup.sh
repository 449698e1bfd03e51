#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on a fresh Debian 12 machine: Debian
# packages with apt-get, then (mode all) the npm packages of the browser tests with `npm ci`.
# Idempotent and quick when everything is already there. Needs root (or sudo) for apt-get.
#
#   scripts/setup.sh [all]   everything scripts/test.sh needs (the default)
#   scripts/setup.sh build   building everything (tests, benchmarks) and running the servers
#   scripts/setup.sh demo    only what scripts/demo.sh needs: the media-server binary + ffmpeg
#   scripts/setup.sh binary  only what building the media-server binary needs
set -euo pipefail
cd "$(dirname "$0")/.."

# Building the media-server binary alone (the Dockerfile's build stage installs the same).
BUILD_PACKAGES=(cmake g++ ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsrtp2-dev libspdlog-dev libfmt-dev liburing-dev)
# Building the unit tests and benchmarks too, with a compiler cache for the rebuilds.
DEV_PACKAGES=(ccache git libgtest-dev libgmock-dev libbenchmark-dev)
# The demo's test publisher generates its media once with ffmpeg.
DEMO_PACKAGES=(ca-certificates ffmpeg)
CHECK_PACKAGES=(clang-14 libclang-rt-14-dev clang-format clang-tidy shellcheck)
RUNTIME_PACKAGES=(ca-certificates iproute2 util-linux ffmpeg curl)
TEST_PACKAGES=(python3 python3-pytest python3-aiortc python3-av python3-aiohttp python3-cryptography python3-yaml
  chromium nodejs npm
  # A GStreamer WHIP publisher (webrtcbin + libnice; x264enc is in plugins-ugly) for the join test.
  simple-whip-client gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
  # The Debian package's test: CPack runs dpkg-shlibdeps (dpkg-dev) and file(1) to find Depends.
  dpkg-dev file python3-botocore
  # The fault matrix's packet loss (nftables numgen drops inside the test's network namespace).
  nftables
  # The multi-node test's DNS server, standing in for a Kubernetes headless Service (the -base
  # package is the binary alone: no system service is started).
  dnsmasq-base)
# The fan-out benchmark: Janus is its anchor (bench/janus_anchor.py), gnuplot draws its plot.
# (Not python3-matplotlib: it pulls libboost1.74-dev, which conflicts with Boost 1.81.)
BENCH_PACKAGES=(janus gnuplot-nox)

want=("${BUILD_PACKAGES[@]}")
case "${1:-all}" in
  binary) ;;
  demo) want+=("${DEMO_PACKAGES[@]}") ;;
  build) want+=("${DEV_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}") ;;
  all) want+=("${DEV_PACKAGES[@]}" "${RUNTIME_PACKAGES[@]}" "${CHECK_PACKAGES[@]}"
    "${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
  *) echo "usage: scripts/setup.sh [all|build|demo|binary]" >&2; exit 2 ;;
esac

missing=()
for package in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
# A node/npm that came with the machine (not from Debian) is fine too.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for package in "${missing[@]}"; do
    [[ "$package" == nodejs || "$package" == npm ]] || filtered+=("$package")
  done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/tmp/ivs-apt.log 2>&1 || { tail -n 30 /tmp/ivs-apt.log; exit 1; }
  echo "==> Debian packages installed"
else
  echo "==> Debian packages already installed"
fi

if [ "${1:-all}" = all ] && [ -f tests/interop/package.json ]; then
  if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then
    echo "==> npm ci (tests/interop)"
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
