#!/usr/bin/env bash
# The main job on an embedded default, from a fresh clone: installs what is missing, builds,
# then starts the reference API server (with three stages) and the media server on this
# machine, prints where to look, and stops everything cleanly on Ctrl-C.
#
#   scripts/demo.sh            # everything on loopback
#   DEMO_API_PORT=3000 DEMO_MEDIA_PORT=3001 scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

api_port="${DEMO_API_PORT:-3000}"
media_port="${DEMO_MEDIA_PORT:-3001}"
api_key="${API_SECRET_KEY:-demo-api-key}"
media_secret="${MEDIA_SERVER_SECRET:-demo-media-secret}"
log_dir="${DEMO_LOG_DIR:-build/demo-logs}"

echo "==> [1/3] installing dependencies (scripts/setup.sh build)"
scripts/setup.sh build
echo "==> [2/3] building (scripts/build.sh)"
scripts/build.sh >/dev/null
mkdir -p "$log_dir"

pids=()
stop_all() {
  echo
  echo "==> stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "==> stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

wait_ready() {  # url, name
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not become ready at $1; see $log_dir" >&2
  exit 1
}

echo "==> [3/3] starting the system"
PORT="$api_port" API_SECRET_KEY="$api_key" MEDIA_SERVER_SECRET="$media_secret" \
  API_INITIAL_STAGES="${DEMO_STAGES:-3}" \
  build/media-server api-server >"$log_dir/api-server.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$api_port/api/keys" "api-server"

PORT="$media_port" API_SERVER_URL="http://127.0.0.1:$api_port" API_SECRET_KEY="$api_key" \
  MEDIA_SERVER_SECRET="$media_secret" HEARTBEAT_INTERVAL=5000 \
  build/media-server serve >"$log_dir/media-server.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$media_port/health/ready" "media-server"

cat <<INFO

  API server     http://127.0.0.1:$api_port   (x-api-key: $api_key)
  media server   http://127.0.0.1:$media_port/health   http://127.0.0.1:$media_port/api/status
  logs           $log_dir/

  Create a stage:  curl -X POST -H 'x-api-key: $api_key' -H 'content-type: application/json' \\
                     -d '{"name":"stage-4"}' http://127.0.0.1:$api_port/api/stages
  It appears in /api/status within a second.

  Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}"
