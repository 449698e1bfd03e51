#!/usr/bin/env bash
# clang-tidy over the product sources (src/), using the compile database of a build directory.
# Exits non-zero when clang-tidy reports a warning, so CI keeps the code clean.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build}"
files=$(git ls-files 'src/*.cpp')
out=$(mktemp)
echo "==> clang-tidy on $(echo "$files" | wc -l) files"
echo "$files" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build_dir" --quiet >"$out" 2>/dev/null || true
if grep -E "(warning|error):" "$out" >/dev/null; then
  grep -E -A3 "(warning|error):" "$out" | head -n 80
  echo "clang-tidy: $(grep -cE '(warning|error):' "$out") findings"
  exit 1
fi
echo "==> clang-tidy clean"
