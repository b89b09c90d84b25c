#!/usr/bin/env bash
# Real-client checks against the real binary on 127.0.0.1: OWSLib (queryables, filtered
# items), schemathesis (bounded examples over the OGC read routes) and ogctests when it is
# installed. Uses the venv scripts/test makes under target/clients-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/clients-venv
bin=target/debug/renewal-map
log=$(mktemp)
db=$(mktemp -d)/clients.sqlite
"$bin" serve --bind 127.0.0.1:0 --today 2026-11-27 --db "$db" --init-db 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
base=
for _ in $(seq 1 100); do
  base=$(grep -o 'serving on http://[0-9.:]*' "$log" | head -1 | sed 's/serving on //') || true
  [ -n "$base" ] && break
  sleep 0.2
done
[ -n "$base" ] || { echo "server did not start:"; cat "$log"; exit 1; }
echo "== clients against $base"
"$venv/bin/python" tests/clients/owslib_check.py "$base"
"$venv/bin/schemathesis" run "$base/ogc/api" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -M GET \
  --hypothesis-max-examples 25 --request-timeout 10000 --hypothesis-derandomize 2>&1 | tail -25
