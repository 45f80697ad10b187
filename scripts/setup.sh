#!/usr/bin/env bash
# Shared set-up for `npm test` and `npm run demo`: Node check, npm ci when needed, system packages.
# Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "machi needs Node.js 20.6 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "• installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi

# Debian packages the tests use: foreign witnesses (mosquitto_pub/sub), and chromium with CJK
# fonts for the browser tests of the signage and office pages, Prometheus for the dashboards' PromQL.
apt_packages=(mosquitto-clients chromium fonts-noto-cjk prometheus)
commands=(mosquitto_pub chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc prometheus)
missing=()
for i in "${!apt_packages[@]}"; do
  command -v "${commands[$i]}" >/dev/null 2>&1 || [ -e "${commands[$i]}" ] || missing+=("${apt_packages[$i]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "• installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "machi's tests need: ${missing[*]} (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
