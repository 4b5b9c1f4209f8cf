"""Two `eventlake pipeline` processes started together on one local lake.

The lake's lease lets one write while the other waits (then finds nothing new, without
starting Spark): the tables equal one run's, every landed line is in bronze once, and a
third writer that will not wait exits 75 with one line naming the holder.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lease import LEASE_PREFIX
from racelake import (
    EVENTLAKE,
    TABLES,
    finish,
    landed_lines,
    run_log,
    start_pipeline,
    table_rows,
    wait_for_lease,
)
from process_output import failure_excerpt
from short_lived import SHORT_LIVED_JVM_ENV

pytestmark = pytest.mark.e2e


def lake_env(root: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLAKE_")}
    env.update(
        EVENTLAKE_LAKE_URI=str(root), EVENTLAKE_PSEUDONYM_SALT="race-salt",
        EVENTLAKE_SPARK_MASTER="local[2]", EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"),
        EVENTLAKE_IVY_DIR=os.environ.get("EVENTLAKE_IVY_DIR", ""),
        EVENTLAKE_SPARK_PARTITIONS=SHORT_LIVED_JVM_ENV["EVENTLAKE_SPARK_PARTITIONS"], **extra,
    )
    return {k: v for k, v in env.items() if v != ""}


def test_two_pipelines_started_together_give_the_tables_of_one_run(spark, tmp_path):
    import subprocess

    from eventlake.generate import generate_traffic
    from eventlake.pipeline import run_pipeline

    root = tmp_path / "race"
    # The second waits for a whole pipeline run: over 20 minutes on a loaded 2-core machine.
    env = lake_env(root, tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="3600")
    generate_traffic(Settings.from_env(env), events=400, days=1, start_date=date(2026, 11, 2), seed=5)
    landing = {str(p.relative_to(root)): p.read_bytes()
               for p in (root / "landing").rglob("*") if p.is_file() and not p.name.startswith(".")}
    # The reference: the same landed bytes, one run, in this process.
    reference = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path / "one"),
                                   "EVENTLAKE_PSEUDONYM_SALT": "race-salt"})
    shutil.copytree(root / "landing", tmp_path / "one" / "landing")

    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    racers = [start_pipeline(env, run_id, log) for run_id, log in zip(("race-a", "race-b"), logs)]
    try:
        lease_dir = root / LEASE_PREFIX
        wait_for_lease(lambda: os.listdir(lease_dir) if lease_dir.is_dir() else [], racers)
        impatient = subprocess.run(
            [*EVENTLAKE, "pipeline", "--skip-quality"], capture_output=True, text=True, timeout=300,
            env={**env, "EVENTLAKE_LEASE_WAIT_SECONDS": "0"},
        )
        run_pipeline(spark, reference, run_id="one", quality=False)
    finally:
        outputs = [finish(p, log, timeout=3300) for p, log in zip(racers, logs)]
    for racer, output in zip(racers, outputs):
        assert racer.returncode == 0, failure_excerpt(output)
    # exactly one of the two had to wait for the other
    assert sum("lease: waiting up to" in output for output in outputs) == 1, outputs
    assert impatient.returncode == 75
    last = impatient.stderr.strip().splitlines()[-1]
    assert last.startswith(f"eventlake pipeline: the lake {root} is being written by eventlake pipeline")
    assert "Traceback" not in impatient.stderr

    # No double ingestion, no lost commit: every landed line in bronze exactly once, and
    # every table equal to the one-run lake's.
    bronze = table_rows(str(root / "bronze/events"))
    assert sum(bronze.values()) == landed_lines(landing) == len(bronze)
    for table in TABLES + tuple(f"gold/{name}" for name in GOLD_TABLES):
        assert table_rows(str(root / table)) == table_rows(str(tmp_path / "one" / table)), table
    runs = [r for r in run_log(str(root / "_state/job_runs")) if r["job"] == "bronze"]
    # The one that waited found the other's work done from the lake's state alone and
    # started no Spark: one bronze run ingested every file.
    assert sorted(r["files_ingested"] for r in runs) == [len(landing)]
    assert sum("no Spark started" in output for output in outputs) == 1, outputs
