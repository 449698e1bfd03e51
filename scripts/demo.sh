#!/usr/bin/env bash
# The main job on an embedded default, from a fresh clone: installs what is missing, builds,
# then starts on this machine
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
# address shown in URLs and put in ICE candidates; 127.0.0.1), DEMO_LOG_DIR, WHIP_INGEST_TOKEN
# (generated when unset), IVS_SKIP_SETUP=1 (skip apt-get/npm, for CI), IVS_BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."

publisher=1
for argument in "$@"; do
  case "$argument" in
    --no-publisher) publisher=0 ;;
    -h | --help)
      sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown option: $argument (try --help)" >&2
      exit 2
      ;;
  esac
done

build_dir="${IVS_BUILD_DIR:-build}"
binary="$build_dir/media-server"
host="${DEMO_HOST:-127.0.0.1}"
api_port="${DEMO_API_PORT:-3000}"
media_port="${DEMO_MEDIA_PORT:-3001}"
stage_port="${DEMO_STAGE_PORT:-3002}"
rtc_port="${DEMO_RTC_UDP_PORT:-50000}"
stage_rtc_port="${DEMO_STAGE_RTC_UDP_PORT:-50002}"
api_key="${API_SECRET_KEY:-demo-api-key}"
media_secret="${MEDIA_SERVER_SECRET:-demo-media-secret}"
log_dir="${DEMO_LOG_DIR:-$build_dir/demo-logs}"
ingest_token="${WHIP_INGEST_TOKEN:-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

if [ "${IVS_SKIP_SETUP:-0}" != 1 ]; then
  echo "==> [1/3] installing dependencies (scripts/setup.sh build)"
  scripts/setup.sh build
else
  echo "==> [1/3] skipping dependency installation (IVS_SKIP_SETUP=1)"
fi
echo "==> [2/3] building into $build_dir (scripts/build.sh)"
mkdir -p "$build_dir"
IVS_BUILD_DIR="$build_dir" scripts/build.sh >"$build_dir/demo-build.log" 2>&1 || {
  tail -n 40 "$build_dir/demo-build.log" >&2
  echo "build failed; full log: $build_dir/demo-build.log" >&2
  exit 1
}
mkdir -p "$log_dir"

pids=()
names=()
# shellcheck disable=SC2317  # invoked through the EXIT trap
stop_all() {
  trap - EXIT INT TERM
  echo
  echo "==> stopping (publisher, media server, stage, API server)"
  # Reverse start order: the publisher ends its WHIP session, the media server DELETEs its
  # stage sessions and sends a last heartbeat while the stage and API server still listen.
  local index
  for ((index = ${#pids[@]} - 1; index >= 0; index--)); do
    kill -TERM "${pids[$index]}" 2>/dev/null || true
    wait "${pids[$index]}" 2>/dev/null || true
  done
  echo "==> stopped"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

start() {  # name, then the command; stdout+stderr go to $log_dir/<name>.log
  local name="$1"
  shift
  "$@" >"$log_dir/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

wait_ready() {  # url, name
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$2 did not become ready at $1; its log:" >&2
  tail -n 30 "$log_dir/$2.log" >&2 || true
  exit 1
}

echo "==> [3/3] starting the system (logs in $log_dir/)"
start api-server env PORT="$api_port" API_SECRET_KEY="$api_key" \
  MEDIA_SERVER_SECRET="$media_secret" API_INITIAL_STAGES="${DEMO_STAGES:-3}" \
  STAGE_WHIP_URL_BASE="http://$host:$stage_port/whip" "$binary" api-server
wait_ready "http://127.0.0.1:$api_port/api/keys" api-server

start stage env STAGE_PORT="$stage_port" STAGE_RTC_UDP_PORT="$stage_rtc_port" \
  STAGE_BIND_IP=127.0.0.1 STAGE_ANNOUNCED_IP="$host" \
  STAGE_API_SERVER_URL="http://127.0.0.1:$api_port" "$binary" stage
wait_ready "http://127.0.0.1:$stage_port/health" stage

start media-server env PORT="$media_port" API_SERVER_URL="http://127.0.0.1:$api_port" \
  API_SECRET_KEY="$api_key" MEDIA_SERVER_SECRET="$media_secret" HEARTBEAT_INTERVAL=5000 \
  WHIP_INGEST_TOKEN="$ingest_token" RTC_UDP_PORT="$rtc_port" RTC_BIND_IP=127.0.0.1 \
  RTC_ANNOUNCED_IP="$host" SERVER_IP="$host" "$binary" serve
wait_ready "http://127.0.0.1:$media_port/health/ready" media-server

if [ "$publisher" = 1 ]; then
  echo "==> starting the test publisher (the first run generates test media with ffmpeg)"
  start publisher "$binary" publish --url "http://127.0.0.1:$media_port/whip" \
    --token "$ingest_token"
fi

cat <<INFO

  Dashboard        http://$host:$media_port/            (publisher, every stage, create/delete)
  Publish page     http://$host:$media_port/publish     (camera or test pattern, token below)
  Stages           http://$host:$stage_port/            (every stage's video over WHEP)
  Status JSON      http://$host:$media_port/api/status
  API server       http://$host:$api_port               (x-api-key: $api_key)
  Logs             $log_dir/

  OBS (30 or newer): Settings -> Stream
      Service        WHIP
      Server         http://$host:$media_port/whip
      Bearer Token   $ingest_token
    Settings -> Output (Advanced): x264, Profile baseline, Keyframe Interval 1 s,
    bitrate <= 6000 Kbps, no B-frames (x264 options: bframes=0); Video: <= 1280x720.
INFO
if [ "$publisher" = 1 ]; then
  echo "  The test publisher is streaming now; stop it (it is in the list below) to use OBS."
fi
cat <<INFO

  Create a stage:  curl -X POST -H 'x-api-key: $api_key' -H 'content-type: application/json' \\
                     -d '{"name":"stage-4"}' http://127.0.0.1:$api_port/api/stages
  It shows video on the stages page within a second.

  Running: ${names[*]}. Press Ctrl-C to stop.
INFO
wait -n "${pids[@]}" || true
echo "==> a process ended on its own; see $log_dir/" >&2
exit 1
