"""OWSLib against a running renewal-map: queryables typed, items with the site filters and
with a CQL2 filter, each checked against the same condition evaluated here on every site."""

import sys
from urllib.parse import quote

import requests
from owslib.ogcapi.features import Features

base = sys.argv[1].rstrip("/") + "/ogc"
api = Features(base)

queryables = api.collection_queryables("sites")
props = queryables["properties"]
assert props["planned_finish"]["format"] == "date", props["planned_finish"]
assert props["late"]["type"] == "boolean", props["late"]
assert "households" in props and "status" in props

everything = api.collection_items("sites", limit=1000)["features"]
assert everything, "sites exist"

done = api.collection_items("sites", status="completed", kind="pocket_park", limit=1000)["features"]
want = [f["id"] for f in everything
        if f["properties"]["status"] == "completed" and f["properties"]["kind"] == "pocket_park"]
assert [f["id"] for f in done] == want, (len(done), len(want))

cql = "late = true AND planned_finish < DATE('2026-09-01')"
got = api.collection_items("sites", filter=cql, limit=1000)["features"]
want = [f["id"] for f in everything
        if f["properties"]["late"] and f["properties"]["planned_finish"] < "2026-09-01"]
assert [f["id"] for f in got] == want, (len(got), len(want))
assert want, "the filter selects something"

bad = requests.get(f"{base}/collections/sites/items?filter={quote('colour = 1')}", timeout=10)
assert bad.status_code == 400 and "colour" in bad.json()["message"], bad.text

print(f"owslib: queryables, {len(done)} completed parks, {len(got)} late before September: ok")
