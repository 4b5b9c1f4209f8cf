"""Collector test helpers: the real app served by uvicorn on a free loopback port.

In-process servers (a uvicorn thread) take an injectable clock; the durability tests start
the collector as its own process (`python -m eventlake.collector`) so they can kill it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import jwt
import orjson

from eventlake.config import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256!"
API_KEY = "producer-key-1"
T0 = datetime(2026, 2, 8, 14, 30, 0, 123000, tzinfo=timezone.utc)
TRACK = "01HXK3ZJ8M9Q4W2E5R7T6Y1V0P"


class ManualClock:
    """The collector's only clock, under the test's control."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collector_settings(tmp_path: Path, **env: str) -> Settings:
    base = {
        "EVENTLAKE_LAKE_URI": str(tmp_path / "lakehouse"),
        "EVENTLAKE_SPOOL_DIR": str(tmp_path / "spool"),
        "EVENTLAKE_JWT_SECRET": SECRET,
        "EVENTLAKE_API_KEYS": API_KEY,
        "EVENTLAKE_COLLECTOR_ID": "test-collector",
        "EVENTLAKE_FLUSH_SECONDS": "3600",
    }
    base.update(env)
    return Settings.from_env({k: v for k, v in base.items() if v is not None})


@dataclass
class Running:
    url: str
    app: object
    clock: ManualClock
    settings: Settings

    @property
    def lake(self) -> Path:
        return Path(self.settings.lake_root)

    def client(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)


@contextlib.contextmanager
def serve(settings: Settings, clock: ManualClock | None = None, port: int | None = None, **app_kwargs):
    """The collector app under uvicorn in a thread; shut down (and flushed) on exit."""
    import uvicorn

    from eventlake.collector.app import CollectorApp
    from eventlake.collector.http import server_config

    clock = clock or ManualClock()
    app = CollectorApp(settings, clock=clock, **app_kwargs)
    port = port or free_port()
    config = server_config(app, settings, host="127.0.0.1", port=port, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("collector did not start")
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{port}", app, clock, settings)
    finally:
        server.should_exit = True
        thread.join(30)


def token(sub: str | None = "user-1", *, exp: datetime | None = None, key=SECRET, algorithm="HS256", **claims) -> str:
    payload = {"exp": int((exp or T0 + timedelta(hours=1)).timestamp()), **claims}
    if sub is not None:
        payload["sub"] = sub
    return jwt.encode(payload, key, algorithm=algorithm)


def bearer(sub: str | None = "user-1", **kwargs) -> dict[str, str]:
    return {"authorization": f"Bearer {token(sub, **kwargs)}"}


def event(name: str = "playback.heartbeat", **fields) -> dict:
    properties = {
        "playback.heartbeat": {"content_id": "vod_1", "position_ms": 1000},
        "playback.started": {"content_id": "vod_1", "content_type": "vod", "start_time_ms": 1847},
        "search.query": {"query_text": "news", "search_type": "text"},
    }.get(name, {})
    base = {"event_name": name, "session_id": "sess-1", "device_id": "dev-1", "properties": properties}
    base.update(fields)
    return base


def post_events(client: httpx.Client, events: list, headers: dict | None = None) -> httpx.Response:
    return client.post("/v1/events", content=orjson.dumps({"events": events}),
                       headers={"content-type": "application/json", **(headers if headers is not None else bearer())})


def landed(lake: Path) -> dict[str, list[dict]]:
    """Every landing file under the lake, relative path -> its decoded lines."""
    files = {}
    for path in sorted((lake / "landing" / "events").rglob("*.jsonl.gz")):
        lines = gzip.decompress(path.read_bytes()).splitlines()
        files[str(path.relative_to(lake))] = [orjson.loads(line) for line in lines]
    return files


def landed_events(lake: Path) -> list[dict]:
    return [e for lines in landed(lake).values() for e in lines]


# --- the collector as its own process -------------------------------------------------------

@dataclass
class Process:
    popen: subprocess.Popen
    url: str
    log: Path

    def stop(self, sig: int) -> int:
        self.popen.send_signal(sig)
        return self.popen.wait(60)


def start_process(tmp_path: Path, log_name: str = "collector.log", **env: str) -> Process:
    port = free_port()
    environment = {
        **os.environ,
        "EVENTLAKE_LAKE_URI": str(tmp_path / "lakehouse"),
        "EVENTLAKE_SPOOL_DIR": str(tmp_path / "spool"),
        "EVENTLAKE_JWT_SECRET": SECRET,
        "EVENTLAKE_API_KEYS": API_KEY,
        "EVENTLAKE_COLLECTOR_ID": "proc-collector",
        "EVENTLAKE_FLUSH_SECONDS": "3600",
        **env,
    }
    log = tmp_path / log_name
    popen = subprocess.Popen(
        [sys.executable, "-m", "eventlake.collector", "--port", str(port)],
        env=environment, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if popen.poll() is not None:
            raise RuntimeError(f"collector exited with {popen.returncode}: {log.read_text()}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return Process(popen, url, log)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            popen.kill()
            raise RuntimeError("collector did not become ready")
        time.sleep(0.05)
