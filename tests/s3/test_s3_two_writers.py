"""Two `eventlake pipeline` processes started together on one lake on the loopback S3 server.

`S3SingleDriverLogStore` is only safe for one driver: without the lease two drivers could
both commit the same `_delta_log` version. With it one writes, the other waits; the tables
equal one run's (a local run over the same landed bytes), every landed line is in bronze
once, and a writer that will not wait exits 75 with one line.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lease import LEASE_PREFIX

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from racelake import (  # noqa: E402
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

pytestmark = [pytest.mark.s3, pytest.mark.e2e]


def test_two_pipelines_on_s3_give_the_tables_of_one_run(spark, s3_lake, tmp_path):
    from eventlake.generate import generate_traffic
    from eventlake.pipeline import run_pipeline

    env = s3_lake.env(
        EVENTLAKE_LEASE_WAIT_SECONDS="3600", EVENTLAKE_SPARK_MASTER="local[2]"
    )
    generate_traffic(Settings.from_env(env), events=400, days=1, start_date=date(2026, 11, 2), seed=5)
    client, bucket, prefix = s3_lake.server.client(), s3_lake.server.bucket, s3_lake.prefix
    landing = {
        key[len(prefix) + 1:]: client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in s3_lake.server.keys(f"{prefix}/landing/events/")
    }
    assert landing
    one = tmp_path / "one"  # the reference: the same bytes, one local run, in this process
    for relative, body in landing.items():
        (one / relative).parent.mkdir(parents=True, exist_ok=True)
        (one / relative).write_bytes(body)

    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    racers = [start_pipeline(env, run_id, log) for run_id, log in zip(("race-a", "race-b"), logs)]
    try:
        wait_for_lease(
            lambda: [k.rsplit("/", 1)[1] for k in s3_lake.server.keys(f"{prefix}/{LEASE_PREFIX}/")],
            racers, seconds=300,
        )
        impatient = subprocess.run(
            [*EVENTLAKE, "pipeline", "--skip-quality"], capture_output=True, text=True, timeout=300,
            env={**env, "EVENTLAKE_LEASE_WAIT_SECONDS": "0"},
        )
        reference = Settings.from_env({"EVENTLAKE_LAKE_URI": str(one), "EVENTLAKE_PSEUDONYM_SALT": "s3-test-salt"})
        run_pipeline(spark, reference, run_id="one", quality=False)
    finally:
        outputs = [finish(p, log, timeout=3300) for p, log in zip(racers, logs)]
    for racer, output in zip(racers, outputs):
        assert racer.returncode == 0, failure_excerpt(output)
    assert sum("lease: waiting up to" in output for output in outputs) == 1, outputs
    assert impatient.returncode == 75, impatient.stderr[-3000:]
    last = impatient.stderr.strip().splitlines()[-1]
    assert last.startswith(f"eventlake pipeline: the lake {s3_lake.uri} is being written by")

    options = s3_lake.server.storage_options()
    bronze = table_rows(s3_lake.table_uri("bronze/events"), options)
    assert sum(bronze.values()) == landed_lines(landing) == len(bronze)
    for table in TABLES + tuple(f"gold/{name}" for name in GOLD_TABLES):
        assert table_rows(s3_lake.table_uri(table), options) == table_rows(str(one / table)), table
    runs = [r for r in run_log(s3_lake.table_uri("_state/job_runs"), options) if r["job"] == "bronze"]
    # The one that waited found the other's work done from the lake's state alone and
    # started no Spark: one bronze run ingested every file.
    assert sorted(r["files_ingested"] for r in runs) == [len(landing)]
    assert sum("no Spark started" in output for output in outputs) == 1, outputs
