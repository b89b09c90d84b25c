#!/usr/bin/env python3
"""Hostile-but-legal clients for scripts/load/soak.sh, kept open for DURATION seconds against
127.0.0.1:PORT while wrk runs the normal load:

- silent:    connect and send nothing;
- slowloris: send a request line, then one header line every 2 s, never the blank line;
- idle:      one request on a kept-alive connection, then nothing;
- stalled:   ask for PIPELINE large answers at once (pipelined, more than the socket buffers
             hold) and read none of them for STALL seconds (more than the write timeout).

Each kind reconnects whenever the server closes it. Prints one JSON line with, per kind, how
many connections were opened, how many the server closed, and how long they lived (seconds,
from the last byte the client sent); for `stalled`, the most bytes one connection got against
what the full answers take (`full_bytes`): fewer means the server cut the stalled reader
(it is seen when the client reads again, so its lifetime is STALL; DURATION must be at least
STALL for any to open). Shows that the header,
idle and write timeouts apply. Standard library only.

usage: slow_clients.py PORT DURATION [SILENT SLOWLORIS IDLE STALLED STALL_PATH STALL]
"""
import json
import select
import socket
import sys
import threading
import time

port = int(sys.argv[1])
duration = float(sys.argv[2])
counts = dict(zip(["silent", "slowloris", "idle", "stalled"],
                  [int(a) for a in (sys.argv[3:7] or [50, 50, 50, 10])]))
stall_path = sys.argv[7] if len(sys.argv) > 7 else "/api/export/sites.geojson"
stall = float(sys.argv[8]) if len(sys.argv) > 8 else 45.0
PIPELINE = 200


def answer_bytes(path):
    """Length of one whole answer to GET `path` (head and body) on a kept-alive connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
    n = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        n += len(b)
    s.close()
    return n - len(b"Connection: close\r\n")


full_bytes = PIPELINE * answer_bytes(stall_path)
deadline = time.monotonic() + duration
lock = threading.Lock()
stats = {k: {"opened": 0, "closed_by_server": 0, "lifetimes": [], "bytes": []} for k in counts}


def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setblocking(True)
    return s


def closed(s, wait):
    """Whether the server closed `s` within `wait` seconds (reads and drops what it sent)."""
    end = time.monotonic() + wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return False
        try:
            if not s.recv(65536):
                return True
        except OSError:
            return True


def record(kind, lifetime, got=None):
    with lock:
        st = stats[kind]
        if lifetime is not None:
            st["closed_by_server"] += 1
            st["lifetimes"].append(lifetime)
        if got is not None:
            st["bytes"].append(got)


def silent():
    while time.monotonic() < deadline:
        s = connect()
        stats["silent"]["opened"] += 1
        t0 = time.monotonic()
        record("silent", time.monotonic() - t0 if closed(s, deadline - t0) else None)
        s.close()


def slowloris():
    while time.monotonic() < deadline:
        s = connect()
        stats["slowloris"]["opened"] += 1
        t0 = time.monotonic()
        cut = None
        try:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: soak\r\n")
            n = 0
            while time.monotonic() < deadline:
                if closed(s, 2.0):
                    cut = time.monotonic() - t0
                    break
                s.sendall(b"X-Slow-%d: 1\r\n" % n)
                n += 1
        except OSError:
            cut = time.monotonic() - t0
        record("slowloris", cut)
        s.close()


def idle():
    while time.monotonic() < deadline:
        s = connect()
        stats["idle"]["opened"] += 1
        s.sendall(b"GET /health HTTP/1.1\r\nHost: soak\r\n\r\n")
        t0 = time.monotonic()
        record("idle", time.monotonic() - t0 if closed(s, deadline - t0) else None)
        s.close()


def stalled():
    # Only connections that can stall for all of STALL before the deadline are opened.
    while time.monotonic() + stall <= deadline:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        stats["stalled"]["opened"] += 1
        s.sendall(PIPELINE * (b"GET " + stall_path.encode() + b" HTTP/1.1\r\nHost: soak\r\n\r\n"))
        t0 = time.monotonic()
        time.sleep(stall)
        got = 0
        cut = None
        s.settimeout(2.0)
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    cut = time.monotonic() - t0
                    break
                got += len(b)
        except socket.timeout:
            pass  # still open: the answer was sent (or is still being sent) in full
        except OSError:
            cut = time.monotonic() - t0
        record("stalled", cut, got)
        s.close()


threads = [threading.Thread(target=f, daemon=True)
           for kind, f in [("silent", silent), ("slowloris", slowloris), ("idle", idle), ("stalled", stalled)]
           for _ in range(counts[kind])]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=max(0.0, deadline - time.monotonic()) + stall + 10)


def summary(st):
    life = sorted(st["lifetimes"])
    out = {"opened": st["opened"], "closed_by_server": st["closed_by_server"]}
    if life:
        out["lifetime_s"] = {"min": round(life[0], 1), "median": round(life[len(life) // 2], 1),
                             "max": round(life[-1], 1)}
    if st["bytes"]:
        out["bytes_read_max"] = max(st["bytes"])
        out["full_bytes"] = full_bytes
    return out


print("SLOW_JSON " + json.dumps({k: summary(v) for k, v in stats.items()}))
