"""Silver's run counts are measured independently, so a lost row makes them disagree.

Each figure comes from its own source: the judged lines (read, quarantined, consent drops),
the frame after the in-run dedupe, the keys silver and quarantine held before the MERGEs,
and the MERGEs' own metrics. Expected values are counted by hand from the lines below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

import eventlake.silver.job as silver_job
from eventlake.bronze.ingest import ingest_bronze
from eventlake.errors import QualityGateFailed
from eventlake.quality import validate_layer
from eventlake.silver.job import clean_silver
from eventlake.state import CONSUMER_STATE

pytestmark = pytest.mark.unit


def event(event_id: str, timestamp: str, **overrides) -> str:
    body = {
        "event_id": event_id,
        "event_name": "playback.started",
        "event_timestamp": timestamp,
        "session_id": "s1",
        "user_id": "u1",
        "market": "US",
        "properties": {"content_id": "c1", "content_type": "vod", "start_time_ms": 800},
    } | overrides
    return json.dumps(body)


FIRST_FILE = [
    event("e1", "2026-11-01T10:00:05Z"),
    event("e1", "2026-11-01T10:00:09Z"),  # in-run duplicate: the later copy goes
    event("e2", "2026-11-01T10:00:01Z"),
    "{not json",  # MALFORMED_JSON
    event("q1", "2026-11-01T10:00:02Z", event_name="no.such_event"),  # UNKNOWN_EVENT_NAME
    event("c1", "2026-11-01T10:00:03Z", market="DE"),  # no consent object, EU default: dropped
]
SECOND_FILE = [
    event("e2", "2026-11-01T10:00:07Z"),  # cross-run duplicate, later: silver keeps its row
    event("e1", "2026-11-01T10:00:00Z"),  # cross-run duplicate, earlier: replaces silver's row
    event("e3", "2026-11-01T11:00:00Z"),  # new
]


def land(settings, name: str, lines: list[str]) -> None:
    folder = Path(settings.lake_root) / "landing/events/event_date=2026-11-01/event_hour=10"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(f"{line}\n" for line in lines))


def run_silver(spark, settings, name: str, lines: list[str]):
    land(settings, name, lines)
    ingest_bronze(spark, settings)
    return clean_silver(spark, settings)


def share_limits_off(settings):
    # These tiny runs quarantine a third of their lines; the share limits are not under test.
    return settings.with_overrides(quarantine_warn_share=1.0, quarantine_fail_share=1.0)


def measured(run) -> dict:
    keys = ("lines_read", "silver_rows", "quarantined", "consent_dropped", "duplicates",
            "in_run_duplicates", "cross_run_duplicates", "silver_replaced", "new_event_ids",
            "quarantine_written", "quarantine_present")
    return {key: getattr(run, key) for key in keys}


def test_each_count_is_measured_and_they_reconcile_over_two_runs(spark, settings, lake):
    first = run_silver(spark, settings, "a.jsonl", FIRST_FILE)
    assert measured(first) == {
        "lines_read": 6, "silver_rows": 2, "quarantined": 2, "consent_dropped": 1, "duplicates": 1,
        "in_run_duplicates": 1, "cross_run_duplicates": 0, "silver_replaced": 0, "new_event_ids": 2,
        "quarantine_written": 2, "quarantine_present": 0,
    }
    assert first.reconciles and first.rows_written_as_found

    second = run_silver(spark, settings, "b.jsonl", SECOND_FILE)
    assert measured(second) == {
        "lines_read": 3, "silver_rows": 1, "quarantined": 0, "consent_dropped": 0, "duplicates": 2,
        "in_run_duplicates": 0, "cross_run_duplicates": 2, "silver_replaced": 1, "new_event_ids": 1,
        "quarantine_written": 0, "quarantine_present": 0,
    }
    assert second.reconciles and second.rows_written_as_found

    silver = spark.read.format("delta").load(lake.silver_events.path)
    stored = dict(silver.select("event_id", F.date_format("event_timestamp", "HH:mm:ss")).collect())
    assert stored == {"e1": "10:00:00", "e2": "10:00:01", "e3": "11:00:00"}


def test_a_rerun_over_stored_rows_counts_them_as_present_not_written(spark, settings, lake):
    # What a run killed after its MERGEs but before its watermark sees again: every row is
    # already stored, nothing is written, and the counts still reconcile.
    land(settings, "a.jsonl", FIRST_FILE)
    ingest_bronze(spark, settings)
    clean_silver(spark, settings)
    # The watermark as it was before the run: the consumer's own state object is gone.
    (Path(lake.root) / CONSUMER_STATE / f"{silver_job.CONSUMER}.json").unlink()

    again = clean_silver(spark, settings)
    assert measured(again) == {
        "lines_read": 6, "silver_rows": 0, "quarantined": 2, "consent_dropped": 1, "duplicates": 3,
        "in_run_duplicates": 1, "cross_run_duplicates": 2, "silver_replaced": 0, "new_event_ids": 0,
        "quarantine_written": 0, "quarantine_present": 2,
    }
    assert again.reconciles and again.rows_written_as_found


def test_a_writer_that_loses_rows_fails_the_critical_expectations(spark, settings, lake, monkeypatch):
    real_merge = silver_job._merge

    def lossy_merge(spark, path, source, condition, *, earlier_wins):
        # A faulty writer: silently drops e2 from silver and q1 from quarantine.
        kept = source.where(~F.coalesce(F.col("event_id").isin("e2", "q1"), F.lit(False)))
        return real_merge(spark, path, kept, condition, earlier_wins=earlier_wins)

    monkeypatch.setattr(silver_job, "_merge", lossy_merge)
    run = run_silver(spark, settings, "a.jsonl", FIRST_FILE)
    assert (run.silver_rows, run.new_event_ids) == (1, 2)
    assert (run.quarantine_written, run.quarantine_present, run.quarantined) == (1, 0, 2)
    assert not run.reconciles and not run.rows_written_as_found

    report = validate_layer(spark, share_limits_off(settings), "silver", run_id="lossy", run_summary=run.as_dict())
    critical = {r.qualified_name for r in report.critical_failures}
    assert critical == {
        "silver.run.run_reconciles", "silver.run.silver_rows_written", "silver.run.quarantine_rows_written",
    }
    with pytest.raises(QualityGateFailed, match="silver_rows_written"):
        report.raise_for_critical()


def test_a_hand_built_summary_with_a_lost_row_fails_even_if_it_claims_to_reconcile(spark, settings, lake):
    # The expectations recompute the sums; the run's own flags are not trusted alone.
    run = run_silver(spark, settings, "a.jsonl", FIRST_FILE)
    summary = run.as_dict() | {"silver_rows": 1, "reconciles": True, "rows_written_as_found": True}

    report = validate_layer(spark, share_limits_off(settings), "silver", run_id="hand", run_summary=summary)
    critical = {r.qualified_name for r in report.critical_failures}
    assert critical == {"silver.run.run_reconciles", "silver.run.silver_rows_written"}
    warned = {r.qualified_name for r in report.warnings}
    assert "silver.run.run_rows_match_run_log" in warned  # 2 rows read back, 1 reported
