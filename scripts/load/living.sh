#!/usr/bin/env bash
# Figures of the living map (issue 7): write latency of creates, geometry moves and status
# changes with WRITERS (default 8) concurrent planners, event fan-out to STREAMS (default 500)
# open streams, and the first and repeated as-of tile. The release binary serves DATA (default
# data/huanggu; e.g. a `generate --scale 100` output for K=100) on a fresh store in a temporary
# directory. Not part of scripts/test.
#
#   scripts/load/living.sh
#   cargo run --release -- generate --seed 2026 --scale 100 --out /tmp/k100 && DATA=/tmp/k100 scripts/load/living.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${DATA:-data/huanggu}"
port="${LIVING_PORT:-18292}"
cargo build --release --quiet

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

bin=target/release/renewal-map
token="$("$bin" token add --role planner --name load --data "$data" --db "$tmp/renewal.sqlite" --init-db)"
"$bin" serve --data "$data" --db "$tmp/renewal.sqlite" --bind "127.0.0.1:$port" \
  >"$tmp/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$base/health" >/dev/null && break; sleep 0.2; done
curl -sf "$base/health" >/dev/null || { echo "living: the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }
# The store was seeded just now; an as-of instant must lie after it.
sleep 1.2
python3 scripts/load/writes.py "$base" "$token" --writers "${WRITERS:-8}" \
  --per-writer "${PER_WRITER:-40}" --streams "${STREAMS:-500}"
echo "peak RSS of the server: $(awk '/^VmHWM/ {printf "%.1f MiB", $2 / 1024}' "/proc/$server_pid/status")"
