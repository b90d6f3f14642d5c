#!/usr/bin/env bash
# Sets up a fresh machine: a Docker daemon that answers, npm packages, and a build of kiln.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-docker.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run -s build
