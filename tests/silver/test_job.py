"""What a silver run reads of silver: the stored rows its events could match, not the lake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from eventlake.bronze.ingest import ingest_bronze
from eventlake.silver.job import clean_silver

pytestmark = pytest.mark.unit


def event(event_id: str, timestamp: str) -> str:
    return json.dumps({
        "event_id": event_id, "event_name": "playback.started", "event_timestamp": timestamp,
        "session_id": "s1", "user_id": "u1", "market": "US",
        "properties": {"content_id": "c1", "content_type": "vod", "start_time_ms": 800},
    })


def land(settings, day: str, name: str, lines: list[str]) -> None:
    folder = Path(settings.lake_root) / f"landing/events/event_date={day}/event_hour=10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(f"{line}\n" for line in lines))


def run_silver(spark, settings, day: str, name: str, lines: list[str]):
    land(settings, day, name, lines)
    ingest_bronze(spark, settings)
    return clean_silver(spark, settings)


def test_a_run_never_opens_the_silver_files_of_ids_outside_its_own(spark, settings, lake):
    """Time-ordered ids (UUIDv7) make earlier events' ids smaller. A run looks for stored
    copies of its events (the count of cross-run duplicates, the MERGE's matches) only
    among ids between its least and greatest: a silver file of other ids is skipped by its
    statistics. Shown by deleting such a file from disk: a run that opened it would fail."""
    run_silver(spark, settings, "2026-11-01", "a.jsonl", [
        event("a1", "2026-11-01T10:00:05Z"), event("a2", "2026-11-01T10:00:06Z"),
    ])
    earlier = list((Path(lake.silver_events.path) / "event_date=2026-11-01").glob("*.parquet"))
    assert earlier
    for data_file in earlier:
        data_file.unlink()
    with pytest.raises(Exception, match="(?i)does not exist|not found|no such file"):
        spark.read.format("delta").load(lake.silver_events.path).select("event_id").collect()  # gone indeed

    second = run_silver(spark, settings, "2026-11-02", "b.jsonl", [
        event("e1", "2026-11-02T10:00:05Z"), event("e2", "2026-11-02T10:00:06Z"),
    ])
    third = run_silver(spark, settings, "2026-11-02", "c.jsonl", [
        event("e1", "2026-11-02T09:00:00Z"),  # an earlier copy of a stored event: it replaces it
        event("e3", "2026-11-02T10:00:07Z"),
    ])

    assert (second.silver_rows, second.cross_run_duplicates) == (2, 0)
    assert (third.silver_rows, third.cross_run_duplicates, third.silver_replaced) == (1, 1, 1)
    assert third.reconciles and third.rows_written_as_found
    stored = (
        spark.read.format("delta").load(lake.silver_events.path)
        .where(F.col("event_date") == "2026-11-02")
        .select("event_id", F.date_format("event_timestamp", "HH:mm:ss"))
    )
    assert dict(stored.collect()) == {"e1": "09:00:00", "e2": "10:00:06", "e3": "10:00:07"}
