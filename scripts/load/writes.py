#!/usr/bin/env python3
"""Write latency, event fan-out and as-of tile cost of a running renewal-map (issue 7's figures).

    scripts/load/writes.py BASE_URL PLANNER_TOKEN [--writers 8] [--per-writer 40] [--streams 500]

Phases, each reported as p50/p99 in milliseconds from the client's side (request sent to
answer read, on a kept-alive connection per writer):
  create  every writer POSTs `per-writer` pocket parks (a copy of an existing park's polygon,
          shifted ~30 m) to /ogc/collections/parks/items;
  move    every writer PUTs each of its parks to a new place (the geometry moves ~30 m);
  status  every writer PATCHes /api/sites/{id} (progress and note) on each of its parks.
Then `--streams` event streams are opened (GET /api/events over HTTP/1.0) and 20 writes are
made one by one; for each, the delay from the write's 200 to the event's arrival on every
stream is recorded (delivery p50/p99 over all streams and writes, and how many arrived).
Last, a tile over the moved parks is asked with `as_of` (an instant between the creates and
the moves) twice: the first asks for a replay of the history, the repeat is cached.
Standard library only. Prints one JSON object.
"""
import argparse
import http.client
import json
import selectors
import socket
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
import math


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(math.ceil(p / 100 * len(s))) - 1)], 2)


def summary(ms):
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99), "mean_ms": round(statistics.mean(ms), 2) if ms else None}


class Client:
    def __init__(self, base, token):
        u = urllib.parse.urlparse(base)
        self.host, self.port = u.hostname, u.port or 80
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        h = {"authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        t0 = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                payload = r.read()
                break
            except (http.client.HTTPException, OSError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                t0 = time.perf_counter()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), payload, (time.perf_counter() - t0) * 1000


def shifted(geometry, dx, dy):
    def walk(c):
        if isinstance(c[0], (int, float)):
            return [round(c[0] + dx, 7), round(c[1] + dy, 7)]
        return [walk(x) for x in c]
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def template_parks(base, n):
    """`n` existing open or planned park polygons to copy from."""
    url = f"{base}/ogc/collections/parks/items?limit={min(n, 1000)}"
    feats = json.load(urllib.request.urlopen(url))["features"]
    if not feats:
        sys.exit("writes.py: the data set has no parks to copy")
    return [f["geometry"] for f in feats]


def writer(base, token, w, templates, per, out):
    c = Client(base, token)
    lat_m = 1 / 111_320
    mine, times = [], {"create": [], "move": [], "status": []}
    for i in range(per):
        g = shifted(templates[(w * per + i) % len(templates)], 30 * lat_m * 1.34, 30 * lat_m)
        body = {"type": "Feature", "geometry": g,
                "properties": {"name": f"负载测试 {w}-{i}", "kind": "pocket_park", "status": "planned"}}
        s, h, p, ms = c.request("POST", "/ogc/collections/parks/items", body, {"content-type": "application/geo+json"})
        if s != 201:
            out["errors"].append(f"create {s} {p[:200]!r}")
            continue
        times["create"].append(ms)
        mine.append((json.loads(p)["id"], body, h["etag"]))
    out["created_by"][w] = (time.time(), len(mine))
    out["barrier"].wait()
    moved = []
    for fid, body, etag in mine:
        body = dict(body, geometry=shifted(body["geometry"], -60 * lat_m * 1.34, 0))
        s, h, p, ms = c.request("PUT", f"/ogc/collections/parks/items/{fid}", body,
                                {"content-type": "application/geo+json", "if-match": etag})
        if s != 200:
            out["errors"].append(f"move {s} {p[:200]!r}")
            continue
        times["move"].append(ms)
        moved.append((fid, body))
    for k, (fid, body) in enumerate(moved):
        s, h, p, ms = c.request("GET", f"/api/sites/{fid}")
        etag = h.get("etag")
        s, h, p, ms = c.request("PATCH", f"/api/sites/{fid}", {"progress": 10 + k % 80, "note": f"load {w}-{k}"},
                                {"content-type": "application/json", "if-match": etag})
        if s != 200:
            out["errors"].append(f"status {s} {p[:200]!r}")
            continue
        times["status"].append(ms)
    with out["lock"]:
        for k, v in times.items():
            out[k].extend(v)
        out["moved"].extend(moved)


def fan_out(base, token, streams, writes, probe_id):
    u = urllib.parse.urlparse(base)
    sel = selectors.DefaultSelector()
    socks = []
    for i in range(streams):
        s = socket.create_connection((u.hostname, u.port), timeout=10)
        s.sendall(f"GET /api/events HTTP/1.0\r\nHost: {u.netloc}\r\n\r\n".encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, {"i": i, "buf": b""})
        socks.append(s)
    time.sleep(1.0)
    heads_ok = 0
    seen = [0]

    def drain(deadline, after_seq, arrived):
        nonlocal heads_ok
        while time.perf_counter() < deadline and len(arrived) < streams:
            for key, _ in sel.select(timeout=0.05):
                d = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                d["buf"] += chunk
                if b"HTTP/1." in d["buf"][:12] and b"\r\n\r\n" in d["buf"]:
                    head, d["buf"] = d["buf"].split(b"\r\n\r\n", 1)
                    heads_ok += head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")
                while b"\n\n" in d["buf"]:
                    block, d["buf"] = d["buf"].split(b"\n\n", 1)
                    for line in block.decode().splitlines():
                        if line.startswith("id:"):
                            seq = int(line[3:].strip())
                            seen[0] = max(seen[0], seq)
                            if after_seq is not None and seq > after_seq and d["i"] not in arrived:
                                arrived[d["i"]] = time.perf_counter()

    drain(time.perf_counter() + 1.0, None, {})
    c = Client(base, token)
    delays, delivered = [], 0
    for k in range(writes):
        drain(time.perf_counter() + 0.2, None, {})
        before = seen[0]
        s, h, p, _ = c.request("GET", f"/api/sites/{probe_id}")
        s, h, p, _ = c.request("PATCH", f"/api/sites/{probe_id}", {"note": f"fan-out {k}"},
                               {"content-type": "application/json", "if-match": h.get("etag")})
        acked = time.perf_counter()
        if s != 200:
            continue
        arrived = {}
        drain(acked + 5.0, before, arrived)
        delivered += len(arrived)
        delays.extend((t - acked) * 1000 for t in arrived.values())
    for s in socks:
        s.close()
    return {"streams": streams, "streams_200": heads_ok, "writes": writes,
            "delivered": delivered, "expected": streams * writes,
            "delivery_after_200": summary(delays)}


def lonlat_tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def as_of_tile(base, as_of, geometry):
    lon, lat = geometry["coordinates"][0][0]
    x, y = lonlat_tile(lon, lat, 15)
    q = urllib.parse.quote(as_of)
    res = []
    for _ in range(2):
        t0 = time.perf_counter()
        r = urllib.request.urlopen(f"{base}/tiles/15/{x}/{y}.mvt?as_of={q}")
        body = r.read()
        res.append({"ms": round((time.perf_counter() - t0) * 1000, 2), "status": r.status,
                    "bytes": len(body), "cache_control": r.headers.get("cache-control")})
    return {"tile": f"15/{x}/{y}", "as_of": as_of, "first": res[0], "repeat": res[1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--per-writer", type=int, default=40)
    ap.add_argument("--streams", type=int, default=500)
    ap.add_argument("--fan-out-writes", type=int, default=20)
    a = ap.parse_args()
    base = a.base.rstrip("/")
    templates = template_parks(base, a.writers * a.per_writer)
    out = {"create": [], "move": [], "status": [], "errors": [], "moved": [], "created_by": {},
           "lock": threading.Lock(), "barrier": threading.Barrier(a.writers)}
    threads = [threading.Thread(target=writer, args=(base, a.token, w, templates, a.per_writer, out))
               for w in range(a.writers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    between = max(t for t, _ in out["created_by"].values())
    as_of = datetime.fromtimestamp(between, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    report = {"writers": a.writers, "per_writer": a.per_writer, "wall_s": round(wall, 2),
              "create": summary(out["create"]), "move": summary(out["move"]),
              "status": summary(out["status"]), "errors": out["errors"][:5], "error_count": len(out["errors"])}
    if out["moved"]:
        report["as_of_tile"] = as_of_tile(base, as_of, out["moved"][0][1]["geometry"])
        if a.streams:
            report["fan_out"] = fan_out(base, a.token, a.streams, a.fan_out_writes, out["moved"][0][0])
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
