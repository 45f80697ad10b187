#!/bin/sh
# docker-compose's one-shot `grafana-token` service: creates a read-only InfluxDB token for Grafana
# with the admin token, and hands it over in a volume only Grafana mounts. InfluxDB generates token
# values itself, so this cannot be a variable the operator sets. Idempotent: a token that still
# works is kept. The influx CLI reads INFLUX_HOST, INFLUX_TOKEN and INFLUX_ORG from the environment.
set -eu
file=/token/grafana
if [ -s "$file" ] && INFLUX_TOKEN="$(cat "$file")" influx bucket list >/dev/null 2>&1; then
  echo "grafana's read-only token still works"
  exit 0
fi
influx auth create --read-buckets --description "grafana (read-only)" --json |
  sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' >"$file.new"
test -s "$file.new"
mv "$file.new" "$file"
echo "created grafana's read-only token"
