"""Bronze's `ingested_at` / `ingest_date` are the real UTC instant whatever the driver's zone."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from eventlake.bronze.ingest import ingest_bronze, to_bronze_rows
from eventlake.quality.batches import BatchContext, bronze_run_rows

pytestmark = pytest.mark.unit

# Noon UTC is already the next day in Kiritimati (+14); 03:00 UTC is the day before in
# Los Angeles (-8 in November): a local date in place of the UTC one shows.
CASES = [
    ("Pacific/Kiritimati", datetime(2026, 11, 2, 12, 30, 5, tzinfo=timezone.utc)),
    ("America/Los_Angeles", datetime(2026, 11, 2, 3, 0, 7, tzinfo=timezone.utc)),
]


def land(lake, *lines: str) -> None:
    folder = Path(lake.path("landing/events/event_date=2026-11-02/event_hour=03"))
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("".join(f"{line}\n" for line in lines))


def stored(frame):
    """ingested_at as Spark holds it (UTC text, epoch micros) and ingest_date, no Python conversion."""
    return frame.select(
        F.date_format("ingested_at", "yyyy-MM-dd HH:mm:ss").alias("text"),
        F.unix_micros("ingested_at").alias("micros"),
        F.col("ingest_date").cast("string").alias("day"),
    ).distinct().collect()


@pytest.mark.parametrize("zone, instant", CASES)
def test_to_bronze_rows_writes_the_utc_instant_in_a_non_utc_python_zone(spark, local_zone, zone, instant):
    local_zone(zone)
    assert time.localtime(instant.timestamp()).tm_mday != instant.day  # the zone really moved
    lines = spark.createDataFrame([("{}", "f", 1), ("x", "f", 2)], "raw STRING, source_file STRING, line_number LONG")
    expected_micros = int(instant.timestamp()) * 10**6

    for given in (instant, instant.replace(tzinfo=None), instant.astimezone(timezone(timedelta(hours=5)))):
        [row] = stored(to_bronze_rows(lines, given))
        assert (row.text, row.micros, row.day) == (
            instant.strftime("%Y-%m-%d %H:%M:%S"), expected_micros, instant.date().isoformat()
        ), given


@pytest.mark.parametrize("zone, instant", CASES)
def test_bronze_run_rows_finds_the_run_in_a_non_utc_python_zone(spark, settings, lake, local_zone, zone, instant):
    # The bronze suite selects the run's rows by the ingested_at it collects back: the
    # collected value must map to the same UTC instant and the same ingest_date partition.
    local_zone(zone)
    land(lake, '{"event_id": "a"}', '{"event_id": "b"}')
    run = ingest_bronze(spark, settings, run_id="r1", ingested_at=instant)

    context = BatchContext(spark, settings, lake, "r1", run.as_dict(), None, "bronze.events")
    rows = bronze_run_rows(context)
    assert rows.count() == 2
    [row] = stored(rows)
    assert (row.micros, row.day) == (int(instant.timestamp()) * 10**6, instant.date().isoformat())


def test_ingest_bronze_without_a_given_time_takes_the_real_utc_clock(spark, settings, lake, local_zone):
    local_zone("Pacific/Kiritimati")
    land(lake, '{"event_id": "a"}')
    before = datetime.now(timezone.utc).replace(microsecond=0)
    ingest_bronze(spark, settings)
    after = datetime.now(timezone.utc)
    [row] = stored(spark.read.format("delta").load(lake.bronze_events.path))
    at = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=row.micros)
    assert before <= at <= after
    assert date.fromisoformat(row.day) == at.date()
