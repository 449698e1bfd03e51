#!/usr/bin/env bash
# The long fuzz campaign of issue 13 (outside CI, which keeps 15-s runs: scripts/fuzz.sh): each
# named libFuzzer target runs RUNS inputs (default 10^7) from its committed corpus, then what it
# found that adds coverage is merged back into fuzz/corpus/<target>/ (libFuzzer -merge=1: only
# inputs with new features), to be committed. A crash stops the campaign and leaves the
# reproducer in <build>/crashes/<target>/; fix it and add a regression test before going on.
#
#   scripts/fuzz-campaign.sh [RUNS] [TARGET ...]     # no TARGET: every fuzz/*_fuzz.cpp
#   IVS_FUZZ_BUILD_DIR=build-asan scripts/fuzz-campaign.sh 10000000 stun_fuzz rtp_fuzz
#   IVS_FUZZ_MAX_SECONDS=1800 ...   # stop each target after that long even short of RUNS (the
#                                     # line it prints says how many inputs it ran)
#
# The targets come from IVS_FUZZ_BUILD_DIR (scripts/test.sh's ASan + UBSan tree) or build-fuzz/
# (scripts/fuzz.sh builds it). One target at a time, one process each: the figures it prints
# (executions, seconds, corpus before and after) go into the note of the campaign.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10000000}"
shift || true
build_dir="${IVS_FUZZ_BUILD_DIR:-build-fuzz}"
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(basename -s .cpp fuzz/*_fuzz.cpp)
fi
for name in "${targets[@]}"; do
  binary="$build_dir/fuzz/$name"
  [ -x "$binary" ] || { echo "$binary not built (scripts/fuzz.sh builds the targets)" >&2; exit 1; }
  corpus="fuzz/corpus/$name"
  mkdir -p "$corpus" "$build_dir/crashes/$name"
  work="$(mktemp -d)"
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  before=$(find "$corpus" -type f | wc -l)
  started=$SECONDS
  if ! "$binary" -runs="$runs" -max_total_time="${IVS_FUZZ_MAX_SECONDS:-0}" -print_final_stats=1 \
    -artifact_prefix="$build_dir/crashes/$name/" "$work" >"$build_dir/crashes/$name/campaign.log" 2>&1; then
    tail -n 30 "$build_dir/crashes/$name/campaign.log" >&2
    echo "==> $name: FINDING after $((SECONDS - started)) s; reproducer in $build_dir/crashes/$name/" >&2
    exit 1
  fi
  "$binary" -merge=1 "$corpus" "$work" >/dev/null 2>&1
  rm -rf "$work"
  executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
    "$build_dir/crashes/$name/campaign.log" | grep -o '[0-9]*$')
  echo "==> $name: $executed executions in $((SECONDS - started)) s without a finding;" \
    "corpus $before -> $(find "$corpus" -type f | wc -l) files"
done
