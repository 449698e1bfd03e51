#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 into build-fuzz/ and runs each for N seconds
# (default 15) over its committed corpus in fuzz/corpus/<target>/. A crash fails the run and
# leaves the reproducer in build-fuzz/crashes/. The targets are built at -O1 -g1 (libFuzzer's
# advice for short runs, and far quicker to compile than -O2 -g); IVS_FUZZ_FLAGS="-O2 -g" for
# a long campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
if ! ls fuzz/*_fuzz.cpp >/dev/null 2>&1; then
  echo "no fuzz targets yet"
  exit 0
fi
cmake -S . -B build-fuzz -G Ninja -DIVS_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="${IVS_FUZZ_FLAGS:--O1 -g1}" \
  -DIVS_BUILD_TESTS=OFF -DIVS_BUILD_BENCH=OFF >/dev/null
echo "==> building the fuzz targets (build-fuzz, clang-14)"
cmake --build build-fuzz -j "${IVS_JOBS:-$(nproc)}" --target fuzzers
mkdir -p build-fuzz/crashes
for source in fuzz/*_fuzz.cpp; do
  name=$(basename "$source" .cpp)
  corpus="fuzz/corpus/$name"
  mkdir -p "$corpus"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "==> $name for ${seconds}s"
  "build-fuzz/fuzz/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=0 \
    -artifact_prefix=build-fuzz/crashes/ "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
