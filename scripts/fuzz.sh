#!/usr/bin/env bash
# Runs each libFuzzer target for N seconds (default 15) over its committed corpus in
# fuzz/corpus/<target>/, IVS_JOBS targets at a time (default: the core count). A crash fails the
# run and leaves the reproducer in <build>/crashes/.
#
# The targets come from IVS_FUZZ_BUILD_DIR when it is set: scripts/test.sh builds them in its
# sanitizer tree (clang-14, -DIVS_SANITIZE=ON -DIVS_FUZZ=ON), together with the unit tests, so
# CI compiles the code under ASan once instead of twice. Otherwise they are built here into
# build-fuzz/ with clang-14 at -O1 -g1 (libFuzzer's advice for short runs, and far quicker to
# compile than -O2 -g); IVS_FUZZ_FLAGS="-O2 -g" for a long campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
jobs="${IVS_JOBS:-$(nproc)}"
if ! ls fuzz/*_fuzz.cpp >/dev/null 2>&1; then
  echo "no fuzz targets yet"
  exit 0
fi
build_dir="${IVS_FUZZ_BUILD_DIR:-build-fuzz}"
if [ -z "${IVS_FUZZ_BUILD_DIR:-}" ]; then
  cmake -S . -B build-fuzz -G Ninja -DIVS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="${IVS_FUZZ_FLAGS:--O1 -g1}" \
    -DIVS_BUILD_TESTS=OFF -DIVS_BUILD_BENCH=OFF >/dev/null
fi
echo "==> building the fuzz targets ($build_dir)"
cmake --build "$build_dir" -j "$jobs" --target fuzzers
crashes="$build_dir/crashes"
mkdir -p "$crashes"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# One target's run, on a scratch copy of its corpus so a short run never rewrites the committed
# one. Its output and exit status are kept for the report below.
run_target() {
  local name=$1 work
  work=$(mktemp -d)
  mkdir -p "fuzz/corpus/$name"
  cp -r "fuzz/corpus/$name"/. "$work"/ 2>/dev/null || true
  local status=0
  "$build_dir/fuzz/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix="$crashes/" "$work" >"$logs/$name.log" 2>&1 || status=$?
  echo "$status" >"$logs/$name.status"
  rm -rf "$work"
}

names=()
for source in fuzz/*_fuzz.cpp; do
  names+=("$(basename "$source" .cpp)")
done
echo "==> ${#names[@]} targets for ${seconds}s each, $jobs at a time"
for name in "${names[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "$name" &
done
wait

failed=()
for name in "${names[@]}"; do
  status=$(cat "$logs/$name.status" 2>/dev/null || echo 1)
  echo "==> $name: $(grep -E '^#[0-9]+' "$logs/$name.log" | tail -n 1 | cut -c1-100)"
  if [ "$status" != 0 ]; then
    tail -n 40 "$logs/$name.log"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (reproducers in $crashes/)"
  exit 1
fi
echo "==> fuzz: every target ran ${seconds}s without a finding"
