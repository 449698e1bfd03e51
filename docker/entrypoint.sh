#!/bin/sh
# Container entrypoint: runs `media-server <role> [args]` as PID 1 (exec, so SIGTERM from
# `docker stop` or Kubernetes reaches the process and its graceful shutdown runs).
#
#   (no arguments)            media-server serve
#   serve|api-server|stage|publish|demo [args]   that role
#   --help|--version|--print-config              passed to media-server
#   anything else             run as a command (e.g. `sh` to look around the image)
#
# One convenience for cloud hosts behind 1:1 NAT (EC2): with ANNOUNCED_IP_SOURCE=ec2 and
# RTC_ANNOUNCED_IP unset, the public IPv4 address is read from the instance metadata service
# (IMDSv2) and exported as RTC_ANNOUNCED_IP, so ICE candidates carry the address publishers can
# reach. If the lookup fails the container stops with a message rather than announcing a private
# address that no publisher can reach. (In Kubernetes this needs hostNetwork: true, or an IMDS
# hop limit of 2, for the pod to reach the metadata service.)
set -eu

metadata_url="${IVS_METADATA_URL:-http://169.254.169.254}"

discover_ec2_public_ip() {
  token=$(curl -fsS --max-time 2 -X PUT "$metadata_url/latest/api/token" \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 60") || return 1
  curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $token" \
    "$metadata_url/latest/meta-data/public-ipv4" || return 1
}

case "${ANNOUNCED_IP_SOURCE:-}" in
  "" | none) ;;
  ec2)
    if [ -z "${RTC_ANNOUNCED_IP:-}" ]; then
      if ! address=$(discover_ec2_public_ip) || [ -z "$address" ]; then
        echo "entrypoint: ANNOUNCED_IP_SOURCE=ec2 but the instance metadata service gave no" \
          "public IPv4 address; set RTC_ANNOUNCED_IP instead" >&2
        exit 1
      fi
      RTC_ANNOUNCED_IP="$address"
      export RTC_ANNOUNCED_IP
      echo "entrypoint: RTC_ANNOUNCED_IP=$RTC_ANNOUNCED_IP (from the EC2 instance metadata)" >&2
    fi
    ;;
  *)
    echo "entrypoint: ANNOUNCED_IP_SOURCE=\"$ANNOUNCED_IP_SOURCE\" is not valid; expected ec2 or none" >&2
    exit 2
    ;;
esac

if [ $# -eq 0 ]; then
  set -- serve
fi
case "$1" in
  serve | api-server | stage | publish | demo | -*) exec media-server "$@" ;;
  *) exec "$@" ;;
esac
