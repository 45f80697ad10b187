#!/usr/bin/env bash
# `npm test`: set up, then every suite (unit, integration against the real Kafka + InfluxDB that
# the integration suite's global set-up starts with `machi stack up` when they are not running).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# The suites run the demo registry and default secrets, which production mode (the default) refuses.
export MACHI_MODE=demo
echo "• running all test suites (the integration suite starts Kafka and InfluxDB if needed)"
exec npx vitest run --reporter=default --reporter=./tests/summary-reporter.ts "$@"
