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
# schemathesis 3 ignores path-level `servers`, so the OGC paths (server $base/ogc) and the
# service's own paths (server $base) are two runs over one document; the regexes match the
# full path (server path + path), and schemathesis 3 ORs include filters of different kinds, so
# the second run names what it leaves out (the OGC paths). /api/events is left out:
# it is an endless stream (tests/living.rs drives it).
own='tiles/\{z\}|tiles\.json|health$|metrics$|style\.json$'
st() {
  "$venv/bin/schemathesis" run "$base/ogc/api" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    -M GET \
    --hypothesis-max-examples 25 --request-timeout 10000 --hypothesis-derandomize "$@" 2>&1 | tail -8
}
echo "== schemathesis: OGC API paths"
st --exclude-path-regex "^/ogc/($own|api/)"
echo "== schemathesis: the service's own paths"
st --base-url "$base" --exclude-path-regex '^/($|conformance$|api$|collections|tileMatrixSets|tiles$|tiles/WebMercatorQuad|api/events$)'

# ogctests (PyPI), the OGC API – Features black-box verifier, Core scope; a failure fails the
# run. Deselected, with reason: core/test_crs.py::test_ast2 demands Part 2's CRS conformance
# class for /ats/core/crs84, which Part 1 does not require; the service serves CRS84 only and
# does not claim Part 2. Not run: its features/filtering scope, which in 0.1.15 cannot pass
# against any server: its Link-header parser keeps the quotes around `rel` values and stores
# targets under `iri` while the tests compare unquoted and read `href` (Part 3 is checked by
# OWSLib above and by tests/ogc_filters.rs).
ovenv="$(pwd)/target/ogctests-venv"
if [ -x "$ovenv/bin/python" ]; then
  suite=$("$ovenv/bin/python" -c 'import ogctests, os; print(os.path.dirname(ogctests.__file__))')
  echo "== ogctests features/core"
  (cd "$(mktemp -d)" && INSTANCE_URL="$base/ogc" "$ovenv/bin/python" -m pytest -q -p no:cacheprovider \
    --rootdir "$suite" --deselect features/core/test_crs.py::test_ast2 "$suite/features/core" 2>&1 | tail -5)
fi
