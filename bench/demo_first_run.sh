#!/usr/bin/env bash
# Times a newcomer's first run (issue 15): a fresh clone of this repository, scripts/demo.sh with
# nothing from ccache, until the dashboard answers and until three stages receive video. Run it
# in a network namespace of its own, as every media test runs here:
#   scripts/netns-run bench/demo_first_run.sh [clone-directory]
# IVS_SKIP_SETUP=1 is set (apt-get is not timed: on a machine with the packages it does nothing).
# The demo uses its default ports (3001 media server, 3002 stage role).
set -euo pipefail
source_repo="$(cd "$(dirname "$0")/.." && pwd)"
clone="${1:-$(mktemp -d)/ivs-media-server}"
rm -rf "$clone"

started=$(date +%s.%N)
elapsed() { echo "$(date +%s.%N) - $started" | bc; }
git clone -q "$source_repo" "$clone"
CCACHE_DISABLE=1 IVS_SKIP_SETUP=1 "$clone/scripts/demo.sh" >"$clone.log" 2>&1 &
demo=$!
trap 'kill -TERM $demo 2>/dev/null; wait $demo 2>/dev/null' EXIT

until curl -fs -o /dev/null http://127.0.0.1:3001/; do
  kill -0 $demo 2>/dev/null || { tail -n 30 "$clone.log" >&2; echo "the demo ended" >&2; exit 1; }
  sleep 0.5
done
echo "dashboard answering after $(elapsed) s"

stages_with_video() {
  curl -fs http://127.0.0.1:3002/api/stages | python3 -c '
import json, sys
stages = json.load(sys.stdin).get("stages", [])
print(sum(1 for s in stages if s.get("live") and s.get("videoPackets", 0) > 0))'
}
until [ "$(stages_with_video 2>/dev/null || echo 0)" -ge 3 ]; do sleep 0.5; done
echo "three stages receiving video after $(elapsed) s (log: $clone.log)"
