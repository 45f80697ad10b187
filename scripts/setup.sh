#!/usr/bin/env bash
# Set-up before a run: Node check, npm ci when needed, then the system packages the run needs.
#   setup.sh --demo   what `npm run demo` needs: Java (runs Kafka), Maven and Go (fetch Kafka's jars
#                     and build InfluxDB the first time; `machi stack up` says so if it needs them)
#   setup.sh --test   (default) the demo's, plus what the test suites use
# Packages are installed with apt-get as root, with sudo when there is one; otherwise it prints the
# one command to run. Idempotent and quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:---test}

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

# What to check, why, and the Debian package that brings it: "check|package|why".
needs=(
  "java|default-jre-headless|Java 17+ runs Kafka"
  "mvn|maven|Maven fetches Kafka's jars on the first run"
  "go|golang|Go builds InfluxDB on the first run"
)
if [ "$purpose" = --test ]; then
  needs+=(
    "mosquitto_pub|mosquitto-clients|a foreign MQTT client for the broker tests"
    "chromium|chromium|the browser tests of the signage, office and visitor pages"
    "cjk-font|fonts-noto-cjk|Japanese, Chinese and Korean text in those pages"
    "prometheus|prometheus|checking the dashboards' PromQL"
  )
fi

have() {
  # A CJK font, wherever the system keeps it: fontconfig (which Chromium uses) knows.
  if [ "$1" = cjk-font ]; then fc-list :lang=ja 2>/dev/null | grep -q .; else command -v "$1" >/dev/null 2>&1; fi
}

missing=() reasons=()
for need in "${needs[@]}"; do
  IFS='|' read -r check package why <<<"$need"
  have "$check" || { missing+=("$package"); reasons+=("  $package: $why"); }
done
[ "${#missing[@]}" -eq 0 ] && exit 0

# Root installs; anyone else through sudo (without a terminal sudo must not wait for a password).
as_root=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then
  if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
fi
if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || [ "${#as_root[@]}" -gt 0 ]; }; then
  echo "• installing Debian packages: ${missing[*]}"
  if "${as_root[@]}" apt-get update -qq &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    exit 0
  fi
fi

printf '%s\n' "machi ${purpose#--} needs:" "${reasons[@]}" "install with (Debian, Ubuntu): sudo apt-get install ${missing[*]}" >&2
if [ "$purpose" = --test ]; then exit 1; fi
# The demo goes on: Maven and Go are only needed without a cache, and Kafka may run elsewhere;
# `machi stack up` stops with the same advice if it does need one of them.
echo "• going on without them" >&2
