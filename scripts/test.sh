#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. install dependencies (scripts/setup.sh), build build/ (RelWithDebInfo)
#   2. the process and interop tests (real binaries, in a private network namespace)
#   3. the unit tests (GoogleTest) under AddressSanitizer + UndefinedBehaviorSanitizer
#      (build-asan/, clang-14), and the tests that run threads (media workers) under
#      ThreadSanitizer (build-tsan/)
#   4. each libFuzzer target for a short run (built in build-asan/ with the unit tests)
#   5. clang-format and clang-tidy checks
# Set IVS_QUICK=1 to run only steps 1-2 while developing (then the unit tests are built in build/
# and run there, unsanitized). At the end (also after a failure) it
# prints how long each stage took, so it is plain where the time goes.
set -euo pipefail
cd "$(dirname "$0")/.."
export IVS_JOBS="${IVS_JOBS:-2}"

stage_names=()
stage_seconds=()
current_stage=""
current_start=0
end_stage() {
  if [ -n "$current_stage" ]; then
    stage_names+=("$current_stage")
    stage_seconds+=($((SECONDS - current_start)))
    current_stage=""
  fi
}
stage() {
  end_stage
  current_stage="$*"
  current_start=$SECONDS
  echo
  echo "==> [${SECONDS}s] $*"
}
# shellcheck disable=SC2317  # invoked through the EXIT trap
summary() {
  local status=$? failed="" index
  [ -z "$current_stage" ] || [ $status = 0 ] || failed="$current_stage"
  end_stage
  echo
  echo "==> time per stage (-j$IVS_JOBS)"
  for index in "${!stage_names[@]}"; do
    printf '  %-36s %4dm %02ds%s\n' "${stage_names[$index]}" $((stage_seconds[index] / 60)) \
      $((stage_seconds[index] % 60)) "$([ "${stage_names[$index]}" = "$failed" ] && echo "  FAILED")"
  done
  printf '  %-36s %4dm %02ds\n' "total" $((SECONDS / 60)) $((SECONDS % 60))
  if [ $status = 0 ]; then echo "==> all checks passed"; else echo "==> failed (exit $status)"; fi
}
trap summary EXIT

stage "setup"
scripts/setup.sh all

if [ "${IVS_QUICK:-0}" = 1 ]; then
  stage "build"
  scripts/build.sh
  stage "tests (ctest)"
  ctest --test-dir build --output-on-failure -j "$IVS_JOBS" --timeout 600
  end_stage
  echo "IVS_QUICK=1: skipping sanitizers, fuzzing and lint"
  exit 0
fi

stage "build"
# The unit tests are compiled once, in the sanitizer tree below (they were a quarter of this
# build); build/ gets what the process and interop tests run (target test-binaries).
IVS_TARGETS=test-binaries scripts/build.sh

stage "tests (ctest)"
# (-E: ctest stands an unbuilt unit test executable in as "<name>_NOT_BUILT", without labels.)
# IVS_NO_SKIPS=1: setup installed every tool, so a skipped process or interop test is a failure
# here (tests/process/skip_guard.py says why).
IVS_NO_SKIPS=1 ctest --test-dir build --output-on-failure -j "$IVS_JOBS" --timeout 600 -LE unit \
  -E '_NOT_BUILT$'
# The unit tests that measure memory, which skip themselves under ASan (tests/CMakeLists.txt).
build/tests/io_udp_port_send_test --gtest_brief=1

stage "ASan + UBSan build (unit tests, fuzz targets)"
# One clang-14 tree for both sanitizer jobs: the unit tests run under ASan + UBSan and the fuzz
# targets link libFuzzer, so the code is compiled under ASan once instead of twice (the
# separate fuzz build was the slowest stage of CI). Unoptimised with line tables (-g1: reports
# keep file:line; full debug info cost a quarter of this build's time).
# A tree configured by an older version of this script used GCC; the compiler cannot change in place.
if [ -f build-asan/CMakeCache.txt ] && ! grep -q 'CMAKE_CXX_COMPILER:.*clang++-14' build-asan/CMakeCache.txt; then
  rm -rf build-asan
fi
IVS_BUILD_DIR=build-asan IVS_TARGETS="unit-tests fuzzers" scripts/build.sh \
  -DCMAKE_CXX_COMPILER=clang++-14 -DIVS_SANITIZE=ON -DIVS_FUZZ=ON -DIVS_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1

stage "unit tests under ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$IVS_JOBS" -L unit

stage "media workers under ThreadSanitizer"
# Only what the threaded tests need: the server and the unit tests that start media workers. The
# product libraries compile in unity batches here, as scripts/demo.sh compiles them: this keeps
# that build compiling (two files' same-named internal helpers collide only there).
IVS_BUILD_DIR=build-tsan \
  IVS_TARGETS="media-server app_media_workers_test app_media_workers_viewer_test
    app_relay_channel_test app_forward_delay_test app_whip_egress_close_test" \
  scripts/build.sh -DIVS_TSAN=ON -DIVS_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug -DIVS_UNITY_BUILD=ON
# Two workers whatever the machine's core count, so the serve processes really run threads.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" MEDIA_WORKERS=2
ctest --test-dir build-tsan --output-on-failure -j "$IVS_JOBS" \
  -R '^(MediaWorkers|RelayChannel|ForwardDelay)[A-Za-z]*\.|^WhipEgressTest\.SignallingRuns|^process_test_(relay_e2e|control_plane)$'
unset TSAN_OPTIONS MEDIA_WORKERS

stage "fuzz targets (short runs)"
IVS_FUZZ_BUILD_DIR=build-asan scripts/fuzz.sh "${IVS_FUZZ_SECONDS:-15}"

stage "format and lint"
cmake --build build --target format-check
scripts/lint.sh build
