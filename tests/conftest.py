"""Shared fixtures: one SparkSession for the whole test session, fresh lakes per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.lake import Lake
from short_lived import SHORT_LIVED_JVM_ENV

# The JVMs the tests start in subprocesses inherit these (tests/short_lived.py).
for _name, _value in SHORT_LIVED_JVM_ENV.items():
    os.environ.setdefault(_name, _value)


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
        settings.with_overrides(spark_master="local[2]", spark_partitions=2),
        "eventlake-tests",
        extra_conf={
            "spark.ui.enabled": "false",
            "spark.default.parallelism": "2",
            # The status store keeps 1,000 SQL executions (plans and metrics) and 1,000
            # jobs by default even with the UI off; a run-long session needs a few.
            "spark.sql.ui.retainedExecutions": "20",
            "spark.ui.retainedJobs": "50",
            "spark.ui.retainedStages": "50",
        },
    )


@pytest.fixture(autouse=True, scope="module")
def _release_spark_caches():
    """After each test file, drop what the worker's session keeps for the lakes it read.

    A worker's session serves hundreds of test lakes in one run: every Delta table read
    leaves its DeltaLog (with its snapshot's cached state) in Delta's process-wide cache,
    and every cached DataFrame stays cached until unpersisted. Nothing a finished test file
    made is read again, so keeping it only costs the next tests heap and GC time."""
    yield
    from pyspark.sql import SparkSession

    session = SparkSession._instantiatedSession  # the worker's session, if a test started it
    if session is not None:
        session.catalog.clearCache()
        session._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()


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
