"""What a silver run reads of silver: the stored rows its events could match, not the lake."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from eventlake.bronze.ingest import ingest_bronze
from eventlake.schemas import SILVER_EVENTS
from eventlake.silver.job import clean_silver

pytestmark = pytest.mark.unit


def event(event_id: str, timestamp: str) -> str:
    return json.dumps({
        "event_id": event_id, "event_name": "playback.started", "event_timestamp": timestamp,
        "session_id": "s1", "user_id": "u1", "market": "US",
        "properties": {"content_id": "c1", "content_type": "vod", "start_time_ms": 800},
    })


def stored(event_id: str, at: datetime) -> tuple:
    """A silver row as an earlier run left it (only what this test reads is filled in)."""
    row = {name: None for name in SILVER_EVENTS.fieldNames()} | {
        "event_id": event_id, "event_name": "playback.started", "event_domain": "playback",
        "event_timestamp": at, "event_date": at.date(), "event_hour": at.replace(minute=0, second=0),
        "session_id": "s1", "schema_version": 1, "properties": "{}",
    }
    return tuple(row[name] for name in SILVER_EVENTS.fieldNames())


def test_a_run_never_opens_the_silver_files_of_ids_outside_its_own(spark, settings, lake):
    """Time-ordered ids (UUIDv7) make earlier events' ids smaller. A run looks for stored
    copies of its events (the count of cross-run duplicates, the MERGE's matches) only
    among ids between its least and greatest: a silver file of other ids is skipped by its
    statistics. Shown by deleting such a file from disk: a run that opened it would fail."""
    rows = [stored("a1", datetime(2026, 11, 1, 10, 0, 5)), stored("a2", datetime(2026, 11, 1, 10, 0, 6)),
            stored("e1", datetime(2026, 11, 2, 10, 0, 5)), stored("e2", datetime(2026, 11, 2, 10, 0, 6))]
    spark.createDataFrame(rows, SILVER_EVENTS).write.format("delta").partitionBy("event_date").save(
        lake.silver_events.path)
    earlier = list((Path(lake.silver_events.path) / "event_date=2026-11-01").glob("*.parquet"))
    assert earlier
    for data_file in earlier:
        data_file.unlink()
    with pytest.raises(Exception, match="(?i)does not exist|not found|no such file"):
        spark.read.format("delta").load(lake.silver_events.path).select("event_id").collect()  # gone indeed

    folder = Path(settings.lake_root) / "landing/events/event_date=2026-11-02/event_hour=10"
    folder.mkdir(parents=True)
    (folder / "c.jsonl").write_text(
        event("e1", "2026-11-02T09:00:00Z") + "\n"  # an earlier copy of a stored event: it replaces it
        + event("e3", "2026-11-02T10:00:07Z") + "\n"
    )
    ingest_bronze(spark, settings)
    run = clean_silver(spark, settings)

    assert (run.silver_rows, run.cross_run_duplicates, run.silver_replaced) == (1, 1, 1)
    assert run.reconciles and run.rows_written_as_found
    kept = (
        spark.read.format("delta").load(lake.silver_events.path)
        .where(F.col("event_date") == "2026-11-02")
        .select("event_id", F.date_format("event_timestamp", "HH:mm:ss"))
    )
    assert dict(kept.collect()) == {"e1": "09:00:00", "e2": "10:00:06", "e3": "10:00:07"}
