#!/usr/bin/env bash
# Makes sure a Docker daemon answers. If none does: installs Debian's docker.io (after apt-get update)
# and starts `dockerd --bridge=none --iptables=false` in the background, then waits until it answers.
# These machines have no bridge network: never start a daemon with one.
set -euo pipefail

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if answers; then
  echo "ensure-docker: daemon answers ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi
if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix:///var/run/docker.sock}" = "$DOCKER_HOST" ]; then
  echo "ensure-docker: DOCKER_HOST=$DOCKER_HOST does not answer; start that daemon or unset DOCKER_HOST" >&2
  exit 1
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: installing Debian's docker.io"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io >/dev/null
fi

log=/var/log/kiln-dockerd.log
echo "ensure-docker: starting dockerd --bridge=none --iptables=false (log: $log)"
$SUDO sh -c "nohup dockerd --bridge=none --iptables=false >$log 2>&1 &"

for _ in $(seq 1 60); do
  if answers; then
    echo "ensure-docker: daemon answers ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 60 s; see $log" >&2
tail -20 "$log" >&2 || true
exit 1
