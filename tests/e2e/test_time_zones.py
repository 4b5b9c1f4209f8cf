"""The same landing zone gives the same lake whatever time zone the jobs' processes run in.

Two `eventlake pipeline --skip-quality` processes run under TZ=Pacific/Kiritimati (+14, east
of +12) and TZ=America/Los_Angeles (-8 in November, west of -7) on copies of one generated
landing zone; the UTC reference runs the same layers in this process under TZ=UTC. Silver,
quarantine and every gold table must be identical, and bronze's `ingested_at` must be the
real UTC clock of its run (inside the run's wall-clock window) with `ingest_date` its UTC date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.gold.build import build_gold
from eventlake.gold.tables import GOLD_TABLES
from eventlake.silver.job import clean_silver
from process_output import failure_excerpt

pytestmark = pytest.mark.e2e
ZONES = ("Pacific/Kiritimati", "America/Los_Angeles")
SALT = "tz-salt"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def env_for(root: Path) -> dict[str, str]:
    return {
        "EVENTLAKE_LAKE_URI": str(root / "lakehouse"),
        "EVENTLAKE_CATALOG_DIR": str(root / "catalog"),
        "EVENTLAKE_PSEUDONYM_SALT": SALT,
    }


def comparable(spark, root: Path, table: str):
    """A table with what legitimately differs between two lakes taken out (their paths,
    their runs' ingestion time)."""
    df = spark.read.format("delta").load(f"{root}/lakehouse/{table}")
    if "source_file" in df.columns:
        df = df.withColumn("source_file", F.regexp_extract("source_file", r"(landing/.*)$", 1))
    return df.drop("ingested_at", "ingest_date")


@pytest.fixture(scope="module")
def zone_runs(spark, tmp_path_factory):
    base = tmp_path_factory.mktemp("zones")
    source = base / "generated"
    generate_traffic(
        Settings.from_env(env_for(source)), events=1000, days=2, start_date=date(2026, 11, 1), seed=17
    )
    roots = {zone: base / zone.replace("/", "_") for zone in ZONES + ("UTC",)}
    for root in roots.values():
        shutil.copytree(source / "lakehouse" / "landing", root / "lakehouse" / "landing")

    windows: dict[str, tuple[datetime, datetime]] = {}
    started = {}
    for zone in ZONES:  # both at once: two JVMs, one wait
        env = dict(os.environ, **env_for(roots[zone]), TZ=zone, EVENTLAKE_SPARK_MASTER="local[2]")
        start = datetime.now(timezone.utc)
        started[zone] = (start, subprocess.Popen(
            [sys.executable, "-m", "eventlake.cli", "pipeline", "--skip-quality", "--run-id", "tz"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    for zone, (start, process) in started.items():
        out, err = process.communicate(timeout=3000)
        windows[zone] = (start, datetime.now(timezone.utc))
        assert process.returncode == 0, f"{zone}:\n{failure_excerpt(err)}"

    # The UTC reference, in this process (its JVM runs in UTC) with a UTC Python zone.
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        settings = Settings.from_env(env_for(roots["UTC"]))
        start = datetime.now(timezone.utc)
        ingest_bronze(spark, settings)
        clean_silver(spark, settings)
        build_gold(spark, settings)
        windows["UTC"] = (start, datetime.now(timezone.utc))
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()
    return roots, windows


@pytest.mark.parametrize("zone", ZONES)
def test_silver_quarantine_and_gold_equal_the_utc_run(spark, zone_runs, zone):
    roots, _ = zone_runs
    tables = ["silver/events", "silver/events_quarantine"] + [f"gold/{name}" for name in GOLD_TABLES]
    for table in tables:
        expected = comparable(spark, roots["UTC"], table)
        assert expected.count() > 0 or table.startswith("gold/"), table
        assertDataFrameEqual(comparable(spark, roots[zone], table), expected, checkRowOrder=False)
    # Silver's own ingested_at is bronze's: the same instant per line, checked below.
    silver = spark.read.format("delta").load(f"{roots[zone]}/lakehouse/silver/events")
    assert silver.where(F.to_date("event_timestamp") != F.col("event_date")).count() == 0


@pytest.mark.parametrize("zone", ZONES + ("UTC",))
def test_bronze_ingested_at_is_the_runs_real_utc_clock(spark, zone_runs, zone):
    roots, windows = zone_runs
    bronze = spark.read.format("delta").load(f"{roots[zone]}/lakehouse/bronze/events")
    row = bronze.agg(
        F.min(F.unix_micros("ingested_at")).alias("first"),
        F.max(F.unix_micros("ingested_at")).alias("last"),
        F.count(F.lit(1)).alias("lines"),
        F.sum(F.when(F.col("ingest_date") != F.to_date("ingested_at"), 1).otherwise(0)).alias("wrong_dates"),
        F.collect_set(F.col("ingest_date").cast("string")).alias("dates"),
    ).first()
    first, last = (EPOCH + timedelta(microseconds=row[k]) for k in ("first", "last"))
    start, end = windows[zone]
    assert row.lines > 0
    assert start.replace(microsecond=0) <= first <= last <= end, (zone, first, last, start, end)
    assert row.wrong_dates == 0
    assert row.dates == [first.date().isoformat()] or set(row.dates) == {
        first.date().isoformat(), last.date().isoformat()
    }
