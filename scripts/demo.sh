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
# Environment: DEMO_API_PORT (3000), DEMO_MEDIA_PORT (3001), DEMO_STAGE_PORT (3002),
# DEMO_RTC_UDP_PORT (50000), DEMO_STAGE_RTC_UDP_PORT (50002), DEMO_STAGES (3), DEMO_HOST (the
# address shown in URLs and put in ICE candidates; 127.0.0.1), DEMO_LOG_DIR (build/demo-logs),
# WHIP_INGEST_TOKEN (generated when unset), IVS_SKIP_SETUP=1 (skip apt-get, for CI),
# IVS_BUILD_DIR (build), IVS_JOBS (compile jobs; the core count). Every other argument goes to
# `media-server demo` (build/media-server demo --help lists its flags).
set -euo pipefail
cd "$(dirname "$0")/.."

setup_mode=demo
for argument in "$@"; do
  case "$argument" in
    # Without the test publisher, ffmpeg (its media generator, the largest download) is not needed.
    --no-publisher) setup_mode=binary ;;
    -h | --help)
      sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
  esac
done

build_dir="${IVS_BUILD_DIR:-build}"
jobs="${IVS_JOBS:-$(nproc)}"
log="$build_dir/demo-build.log"

if [ "${IVS_SKIP_SETUP:-0}" != 1 ]; then
  echo "==> [1/3] installing what the demo needs (scripts/setup.sh $setup_mode)"
  scripts/setup.sh "$setup_mode"
else
  echo "==> [1/3] skipping dependency installation (IVS_SKIP_SETUP=1)"
fi

# Shows ninja's [done/total] counter: rewritten in place on a terminal, every 10 % otherwise
# (a CI log or a pipe). Everything, warnings included, is in the log file.
show_progress() {
  local line finished total percent shown=-10 started=$SECONDS
  while IFS= read -r line; do
    [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]] || continue
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

mkdir -p "$build_dir"
: >"$log"
if [ ! -f "$build_dir/build.ninja" ]; then
  # A new build directory gets neither the unit tests nor the benchmarks, so configuring needs
  # no GoogleTest or Google Benchmark; scripts/test.sh switches them on in the same directory.
  echo "==> [2/3] configuring $build_dir (cmake; the demo needs no tests or benchmarks)"
  cmake -S . -B "$build_dir" -G Ninja -DIVS_BUILD_TESTS=OFF -DIVS_BUILD_BENCH=OFF \
    >>"$log" 2>&1 || build_failed
fi
echo "==> [2/3] building the media-server target in $build_dir (-j$jobs; full log: $log)"
cmake --build "$build_dir" -j "$jobs" --target media-server 2>&1 | tee -a "$log" | show_progress \
  || build_failed

echo "==> [3/3] $build_dir/media-server demo"
export DEMO_LOG_DIR="${DEMO_LOG_DIR:-$build_dir/demo-logs}"
exec "$build_dir/media-server" demo "$@"
