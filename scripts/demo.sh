#!/usr/bin/env bash
# `npm run demo`: set up, then start the stack and the whole pipeline (Ctrl-C stops everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --demo
# The demo registry and default secrets: production mode (the default) refuses them.
export MACHI_MODE=demo
exec node bin/machi.js demo "$@"
