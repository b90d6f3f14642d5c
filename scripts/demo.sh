#!/usr/bin/env bash
# The README's first command: set up everything and run kiln's main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/kiln.js --help
