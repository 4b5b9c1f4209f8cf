"""`eventlake pipeline` as a user runs it: every layer behind its quality gate."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.generate import generate_traffic
from process_output import failure_excerpt

pytestmark = pytest.mark.e2e


def pipeline(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
        EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"),
        EVENTLAKE_SPARK_MASTER="local[2]",
        **extra_env,
    )
    generate_traffic(Settings.from_env(env), events=1500, days=2, start_date=date(2026, 11, 1), seed=3)
    return subprocess.run(
        [sys.executable, "-m", "eventlake.cli", "pipeline", "--run-id", "test-run"],
        env=env, capture_output=True, text=True, timeout=1800,
    )


def test_pipeline_builds_every_layer_records_quality_and_builds_docs(tmp_path):
    result = pipeline(tmp_path)
    assert result.returncode == 0, failure_excerpt(result.stderr)
    lake = tmp_path / "lakehouse"
    for table in ("bronze/events", "silver/events", "silver/events_quarantine",
                  "gold/daily_kpis", "gold/event_metrics_weekly", "_quality/results"):
        assert (lake / table / "_delta_log").is_dir(), table
    assert (lake / "_quality/docs/index.html").is_file()
    assert "reconciles=True" in result.stdout
    # Spark's start-up and catalog warnings stay out of a default run (`-v` shows them).
    assert " WARN SparkContext:" not in result.stderr and " WARN ObjectStore:" not in result.stderr

    from deltalake import DeltaTable

    results = DeltaTable(str(lake / "_quality/results")).to_pyarrow_table().to_pylist()
    assert {r["layer"] for r in results} == {"bronze", "silver", "gold"}
    assert all(r["run_id"] == "test-run" for r in results)


def test_a_critical_failure_stops_the_pipeline_before_gold(tmp_path):
    # With a limit this strict, the generated malformed lines break bronze's critical
    # parse-failure share (the same limits as silver's quarantine share): the first gate.
    result = pipeline(tmp_path, EVENTLAKE_QUARANTINE_WARN_SHARE="0", EVENTLAKE_QUARANTINE_FAIL_SHARE="0.0001")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("eventlake pipeline: bronze quality gate failed"), last
    assert "parse_failure_share" in last
    assert "Traceback" not in result.stderr
    lake = tmp_path / "lakehouse"
    assert (lake / "bronze/events/_delta_log").is_dir()
    assert not (lake / "silver").exists() and not (lake / "gold").exists()
