#!/usr/bin/env bash
# The README's test command: set up (daemon, packages, build), then unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx vitest run "$@"
