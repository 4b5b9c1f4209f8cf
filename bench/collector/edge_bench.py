"""The collector's HTTP edge under abuse, measured on loopback against a collector process.

    .venv/bin/python bench/collector/edge_bench.py [--connections 20000] [--header-mb 128]
        [--src /path/to/a/src --src /path/to/b/src]   # compare checkouts (e.g. main and this one)

1. One request whose header never ends (`--header-mb` MB): wall time until the collector
   answers or closes, and the collector's CPU seconds spent on it.
2. `--connections` connections opened and held (half of them idle, half stuck half way
   through their head), from helper processes of at most 9,000 sockets each: whether a new
   client is still answered (and how fast), and the collector's open file descriptors during
   the flood and once its deadlines have passed.
Everything else is the collector's defaults (limits, deadlines, open-file limit).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SECRET = "bench-secret-bench-secret-bench-secret!!"
PER_HELPER = 9000

HELPER = r"""
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
held, failed = [], 0
for n in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
        if n % 2:
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: c\r\n")
        held.append(s)
    except OSError:
        failed += 1
print(len(held), failed, flush=True)
sys.stdin.read()  # hold until the parent closes our stdin
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_collector(src: str | None, tmp: Path):
    import httpx

    port = free_port()
    env = {**os.environ, "EVENTLAKE_LAKE_URI": str(tmp / "lakehouse"), "EVENTLAKE_SPOOL_DIR": str(tmp / "spool"),
           "EVENTLAKE_JWT_SECRET": SECRET, "EVENTLAKE_COLLECTOR_ID": "edge-bench"}
    if src:
        env["PYTHONPATH"] = src
    proc = subprocess.Popen([sys.executable, "-m", "eventlake.collector", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, port
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("collector did not start")
        time.sleep(0.1)


def post_once(port: int, timeout: float = 10.0) -> tuple[str, float]:
    import httpx
    import jwt

    token = jwt.encode({"sub": "bench", "exp": int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp())},
                       SECRET, algorithm="HS256")
    body = b'{"events": [{"event_name": "search.query", "session_id": "s", "properties": {"query_text": "q", "search_type": "text"}}]}'
    started = time.monotonic()
    try:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/events", content=body, timeout=timeout,
                       headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
        return str(r.status_code), time.monotonic() - started
    except httpx.HTTPError as error:
        return type(error).__name__, time.monotonic() - started


def endless_header(port: int, proc, megabytes: int) -> dict:
    import psutil

    ps = psutil.Process(proc.pid)
    cpu0 = sum(ps.cpu_times()[:2])
    sock = socket.create_connection(("127.0.0.1", port), timeout=120)
    sent = [0]

    def flood() -> None:
        piece = b"a" * 65536
        try:
            sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: c\r\nX-Huge: ")
            for _ in range(megabytes * 16):
                sock.sendall(piece)
                sent[0] += len(piece)
            sock.sendall(b"\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            pass

    started = time.monotonic()
    writer = threading.Thread(target=flood, daemon=True)
    writer.start()
    answer = b""
    try:
        answer = sock.recv(200)
    except OSError:
        pass
    elapsed = time.monotonic() - started
    writer.join(120)
    sock.close()
    time.sleep(0.5)
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "closed"
    return {"status": status, "seconds": elapsed, "collector_cpu_s": sum(ps.cpu_times()[:2]) - cpu0,
            "sent_mb": sent[0] / 2**20}


def connection_flood(port: int, proc, connections: int) -> dict:
    import psutil

    ps = psutil.Process(proc.pid)
    helpers = []
    left = connections
    while left > 0:
        count = min(PER_HELPER, left)
        left -= count
        helpers.append(subprocess.Popen([sys.executable, "-c", HELPER, str(port), str(count)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE))
    opened = failed = 0
    for helper in helpers:
        held, bad = helper.stdout.readline().split()
        opened, failed = opened + int(held), failed + int(bad)
    fds_during = ps.num_fds()
    status, seconds = post_once(port)
    time.sleep(12)  # past the default idle (5 s) and head (10 s) deadlines
    fds_after = ps.num_fds()
    status_after, seconds_after = post_once(port)
    for helper in helpers:
        helper.stdin.close()
        helper.wait(30)
    return {"opened": opened, "connect_failures": failed, "collector_fds_during": fds_during,
            "post_during": f"{status} in {seconds:.2f} s", "collector_fds_after_12s": fds_after,
            "post_after": f"{status_after} in {seconds_after:.2f} s"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=20000)
    parser.add_argument("--header-mb", type=int, default=128)
    parser.add_argument("--src", action="append", default=[])
    args = parser.parse_args()
    for src in args.src or [None]:
        with tempfile.TemporaryDirectory(prefix="eventlake-edge-") as tmp:
            proc, port = start_collector(src, Path(tmp))
            try:
                print(f"src={src or '-'} load1={os.getloadavg()[0]:.1f}", flush=True)
                print("  endless header:", endless_header(port, proc, args.header_mb), flush=True)
                print("  connection flood:", connection_flood(port, proc, args.connections), flush=True)
            finally:
                proc.terminate()
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


if __name__ == "__main__":
    main()
