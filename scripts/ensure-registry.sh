#!/usr/bin/env bash
# Makes sure a plain Docker registry (Debian's docker-registry, distribution 2.x) answers on
# 127.0.0.1:${KILN_REGISTRY_PORT:-5000} for the publish tests. If none does: installs the package
# (after apt-get update) when missing and starts it in the background with a temp storage dir.
# The daemon treats 127.0.0.0/8 registries as insecure by default, so plain HTTP is fine.
set -euo pipefail

port="${KILN_REGISTRY_PORT:-5000}"
addr="127.0.0.1:$port"
answers() { curl -fsS "http://$addr/v2/" >/dev/null 2>&1; }

if answers; then
  echo "ensure-registry: registry answers on $addr"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if ! command -v docker-registry >/dev/null 2>&1; then
  echo "ensure-registry: installing Debian's docker-registry"
  $SUDO apt-get update -qq
  # The package's postinst may try to start a service (no init here): that failure is harmless.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker-registry >/dev/null || command -v docker-registry >/dev/null
fi

dir="$(mktemp -d /tmp/kiln-registry.XXXXXX)"
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
YAML
echo "ensure-registry: starting docker-registry on $addr (storage and log: $dir)"
nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &

for _ in $(seq 1 30); do
  if answers; then
    echo "ensure-registry: registry answers on $addr"
    exit 0
  fi
  sleep 1
done
echo "ensure-registry: docker-registry did not answer within 30 s; see $dir/registry.log" >&2
tail -20 "$dir/registry.log" >&2 || true
exit 1
