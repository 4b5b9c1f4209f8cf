"""Write, audit, publish: gold that fails a critical expectation is never committed.

A hand-made silver row whose `user_key` is not a SHA-256 (a raw id that slipped through)
breaks `gold.user_activity_daily`'s critical `user_key_is_sha256_hex`. The pipeline must
exit 3 with every gold table at the Delta version and content it had, no gold watermark
moved, and the next run (after the row is gone) must redo the work.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from eventlake.pipeline import run_layer
from eventlake.schemas import SILVER_COLUMNS, SILVER_EVENTS
from eventlake.state import read_watermarks

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TRACK = "01JB8Z5Y3M9Q2W7E4R6T8Y0V1A"  # a ULID: 26 Crockford characters, first in 0-7


def row(event_name: str, minutes: int, *, user_key: str | None, **properties) -> dict:
    when = T0 + timedelta(minutes=minutes)
    values = dict.fromkeys(SILVER_COLUMNS)
    values.update(
        event_id=f"{event_name}-{minutes}-{user_key}", event_name=event_name,
        event_domain=event_name.split(".", 1)[0], event_timestamp=when, event_date=when.date(),
        event_hour=when.replace(minute=0), client_ts_skewed=False, user_key=user_key,
        session_id=f"s-{user_key}", profile_kind="standard", platform="web", market="DE",
        no_personalization=False, no_ad_targeting=False, schema_version=1,
        properties=json.dumps(properties), collector_id="test", source_file="test.jsonl",
        ingested_at=when,
    )
    return values


def key(user: str) -> str:
    return hashlib.sha256(f"{user}test-salt".encode()).hexdigest()


def append_silver(spark, path: str, rows: list[dict]) -> None:
    frame = spark.createDataFrame([tuple(r[c] for c in SILVER_COLUMNS) for r in rows], SILVER_EVENTS)
    frame.write.format("delta").mode("append").partitionBy("event_date").save(path)


def gold_state(lake: Lake) -> dict[str, tuple[int, list]]:
    """Every gold table's Delta version and rows, read by delta-rs (not the writer's engine)."""
    from deltalake import DeltaTable

    state = {}
    for name in GOLD_TABLES:
        table = DeltaTable(lake.gold(name).path)
        rows = sorted(map(repr, table.to_pyarrow_table().to_pylist()))
        state[name] = (table.version(), rows)
    return state


def gold_suites_validated(lake: Lake, run_id: str) -> set[str]:
    """The suites whose expectations ran (or were skipped with a warning) for a gold run."""
    from deltalake import DeltaTable

    results = DeltaTable(lake.quality_results.path).to_pyarrow_table().to_pylist()
    return {r["suite"] for r in results if r["run_id"] == run_id and r["layer"] == "gold"}


def test_a_critical_gold_failure_publishes_nothing_and_the_rerun_redoes_the_work(spark, settings, tmp_path):
    lake = Lake.from_settings(settings)
    silver = lake.silver_events.path
    good = [
        row("playback.started", 0, user_key=key("u1"), content_id="c1", content_type="vod", start_time_ms=800),
        row("track.play_start", 5, user_key=key("u1"), track_id=TRACK, duration_played_seconds=30),
        row("track.play_start", 7, user_key=key("u2"), track_id=TRACK, duration_played_seconds=12),
    ]
    append_silver(spark, silver, good)
    as_of = T0 + timedelta(hours=1)  # the run's logical time, for the freshness check
    published = run_layer(spark, settings, "gold", run_id="good", as_of=as_of)  # audited and published
    assert 0 < published.quality_seconds  # the gate ran, and the layer reports its time
    before, marks = gold_state(lake), read_watermarks(spark, lake, "gold.")
    assert len(marks) == len(GOLD_TABLES)
    every_suite = gold_suites_validated(lake, "good")
    assert {"gold.user_activity_daily", "gold.daily_kpis", "gold.freshness"} <= every_suite

    # Nothing new in silver: no gold table changes, so none is validated again; the checks
    # about the run itself (silver's freshness and references) still run.
    run_layer(spark, settings, "gold", run_id="idle", as_of=as_of)
    assert gold_state(lake) == before
    run_checks = {"gold.freshness", "gold.referential"}
    assert "gold.freshness" in every_suite
    assert gold_suites_validated(lake, "idle") == every_suite & run_checks

    # A raw id where a pseudonymous key belongs, on the same day: a critical gold failure.
    # The command a user runs says so in one line and exits 3 (QualityGateFailed's code);
    # every gold table keeps its Delta version and rows, and no watermark moves.
    append_silver(spark, silver, [row("track.play_start", 9, user_key="raw-user-42", track_id=TRACK)])
    env = dict(
        os.environ, EVENTLAKE_LAKE_URI=settings.lake_uri, EVENTLAKE_PSEUDONYM_SALT="test-salt",
        EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"), EVENTLAKE_SPARK_MASTER="local[2]",
        EVENTLAKE_LEASE_WAIT_SECONDS="60",
    )
    done = subprocess.run(
        [sys.executable, "-m", "eventlake.cli", "run", "gold", "--run-id", "bad-cli"],
        env=env, capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 3, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("eventlake run: gold quality gate failed") and "user_key_is_sha256_hex" in last
    assert "Traceback" not in done.stderr
    assert gold_state(lake) == before
    assert read_watermarks(spark, lake, "gold.") == marks

    # The bad row is removed: the next run redoes the pending work and publishes gold that
    # equals a recomputation from silver (the removal and the insert net out).
    spark.sql(f"DELETE FROM delta.`{silver}` WHERE user_key = 'raw-user-42'")
    run_layer(spark, settings, "gold", run_id="fixed")
    silver_now = spark.read.format("delta").load(silver)
    for name in ("user_activity_daily", "track_daily", "track_hourly", "daily_active_users"):
        table = GOLD_TABLES[name]
        stored = spark.read.format("delta").load(lake.gold(name).path)
        expected = table.compute(silver_now).select(*stored.columns)
        assert sorted(map(tuple, stored.collect()), key=repr) == sorted(
            map(tuple, expected.collect()), key=repr
        ), name
    assert read_watermarks(spark, lake, "gold.") != marks  # moved, now that it passed
