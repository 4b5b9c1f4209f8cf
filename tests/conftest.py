"""Shared fixtures: one SparkSession for the whole test session, fresh lakes per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.lake import Lake

# The JVMs the suite starts in subprocesses (`eventlake`, `spark-submit`, Airflow's tasks,
# spark-sql) live for a minute on a few thousand rows: C2's compilations and G1's concurrent
# threads cost more CPU than they ever pay back. C1 only and the serial collector cut a
# 1,500-event pipeline's JVM CPU from 240 s to 164 s at the same wall time (docs/benchmarks.md,
# "The test suite"). The spark-submit launcher adds SPARK_SUBMIT_OPTS to each driver JVM;
# children inherit it. Not the worker's own session (below): it lives for the whole run and
# ran its tests 20-100 % slower without C2.
SHORT_LIVED_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
os.environ.setdefault("SPARK_SUBMIT_OPTS", SHORT_LIVED_JVM_OPTIONS)
# Their heaps: a few thousand rows fit in spark-submit's 1g default (Airflow's tasks have
# always run with it); the 4g that `eventlake` asks for in local mode is sized for a million
# events. Up to six JVMs at once (two workers, each with subprocesses) must not add up to
# more than the machine has.
SHORT_LIVED_JVM_MEMORY = "1g"
os.environ.setdefault("SPARK_DRIVER_MEMORY", SHORT_LIVED_JVM_MEMORY)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One real Spark + Delta session (UI off, 2 shuffle partitions) for every test."""
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path_factory.mktemp("lake"))})
    # This JVM lives all run and runs most tests: full JIT and eventlake's own heap size.
    short_lived = {name: os.environ.pop(name, None) for name in ("SPARK_SUBMIT_OPTS", "SPARK_DRIVER_MEMORY")}
    try:
        session = _session(settings)
    finally:
        os.environ.update({name: value for name, value in short_lived.items() if value is not None})
    yield session
    session.stop()


def _session(settings: Settings):
    from eventlake.spark import build_spark_session

    return build_spark_session(
        settings.with_overrides(spark_master="local[2]"),
        "eventlake-tests",
        extra_conf={
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.databricks.delta.snapshotPartitions": "2",
        },
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh local lake under the test's own temporary folder."""
    return Settings.from_env(
        {
            "EVENTLAKE_LAKE_URI": str(tmp_path / "lakehouse"),
            "EVENTLAKE_PSEUDONYM_SALT": "test-salt",
            "EVENTLAKE_SPOOL_DIR": str(tmp_path / "spool"),
            "EVENTLAKE_CATALOG_DIR": str(tmp_path / "catalog"),
        }
    )


@pytest.fixture
def lake(settings: Settings) -> Lake:
    return Lake.from_settings(settings)


@pytest.fixture
def local_zone():
    """Set this Python process's local time zone (TZ + tzset); the old one is restored after.

    Only the Python side moves (PySpark's datetime conversions follow it); the session's
    JVM keeps the zone it started with. Zones in other processes need a subprocess.
    """
    import os
    import time

    before = os.environ.get("TZ")

    def switch(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield switch
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()
