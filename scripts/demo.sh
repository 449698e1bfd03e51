#!/usr/bin/env bash
# The main job on an embedded default, from a fresh clone: installs what the demo needs, builds
# the one executable it runs (the media-server target only; the tests are scripts/test.sh's),
# then runs `media-server demo`, which starts on this machine
#   1. the reference API server with three stages,
#   2. the local `stage` role (the stand-in for Amazon IVS Real-Time stages),
#   3. the media server, which registers, learns the stages and publishes to each of them,
#   4. the test publisher (a generated H.264 Baseline + Opus stream over WHIP), unless
#      --no-publisher is given (then publish with OBS or the browser page),
# prints where to look and the OBS settings, and stops everything cleanly on Ctrl-C.
#
#   scripts/demo.sh                  # everything on loopback, test publisher included
#   scripts/demo.sh --no-publisher   # publish yourself (OBS or http://127.0.0.1:3001/publish)
#
# It builds in build/ when that exists (scripts/build.sh's), else in build-demo/, configured for
# a quick first build: no tests, no benchmarks, -O1 without debug information, unity batches.
# Environment: DEMO_API_PORT (3000), DEMO_MEDIA_PORT (3001), DEMO_STAGE_PORT (3002),
# DEMO_RTC_UDP_PORT (50000), DEMO_STAGE_RTC_UDP_PORT (50002), DEMO_STAGES (3), DEMO_HOST (the
# address shown in URLs and put in ICE candidates; 127.0.0.1), DEMO_LOG_DIR (<build>/demo-logs),
# WHIP_INGEST_TOKEN (generated when unset), IVS_SKIP_SETUP=1 (skip apt-get, for CI),
# IVS_BUILD_DIR (the build directory), IVS_JOBS (compile jobs; the core count). Other arguments
# go to `media-server demo` (<build>/media-server demo --help lists its flags).
set -euo pipefail
cd "$(dirname "$0")/.."

publisher=1
for argument in "$@"; do
  case "$argument" in
    --no-publisher) publisher=0 ;;
    -h | --help)
      sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
  esac
done

if [ -n "${IVS_BUILD_DIR:-}" ]; then
  build_dir="$IVS_BUILD_DIR"
elif [ -f build/build.ninja ]; then
  build_dir=build
else
  build_dir=build-demo
fi
jobs="${IVS_JOBS:-$(nproc)}"
log="$build_dir/demo-build.log"
mkdir -p "$build_dir"
: >"$log"

# ffmpeg (the test publisher's media generator) is the largest download, and nothing needs it
# before the build is done: it installs in the background while the compiler runs, when that
# needs no password prompt (root, or sudo with cached credentials).
ffmpeg_setup=""
if [ "${IVS_SKIP_SETUP:-0}" != 1 ]; then
  echo "==> [1/3] installing the compiler and libraries (scripts/setup.sh binary)"
  scripts/setup.sh binary
  if [ "$publisher" = 1 ]; then
    if [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then
      echo "    installing ffmpeg in the background meanwhile (log: $build_dir/demo-setup.log)"
      scripts/setup.sh demo >"$build_dir/demo-setup.log" 2>&1 &
      ffmpeg_setup=$!
    else
      scripts/setup.sh demo
    fi
  fi
else
  echo "==> [1/3] skipping dependency installation (IVS_SKIP_SETUP=1)"
fi

# Shows ninja's [done/total] counter: rewritten in place on a terminal, every 10 % otherwise
# (a CI log or a pipe). Everything, warnings included, is in the log file.
show_progress() {
  local line finished total=0 percent shown started=$SECONDS
  while IFS= read -r line; do
    [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
    # A re-run of cmake counts its own steps first: a new total starts the count afresh.
    [ "${BASH_REMATCH[2]}" = "$total" ] || shown=-10
    finished="${BASH_REMATCH[1]}" total="${BASH_REMATCH[2]}"
    percent=$((finished * 100 / total))
    if [ -t 1 ]; then
      printf '\r    [%d/%d] %3d %%  %d s ' "$finished" "$total" "$percent" $((SECONDS - started))
    elif [ $percent -ge $((shown + 10)) ] || [ "$finished" = "$total" ]; then
      shown=$percent
      printf '    [%d/%d] %3d %%  %d s\n' "$finished" "$total" "$percent" $((SECONDS - started))
    fi
  done
  if [ -t 1 ]; then echo; fi
}

build_failed() {
  tail -n 40 "$log" >&2
  echo "==> the build failed; the full log is $log" >&2
  exit 1
}

if [ ! -f "$build_dir/build.ninja" ]; then
  # Neither tests nor benchmarks, so configuring needs no GoogleTest or Google Benchmark; -O1
  # without -g, which a demo moving a few Mbit/s does not miss; and unity batches of 16 sources
  # (IVS_UNITY_BUILD), because most of a translation unit's time is parsing Boost and spdlog
  # again. Measured on the 2-core development machine, cold, -j2: 16.5 CPU-minutes at
  # RelWithDebInfo (-O2 -g), 11.1 at -O1, 4.7 (2 min 28 s) at -O1 in unity batches. Production
  # builds are Release (Dockerfile, Debian package).
  echo "==> [2/3] configuring $build_dir (cmake: no tests, -O1 without debug information, unity)"
  cmake -S . -B "$build_dir" -G Ninja -DIVS_BUILD_TESTS=OFF -DIVS_BUILD_BENCH=OFF \
    -DIVS_UNITY_BUILD=ON -DCMAKE_BUILD_TYPE=Demo "-DCMAKE_CXX_FLAGS_DEMO=-O1 -DNDEBUG" \
    >>"$log" 2>&1 || build_failed
fi
echo "==> [2/3] building the media-server target in $build_dir (-j$jobs; full log: $log)"
cmake --build "$build_dir" -j "$jobs" --target media-server 2>&1 | tee -a "$log" | show_progress \
  || build_failed

if [ -n "$ffmpeg_setup" ] && ! wait "$ffmpeg_setup"; then
  tail -n 20 "$build_dir/demo-setup.log" >&2
  echo "==> installing ffmpeg failed (log above: $build_dir/demo-setup.log); fix it, or run" >&2
  echo "    scripts/demo.sh --no-publisher and publish with OBS or the browser page" >&2
  exit 1
fi

echo "==> [3/3] $build_dir/media-server demo"
export DEMO_LOG_DIR="${DEMO_LOG_DIR:-$build_dir/demo-logs}"
exec "$build_dir/media-server" demo "$@"
