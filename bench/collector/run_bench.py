"""Collector load benchmark: a collector process and a load-generator process on loopback.

    .venv/bin/python bench/collector/run_bench.py [--seconds 10] [--connections 16] [--batches 1,20,100]
        [--src /path/to/a/src --src /path/to/b/src]   # compare checkouts, cases interleaved

For each batch size the generator keeps N keep-alive connections busy (closed loop) with
Bearer-JWT requests from 2,000 simulated devices (so 000's per-device rate limit is live but
not the bottleneck), and reports accepted events/s, p50/p99 request latency and the
collector's CPU seconds per 10,000 accepted events (psutil). The collector runs exactly as in
production (`python -m eventlake.collector`, uvloop + httptools, fsync group commit) with a
local lake in a temporary folder; flush size and age are the defaults unless given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

SECRET = "bench-secret-bench-secret-bench-secret!!"
DEVICES = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the load generator (its own process) -----------------------------------------------------

def build_requests(port: int, batch: int) -> list[bytes]:
    import jwt
    import orjson

    exp = int((datetime.now(timezone.utc) + timedelta(hours=1)).timestamp())
    requests = []
    for device in range(DEVICES):
        token = jwt.encode({"sub": f"user-{device % 1500}", "exp": exp}, SECRET, algorithm="HS256")
        events = []
        for i in range(batch):
            kind = i % 4
            if kind == 0:
                name, props = "playback.heartbeat", {"content_id": f"vod_{i}", "position_ms": 1000 * i}
            elif kind == 1:
                name, props = "playback.started", {"content_id": f"vod_{i}", "content_type": "vod", "start_time_ms": 1200}
            elif kind == 2:
                name, props = "search.query", {"query_text": "nature documentaries", "search_type": "text"}
            else:
                name, props = "playback.rebuffer", {"content_id": f"vod_{i}", "rebuffer_duration_ms": 350}
            events.append({
                "event_name": name, "session_id": f"sess-{device}", "device_id": f"dev-{device}",
                "client_timestamp": datetime.now(timezone.utc).isoformat(), "platform": "android_tv",
                "device_type": "android_tv", "app_version": "2.3.1", "os_version": "Android TV 14",
                "market": "US", "connection_type": "wifi", "properties": props,
            })
        body = orjson.dumps({"events": events})
        head = (
            f"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nUser-Agent: eventlake-bench/1\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


async def _connection(port: int, requests: list[bytes], offset: int, step: int, stop_at: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    latencies, statuses = out["latencies"], out["statuses"]
    while time.perf_counter() < stop_at:
        request = requests[i % len(requests)]
        i += step
        t0 = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await reader.readexactly(length)
        latencies.append(time.perf_counter() - t0)
        statuses[status] = statuses.get(status, 0) + 1
        if status == 202:
            out["accepted"] += json.loads(body)["accepted"]
    writer.close()


def generate(port: int, batch: int, seconds: float, connections: int) -> dict:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    requests = build_requests(port, batch)
    out = {"latencies": [], "statuses": {}, "accepted": 0}

    async def main() -> float:
        # warm up, then measure
        warm = {"latencies": [], "statuses": {}, "accepted": 0}
        stop = time.perf_counter() + 1.0
        await asyncio.gather(*(_connection(port, requests, c, connections, stop, warm) for c in range(connections)))
        print("measuring", flush=True)
        started = time.perf_counter()
        stop = started + seconds
        await asyncio.gather(*(_connection(port, requests, c + 7, connections, stop, out) for c in range(connections)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    lat = sorted(out["latencies"])
    return {
        "batch": batch,
        "requests": len(lat),
        "elapsed": elapsed,
        "accepted": out["accepted"],
        "statuses": out["statuses"],
        "p50_ms": lat[len(lat) // 2] * 1000 if lat else None,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else None,
    }


# --- the orchestrator --------------------------------------------------------------------------

def run_case(batch: int, seconds: float, connections: int, env_extra: dict[str, str]) -> dict:
    import httpx
    import psutil

    with tempfile.TemporaryDirectory(prefix="eventlake-bench-") as tmp:
        port = free_port()
        env = {
            **os.environ,
            "EVENTLAKE_LAKE_URI": str(Path(tmp) / "lakehouse"),
            "EVENTLAKE_SPOOL_DIR": str(Path(tmp) / "spool"),
            "EVENTLAKE_JWT_SECRET": SECRET,
            "EVENTLAKE_COLLECTOR_ID": "bench",
            **env_extra,
        }
        collector = subprocess.Popen([sys.executable, "-m", "eventlake.collector", "--port", str(port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or collector.poll() is not None:
                    raise SystemExit("collector did not start: " + collector.stderr.read().decode()[-2000:])
                time.sleep(0.1)
            proc = psutil.Process(collector.pid)
            generator = subprocess.Popen(
                [sys.executable, __file__, "--generate", str(port), str(batch), str(seconds), str(connections)],
                stdout=subprocess.PIPE,
            )
            # CPU is sampled over the measured window only (after build and warm-up).
            assert generator.stdout.readline().strip() == b"measuring"
            cpu0 = sum(proc.cpu_times()[:2])
            t0 = time.perf_counter()
            out = generator.stdout.readline()
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            generator.wait()
            result = json.loads(out)
            result["collector_cpu_s"] = cpu
            result["cpu_window_s"] = time.perf_counter() - t0
        finally:
            collector.terminate()
            collector.wait(60)
        result["exit_code"] = collector.returncode
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batches", default="1,20,100")
    parser.add_argument("--src", action="append", default=[],
                        help="run the collector from this src/ folder (repeat to compare; cases alternate)")
    parser.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        port, batch, seconds, connections = args.generate
        print(json.dumps(generate(int(port), int(batch), float(seconds), int(connections))))
        return
    rows = []
    sources = args.src or [None]
    for batch in (int(b) for b in args.batches.split(",")):
        for src in sources:
            env = {"PYTHONPATH": src} if src else {}
            load = os.getloadavg()[0]
            r = run_case(batch, args.seconds, args.connections, env)
            rate = r["accepted"] / r["elapsed"]
            cpu_per_10k = r["collector_cpu_s"] / max(r["accepted"], 1) * 10_000 * (r["elapsed"] / r["cpu_window_s"])
            rows.append((src or "-", batch, r["requests"] / r["elapsed"], rate, r["p50_ms"], r["p99_ms"], cpu_per_10k,
                         load, r["statuses"]))
    print(f"\ncollector bench: {args.connections} connections, {args.seconds:g} s per case, {os.cpu_count()} CPUs\n")
    print(f"{'src':<28} {'batch':>5} {'req/s':>8} {'events/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'CPU s/10k ev':>12}"
          f" {'load1':>6}  statuses")
    for src, batch, rps, rate, p50, p99, cpu, load, statuses in rows:
        print(f"{src[-28:]:<28} {batch:>5} {rps:>8.0f} {rate:>10.0f} {p50:>7.1f} {p99:>7.1f} {cpu:>12.3f}"
              f" {load:>6.1f}  {statuses}")


if __name__ == "__main__":
    main()
