"""Segment's SDK against the collector: events accepted per second, beside /v1/events.

    .venv/bin/python bench/collector/segment_bench.py [--events 20000]

Starts the collector as its own process on loopback (a fresh lake and spool), then sends the
same number of track events twice:

- Segment's Python SDK (`segment-analytics-python`), unchanged: its consumer thread batches
  100 messages a request, gzip on, to `/v1/batch`;
- the reference: httpx posting the same events as envelopes to `/v1/events`, 100 a request
  (the collector's own route, one client, one connection).

Each is timed from the first event handed over to the last answer; the collector is then
stopped (it lands its spool) and the landed lines are counted, so "accepted" means durable
in the lake. Prints events per second for both, their ratio, and the load average.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

API_KEY = "bench-write-key"
SEARCH = {"query_text": "news", "search_type": "text"}


def start(root: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "EVENTLAKE_LAKE_URI": str(root / "lake"), "EVENTLAKE_SPOOL_DIR": str(root / "spool"),
           "EVENTLAKE_API_KEYS": API_KEY, "EVENTLAKE_COLLECTOR_ID": "bench", "EVENTLAKE_FLUSH_SECONDS": "3600",
           "EVENTLAKE_RATE_LIMIT_API_KEY_PER_MINUTE": "0"}
    process = subprocess.Popen([sys.executable, "-m", "eventlake.collector", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the collector did not start")


def landed(root: Path) -> int:
    return sum(len(gzip.decompress(p.read_bytes()).splitlines())
               for p in (root / "lake" / "landing" / "events").rglob("*.jsonl.gz"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(events: int, sender: str) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"segment-bench-{sender}-"))
    port = free_port()
    process = start(root, port)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    if sender == "segment":
        from segment.analytics import Client

        client = Client(write_key=API_KEY, host=url, gzip=True, upload_size=100, max_queue_size=events + 1)
        for i in range(events):
            client.track(user_id=f"u-{i % 500}", event="search.query", properties=SEARCH, message_id=f"m-{i}")
        client.flush()
        client.shutdown()
    else:
        with httpx.Client(base_url=url, timeout=30) as http:
            for first in range(0, events, 100):
                batch = [{"event_id": f"m-{i}", "event_name": "search.query", "session_id": "s", "user_id": f"u-{i % 500}",
                          "properties": SEARCH} for i in range(first, min(first + 100, events))]
                answer = http.post("/v1/events", content=orjson.dumps({"events": batch}),
                                   headers={"x-api-key": API_KEY, "content-type": "application/json"})
                answer.raise_for_status()
    seconds = time.monotonic() - started
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    return {"sender": sender, "events": events, "seconds": round(seconds, 2),
            "events_per_second": round(events / seconds), "landed": landed(root)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    load_start = os.getloadavg()
    segment = run(args.events, "segment")
    reference = run(args.events, "httpx")
    print(json.dumps({
        "segment_sdk": segment, "reference_v1_events": reference,
        "ratio_segment_to_reference_seconds": round(segment["seconds"] / reference["seconds"], 2),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
