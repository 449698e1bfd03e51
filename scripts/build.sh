#!/usr/bin/env bash
# Configures and builds into build/ (or $IVS_BUILD_DIR) with Ninja and ccache.
# Extra arguments are passed to cmake's configure step, e.g. -DIVS_SANITIZE=ON.
# IVS_TARGETS (space-separated) builds only those targets, e.g. for the ThreadSanitizer run.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${IVS_BUILD_DIR:-build}"
jobs="${IVS_JOBS:-$(nproc)}"
if [ ! -f "$build_dir/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
fi
echo "==> building $build_dir (-j$jobs)"
# shellcheck disable=SC2086 # IVS_TARGETS is a list
cmake --build "$build_dir" -j "$jobs" ${IVS_TARGETS:+--target $IVS_TARGETS}
