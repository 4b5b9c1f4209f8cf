"""Generated traffic through bronze and silver: reconciliation, reruns, late files, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.lake import Lake
from eventlake.silver.job import clean_silver
from eventlake.state import current_version

pytestmark = pytest.mark.e2e
TRAFFIC = dict(events=3000, days=2, start_date=date(2026, 11, 1), seed=11)
REPO = Path(__file__).resolve().parents[2]


def lake_settings(root: Path) -> Settings:
    return Settings.from_env(
        {"EVENTLAKE_LAKE_URI": str(root / "lakehouse"), "EVENTLAKE_PSEUDONYM_SALT": "e2e-salt"}
    )


def bronze_and_silver(spark, settings):
    return ingest_bronze(spark, settings), clean_silver(spark, settings)


def versions(spark, settings) -> tuple:
    lake = Lake.from_settings(settings)
    return tuple(
        current_version(spark, t.path)
        for t in (lake.bronze_events, lake.silver_events, lake.silver_quarantine)
    )


def comparable(spark, settings, table: str):
    """A table's content with what legitimately differs between two lakes taken out."""
    lake = Lake.from_settings(settings)
    df = spark.read.format("delta").load(getattr(lake, table).path).drop("ingested_at", "ingest_date")
    return df.withColumn("source_file", F.regexp_extract("source_file", r"(landing/.*)$", 1))


def test_generated_traffic_reconciles_with_what_was_generated(spark, tmp_path):
    settings = lake_settings(tmp_path)
    generated = generate_traffic(settings, **TRAFFIC)
    bronze, silver = bronze_and_silver(spark, settings)

    assert bronze.lines_ingested == generated.lines
    assert silver.reconciles
    assert silver.lines_read == generated.lines
    assert silver.silver_rows == generated.expected_silver
    assert silver.quarantine_by_reason == {k: v for k, v in generated.expected_quarantine.items() if v}
    assert silver.consent_dropped == generated.expected_consent_drops
    assert silver.duplicates == generated.expected_duplicates

    lake = Lake.from_settings(settings)
    events = spark.read.format("delta").load(lake.silver_events.path)
    assert events.count() == events.select("event_id").distinct().count() == generated.expected_silver
    quarantine = spark.read.format("delta").load(lake.silver_quarantine.path)
    assert quarantine.count() == silver.quarantined

    # A second run finds nothing new and writes no new version of any table.
    before = versions(spark, settings)
    again_bronze, again_silver = bronze_and_silver(spark, settings)
    assert (again_bronze.lines_ingested, again_silver.lines_read) == (0, 0)
    assert versions(spark, settings) == before


def test_late_files_in_a_later_run_give_the_tables_of_one_run(spark, tmp_path):
    in_two = lake_settings(tmp_path / "two-runs")
    generate_traffic(in_two, **TRAFFIC, phase="main")
    first = bronze_and_silver(spark, in_two)[1]
    generate_traffic(in_two, **TRAFFIC, phase="late")
    second = bronze_and_silver(spark, in_two)[1]
    assert first.reconciles and second.reconciles and second.lines_read > 0

    in_one = lake_settings(tmp_path / "one-run")
    generate_traffic(in_one, **TRAFFIC)
    bronze_and_silver(spark, in_one)

    for table in ("silver_events", "silver_quarantine"):
        assertDataFrameEqual(comparable(spark, in_two, table), comparable(spark, in_one, table))


def run_job_and_kill(script: str, settings: Settings, delta_log: Path, *extra: str) -> bool:
    """Start a job, kill -9 it right after its first commit to `delta_log`; True if killed."""
    # A killed job leaves its lake lease behind until it expires: a short TTL, so the next
    # job of the test waits seconds, not the default two minutes.
    env = dict(os.environ, EVENTLAKE_LAKE_URI=settings.lake_uri, EVENTLAKE_PSEUDONYM_SALT="e2e-salt",
               EVENTLAKE_SPARK_MASTER="local[1]", EVENTLAKE_LEASE_TTL_SECONDS="3")
    job = subprocess.Popen([sys.executable, str(REPO / script), *extra], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while job.poll() is None and time.monotonic() < deadline:
        if delta_log.exists() and any(delta_log.glob("*.json")):
            os.killpg(job.pid, signal.SIGKILL)
            job.wait()
            return True
        time.sleep(0.05)
    job.wait()
    return False


def test_jobs_killed_half_way_then_rerun_equal_one_clean_run(spark, tmp_path):
    killed = lake_settings(tmp_path / "killed")
    generated = generate_traffic(killed, **TRAFFIC)
    lake = Lake.from_settings(killed)
    assert run_job_and_kill("jobs/bronze/ingest_events.py", killed,
                            Path(lake.bronze_events.path) / "_delta_log", "--files-per-batch", "3")
    partial = spark.read.format("delta").load(lake.bronze_events.path).count()
    assert 0 < partial < generated.lines  # killed after some batches, before the last
    ingest_bronze(spark, killed)
    # Silver killed after its first table commit (quarantine or silver creation).
    run_job_and_kill("jobs/silver/clean_events.py", killed, Path(lake.silver_events.path) / "_delta_log")
    clean_silver(spark, killed)

    clean = lake_settings(tmp_path / "clean")
    generate_traffic(clean, **TRAFFIC)
    bronze_and_silver(spark, clean)

    for table in ("bronze_events", "silver_events", "silver_quarantine"):
        assertDataFrameEqual(comparable(spark, killed, table), comparable(spark, clean, table))
