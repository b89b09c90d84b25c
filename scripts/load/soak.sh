#!/usr/bin/env bash
# Soak of the release binary: SOAK_SECS (default 120) of mixed reads (tiles at z12-z16, OGC
# items, stats, nearest parks, sites, TileJSON, style, meta) from wrk over SOAK_CONNS (default
# 64) kept-alive connections, while scripts/load/slow_clients.py holds silent, slowloris, idle
# kept-alive and stalled-reader connections open against the same server. Reports the
# server's RSS and open descriptors before, at the end of the load and after it went quiet,
# its peak RSS, wrk's p50/p90/p99 latency and requests/s, responses by status class (5xx
# must be 0), how long the hostile connections lived before the server cut them, and how
# long SIGTERM took. Not part of scripts/test (it takes over two minutes).
#
#   scripts/load/soak.sh            # as root it installs wrk from Debian when missing
#   SOAK_SECS=30 SOAK_CONNS=32 SOAK_PORT=18291 scripts/load/soak.sh
#
# Hostile connection counts: SOAK_SILENT, SOAK_SLOWLORIS, SOAK_IDLE (default 50 each),
# SOAK_STALLED (default 10). The server runs with its default limits on a fresh store in a
# temporary directory; DATA (default data/huanggu) is the data set.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${SOAK_SECS:-120}"
conns="${SOAK_CONNS:-64}"
port="${SOAK_PORT:-18291}"
data="${DATA:-data/huanggu}"

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  else
    echo "soak: wrk is missing (Debian package wrk; run as root to install it)" >&2
    exit 1
  fi
fi
cargo build --release --quiet

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

target/release/renewal-map serve --data "$data" --db "$tmp/renewal.sqlite" --init-db \
  --bind "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$base/health" >/dev/null && break; sleep 0.2; done
curl -sf "$base/health" >/dev/null || { echo "soak: the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1; }

rss() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status"; }
hwm() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$server_pid/status"; }
fds() { ls "/proc/$server_pid/fd" | wc -l; }

# The request mix: every tile of the data's bounds at z12-z14, a sample at z15-z16, and the
# JSON reads, each read path repeated so that about a third of requests are not tiles.
python3 - "$base" >"$tmp/paths" <<'PY'
import json, math, random, sys, urllib.request
base = sys.argv[1]
w, s, e, n = json.load(urllib.request.urlopen(base + "/tiles.json"))["bounds"]
def tile(lon, lat, z):
    k = 2 ** z
    y = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * k
    return int((lon + 180) / 360 * k), int(y)
random.seed(15)
tiles = []
for z in range(12, 17):
    (x0, y0), (x1, y1) = tile(w, n, z), tile(e, s, z)
    zt = [f"/tiles/{z}/{x}/{y}.mvt" for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    tiles += zt if z <= 14 else random.sample(zt, min(len(zt), 150))
cx, cy = (w + e) / 2, (s + n) / 2
reads = [
    "/ogc/collections/sites/items?limit=100",
    "/ogc/collections/parks/items?limit=20",
    f"/ogc/collections/parks/items?bbox={cx - 0.02:.4f},{cy - 0.02:.4f},{cx + 0.02:.4f},{cy + 0.02:.4f}&limit=10",
    "/ogc/collections/sites/items?status=under_construction&limit=50",
    "/ogc/collections/compounds/items/compound-001",
    "/api/stats",
    f"/api/parks/nearest?lon={cx:.4f}&lat={cy:.4f}&limit=3",
    "/api/sites/park-001",
    "/tiles.json",
    "/style.json",
    "/api/meta",
    "/health",
]
paths = tiles + reads * max(1, len(tiles) // (2 * len(reads)))
random.shuffle(paths)
print("\n".join(paths))
PY

echo "soak: $(wc -l <"$tmp/paths") paths, ${secs}s, $conns wrk connections, server pid $server_pid"
rss_start="$(rss)"; fds_start="$(fds)"
python3 scripts/load/slow_clients.py "$port" "$secs" \
  "${SOAK_SILENT:-50}" "${SOAK_SLOWLORIS:-50}" "${SOAK_IDLE:-50}" "${SOAK_STALLED:-10}" \
  >"$tmp/slow.out" 2>&1 &
slow_pid=$!
sleep 1
wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s --latency -s scripts/load/mixed.lua "$base" \
  -- "$tmp/paths" >"$tmp/wrk.out" 2>&1
rss_load="$(rss)"; fds_load="$(fds)"
wait "$slow_pid" || true
sleep 12   # past the header/idle timeout, so every idle connection is gone
rss_quiet="$(rss)"; fds_quiet="$(fds)"; rss_peak="$(hwm)"

t0="$(date +%s.%N)"
kill -TERM "$server_pid"
wait "$server_pid" || true
t1="$(date +%s.%N)"
server_pid=""

echo "--- wrk"
grep -v '^WRK_JSON' "$tmp/wrk.out" | sed -n '1,20p'
echo "--- figures"
grep '^WRK_JSON' "$tmp/wrk.out" | sed 's/^WRK_JSON /load: /'
grep '^SLOW_JSON' "$tmp/slow.out" | sed 's/^SLOW_JSON /hostile connections: /' || cat "$tmp/slow.out"
echo "rss_mib: start $rss_start, end of load $rss_load, quiet $rss_quiet, peak $rss_peak"
echo "open_descriptors: start $fds_start, end of load $fds_load, quiet $fds_quiet"
echo "sigterm_to_exit_s: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')"
echo "server log lines: $(wc -l <"$tmp/server.log"), at ERROR: $(grep -c ERROR "$tmp/server.log" || true)"
