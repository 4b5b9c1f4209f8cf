"""202 means durable: crash recovery after kill -9, SIGTERM flushes, spool limits, a lake
that is down, torn spool tails, flush by age."""

from __future__ import annotations

import gzip
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import orjson
import pytest

from eventlake.collector.spool import new_segment_name

from .helpers import (
    API_KEY,
    T0,
    bearer,
    collector_settings,
    event,
    landed,
    landed_events,
    post_events,
    serve,
    start_process,
)

pytestmark = pytest.mark.collector

# The collector processes run on the real clock, so they get an API key, not a T0 token.
PRODUCER = {"x-api-key": API_KEY}


def raw_landed_lines(lake: Path) -> list[bytes]:
    return [line for path in sorted((lake / "landing" / "events").rglob("*.jsonl.gz"))
            for line in gzip.decompress(path.read_bytes()).splitlines()]


def spool_segments(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool").glob("*.seg"))


def test_kill_9_under_load_then_restart_lands_every_acknowledged_event_once(tmp_path):
    # Small segments so that segments are sealed and landed while the load runs: the crash
    # can hit a segment half way through its landing.
    env = {"EVENTLAKE_FLUSH_BYTES": "20000", "EVENTLAKE_RATE_LIMIT_PER_MINUTE": "0",
           "EVENTLAKE_RATE_LIMIT_USER_PER_MINUTE": "0"}
    first = start_process(tmp_path, **env)
    acknowledged: set[str] = set()
    stop = threading.Event()
    lock = threading.Lock()

    def load(worker: int) -> None:
        with httpx.Client(base_url=first.url, timeout=5) as client:
            n = 0
            while not stop.is_set():
                ids = [f"w{worker}-{n}-{i}" for i in range(10)]
                n += 1
                try:
                    response = post_events(client, [event(event_id=i, device_id=f"dev-{worker}") for i in ids],
                                           headers=PRODUCER)
                except httpx.TransportError:
                    return  # the collector is gone
                if response.status_code == 202:
                    assert response.json()["accepted"] == 10
                    with lock:
                        acknowledged.update(ids)

    workers = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 3000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(acknowledged) >= 3000, "the load never got going"
    first.popen.kill()  # SIGKILL: no shutdown code runs
    first.popen.wait(30)
    stop.set()
    for w in workers:
        w.join(30)
    assert spool_segments(tmp_path), "the crash should leave unlanded segments behind"

    second = start_process(tmp_path, log_name="restart.log", **env)
    assert second.stop(signal.SIGTERM) == 0
    assert spool_segments(tmp_path) == []

    lines = raw_landed_lines(tmp_path / "lakehouse")
    by_id: dict[str, set[bytes]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        event_id = orjson.loads(line)["event_id"]
        by_id[event_id].add(line)
        counts[event_id] += 1
    missing = acknowledged - set(by_id)
    assert not missing, f"{len(missing)} acknowledged events were lost, e.g. {sorted(missing)[:5]}"
    # Nothing landed twice, except byte-identical lines (which silver's dedupe removes).
    assert [i for i, variants in by_id.items() if len(variants) > 1] == []
    assert max(counts.values()) == 1


def test_sigterm_flushes_everything_and_exits_0(tmp_path):
    process = start_process(tmp_path)  # flush age of an hour: only shutdown lands these
    with httpx.Client(base_url=process.url) as client:
        for n in range(3):
            response = post_events(client, [event(event_id=f"t-{n}-{i}") for i in range(5)], headers=PRODUCER)
            assert response.status_code == 202
    assert landed_events(tmp_path / "lakehouse") == []
    assert process.stop(signal.SIGTERM) == 0
    assert spool_segments(tmp_path) == []
    assert sorted(e["event_id"] for e in landed_events(tmp_path / "lakehouse")) == sorted(
        f"t-{n}-{i}" for n in range(3) for i in range(5))
    log_lines = [orjson.loads(line) for line in process.log.read_text().splitlines()]
    assert {"collector stopped; spool empty"} <= {line["message"] for line in log_lines}


def test_full_spool_answers_503_and_keeps_what_it_acknowledged(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_SPOOL_MAX_BYTES="3000")
    with serve(settings) as running:
        with running.client() as client:
            statuses = [post_events(client, [event(event_id=f"s-{n}-{i}") for i in range(4)]).status_code
                        for n in range(6)]
            refused = post_events(client, [event(event_id=f"r-{i}") for i in range(4)])
            metrics = client.get("/metrics").text
            ready = client.get("/readyz")
    accepted = statuses.count(202)
    assert statuses == [202] * accepted + [503] * (6 - accepted) and 0 < accepted < 6
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["type"] == "https://eventlake.dev/problems/spool-full"
    assert 'eventlake_spool_refusals_total{reason="full"}' in metrics
    assert ready.status_code == 503 and ready.json()["checks"]["spool_writable"] is False
    assert sorted(e["event_id"] for e in landed_events(running.lake)) == sorted(
        f"s-{n}-{i}" for n in range(accepted) for i in range(4))


def test_an_unreachable_lake_keeps_segments_until_it_comes_back(tmp_path):
    blocker = tmp_path / "lakehouse"
    blocker.write_text("a file where the lake folder should be")  # every landing write fails
    settings = collector_settings(tmp_path, EVENTLAKE_FLUSH_SECONDS="0.2")
    with serve(settings) as running:
        with running.client() as client:
            assert post_events(client, [event(event_id="waits")]).status_code == 202
            deadline = time.monotonic() + 20
            while client.get("/readyz").status_code == 200 or running.app.flusher.sink_ok is not False:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert client.get("/readyz").json()["checks"]["sink_reachable"] is False
            assert len(spool_segments(tmp_path)) == 1
            blocker.unlink()  # the lake is back
            while spool_segments(tmp_path):
                assert time.monotonic() < deadline + 20
                time.sleep(0.05)
    assert [e["event_id"] for e in landed_events(running.lake)] == ["waits"]


def test_leftover_segments_are_landed_on_start_without_their_torn_tail(tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    complete = orjson.dumps({**event(event_id="survivor"), "event_timestamp": "2026-02-08T09:15:00.000Z"})
    name = new_segment_name(T0.replace(hour=9, minute=0, second=0, microsecond=0))
    (spool / name).write_bytes(complete + b"\n" + b'{"event_id": "torn", "event_na')
    with serve(collector_settings(tmp_path)) as running:
        pass
    files = landed(running.lake)
    assert list(files) == [f"landing/events/event_date=2026-02-08/event_hour=09/test-collector-{name[:-4]}.jsonl.gz"]
    assert raw_landed_lines(running.lake) == [complete]
    assert spool_segments(tmp_path) == []


def test_events_land_within_the_flush_age_without_a_shutdown(tmp_path):
    with serve(collector_settings(tmp_path, EVENTLAKE_FLUSH_SECONDS="0.3")) as running:
        with running.client() as client:
            assert post_events(client, [event(event_id="aged")], headers=bearer()).status_code == 202
            deadline = time.monotonic() + 20
            while not landed_events(running.lake):
                assert time.monotonic() < deadline, "the segment was never landed by age"
                time.sleep(0.05)
            assert [e["event_id"] for e in landed_events(running.lake)] == ["aged"]
