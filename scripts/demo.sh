#!/usr/bin/env bash
# The README's first command: on a fresh machine, set everything up, build the example app with the
# default Debian builder (both extension kinds run), start it, and print what it answers.
#
#   1. scripts/setup.sh           Docker daemon (no bridge network), npm packages, `npm run build`
#   2. kiln stack create debian   only when kiln/debian-build:bookworm or kiln/debian-run:bookworm is missing
#   3. kiln builder create        the default builder from builders/debian/builder.toml
#   4. kiln build                 examples/hello-python -> $KILN_DEMO_IMAGE
#   5. docker run --network none  the app; `docker exec` curl (added by the curl-tool extension) asks it
#   6. the container is removed (the image stays: `docker run --rm --network host kiln-demo/hello-python`)
#
# Knobs (used by test/integration/demo-e2e.test.ts): KILN_DEMO_SKIP_SETUP=1, KILN_DEMO_BUILDER,
# KILN_DEMO_IMAGE, KILN_DEMO_LABEL (k=v on the app container), KILN_LABELS (passed to kiln itself).
set -euo pipefail
cd "$(dirname "$0")/.."

builder="${KILN_DEMO_BUILDER:-kiln/debian-builder:bookworm}"
image="${KILN_DEMO_IMAGE:-kiln-demo/hello-python:latest}"
label="${KILN_DEMO_LABEL:-io.kiln.demo=1}"
kiln() { node bin/kiln.js "$@"; }
say() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
[ -z "${NO_COLOR:-}" ] && [ -t 1 ] || say() { printf '\n### %s\n' "$*"; }

if [ "${KILN_DEMO_SKIP_SETUP:-}" != 1 ]; then
  say "set-up: Docker daemon, npm packages, kiln build"
  bash scripts/setup.sh
fi

if docker image inspect kiln/debian-build:bookworm kiln/debian-run:bookworm >/dev/null 2>&1; then
  say "stack: kiln/debian-build:bookworm and kiln/debian-run:bookworm are there"
else
  say "stack: making the Debian bookworm base images offline (debootstrap, a minute or two)"
  kiln stack create debian
fi

say "builder: kiln builder create $builder"
kiln builder create "$builder" --config builders/debian/builder.toml

say "build: kiln build $image --builder $builder --path examples/hello-python --extension-network host"
kiln build "$image" --builder "$builder" --path examples/hello-python --extension-network host

say "run: docker run -d --network none $image"
cid=$(docker run -d --network none --label "$label" "$image")
trap 'docker rm -f "$cid" >/dev/null 2>&1 || true' EXIT
answer=""
for _ in $(seq 1 50); do
  if answer=$(docker exec "$cid" curl -fsS "http://localhost:8080$(cat examples/hello-python/healthcheck)" 2>/dev/null); then break; fi
  if [ "$(docker inspect -f '{{.State.Running}}' "$cid")" != true ]; then
    echo "the app exited:" >&2; docker logs "$cid" >&2; exit 1
  fi
  sleep 0.2
done
if [ -z "$answer" ]; then echo "the app did not answer on :8080" >&2; docker logs "$cid" >&2; exit 1; fi

say "the running app answers (docker exec <container> curl http://localhost:8080/):"
printf '%s\n' "$answer"
echo
echo "demo done: the container was removed; the image $image stays."
echo "run it yourself: docker run --rm --network host $image   (then: curl http://localhost:8080/)"
