"""Real Airflow runs (`airflow dags test`) of the pipeline and the erasure over a generated lake.

Slow (each Spark task is a spark-submit): the pipeline runs twice for the same logical date
(the second finds nothing new and skips its Spark task), then the erasure once.
AIRFLOW_HOME, the SQLite database and the lake live in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from frames import assert_same_rows
from short_lived import SHORT_LIVED_JVM_ENV

pytestmark = [pytest.mark.airflow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
LOGICAL_DATE = "2026-11-03"
SALT = "e2e-salt"


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("airflow-e2e")
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "EVENTLAKE_"))
    }
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{root / 'airflow' / 'airflow.db'}",
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": "local[2]"}),
        EVENTLAKE_LAKE_URI=str(root / "lakehouse"),
        EVENTLAKE_PSEUDONYM_SALT=SALT,
        EVENTLAKE_CATALOG_DIR=str(root / "catalog"),
        PYSPARK_PYTHON=sys.executable,
    )
    env.update(SHORT_LIVED_JVM_ENV)
    (root / "airflow").mkdir()
    airflow(env, "db", "migrate")
    return env


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(VENV_BIN / "airflow"), *args], env=env, cwd=env["AIRFLOW_HOME"],
        capture_output=True, text=True, timeout=3600,
    )
    # Kept whole beside the Airflow home: a task that failed and then passed on a retry
    # leaves its first attempt's log only here.
    with open(Path(env["AIRFLOW_HOME"]) / "cli.log", "a") as log:
        log.write(f"$ airflow {' '.join(args)}\n{result.stdout}\n{result.stderr}\n")
    assert result.returncode == 0, f"airflow {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def dag_test(env: dict[str, str], dag_id: str, *extra: str) -> float:
    started = time.monotonic()
    airflow(env, "dags", "test", dag_id, LOGICAL_DATE, *extra)
    elapsed = time.monotonic() - started
    listing = airflow(env, "dags", "list-runs", dag_id, "-o", "json").stdout
    # Airflow may print warning lines (e.g. no graphviz) before the JSON document.
    runs = json.loads(next(line for line in reversed(listing.splitlines()) if line.startswith("[{")))
    assert runs and {run["state"] for run in runs} == {"success"}, runs
    print(f"airflow dags test {dag_id}: {elapsed:.0f} s")
    return elapsed


def lake_settings(env: dict[str, str]) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("EVENTLAKE_")})


def snapshot(spark, path: str) -> list:
    return sorted(spark.read.format("delta").load(path).collect(), key=repr)


@pytest.fixture(scope="module")
def pipeline_lake(airflow_env):
    from eventlake.generate.traffic import generate_traffic

    settings = lake_settings(airflow_env)
    generate_traffic(settings, events=600, days=2, start_date=date(2026, 11, 1), seed=11)
    dag_test(airflow_env, "eventlake_pipeline")
    return settings


def test_pipeline_run_builds_every_gold_table_and_a_rerun_changes_nothing(
    spark, airflow_env, pipeline_lake
):
    from delta.tables import DeltaTable

    from eventlake.gold.tables import GOLD_TABLES
    from eventlake.lake import Lake

    lake = Lake.from_settings(pipeline_lake)
    silver = spark.read.format("delta").load(lake.silver_events.path)
    assert silver.count() > 0
    before = {}
    for name, table in GOLD_TABLES.items():
        gold = spark.read.format("delta").load(lake.gold(name).path)
        assert_same_rows(gold, table.compute(silver))
        before[name] = snapshot(spark, lake.gold(name).path)

    versions = {name: DeltaTable.forPath(spark, lake.gold(name).path).history(1).first()["version"]
                for name in GOLD_TABLES}
    dag_test(airflow_env, "eventlake_pipeline")

    for name in GOLD_TABLES:
        assert snapshot(spark, lake.gold(name).path) == before[name], name
    # Nothing new: the rerun skipped its Spark task (no second bronze run in the run log),
    # so no gold table got a new version either.
    assert versions == {name: DeltaTable.forPath(spark, lake.gold(name).path).history(1).first()["version"]
                        for name in GOLD_TABLES}
    runs = spark.read.format("delta").load(lake.run_log.path).where("job = 'bronze'")
    assert runs.count() == 1


def test_erasure_removes_a_user_everywhere_and_gold_equals_a_recomputation(
    spark, airflow_env, pipeline_lake
):
    from pyspark.sql import functions as F

    from eventlake.gold.tables import GOLD_TABLES
    from eventlake.lake import Lake
    from eventlake.maintenance.tables import ERASURE_AUDIT
    from eventlake.privacy import pseudonymous_key

    lake = Lake.from_settings(pipeline_lake)
    bronze = spark.read.format("delta").load(lake.bronze_events.path)
    # A user who watched something: present in bronze, silver and the per-user gold tables.
    user_id = (
        bronze.select(F.get_json_object("raw", "$.user_id").alias("u"),
                      F.get_json_object("raw", "$.event_name").alias("e"))
        .where((F.col("e") == "playback.started") & F.col("u").isNotNull())
        .groupBy("u").count().orderBy(F.desc("count"), "u").first()["u"]
    )
    user_key = pseudonymous_key(user_id, SALT)
    silver_path = lake.silver_events.path
    assert spark.read.format("delta").load(silver_path).where(F.col("user_key") == user_key).count()

    dag_test(airflow_env, "eventlake_gdpr_erasure", "-c",
             json.dumps({"user_id": user_id, "request_id": "dsar-42"}))

    bronze = spark.read.format("delta").load(lake.bronze_events.path)
    assert bronze.where(F.instr("raw", f'"{user_id}"') > 0).count() == 0
    quarantine = spark.read.format("delta").load(lake.silver_quarantine.path)
    assert quarantine.where(F.instr("raw", f'"{user_id}"') > 0).count() == 0
    silver = spark.read.format("delta").load(silver_path)
    assert silver.where(F.col("user_key") == user_key).count() == 0
    activity = spark.read.format("delta").load(lake.gold("user_activity_daily").path)
    assert activity.where(F.col("user_key") == user_key).count() == 0
    for name, table in GOLD_TABLES.items():
        assert_same_rows(spark.read.format("delta").load(lake.gold(name).path), table.compute(silver))

    audit = spark.read.format("delta").load(lake.path(ERASURE_AUDIT)).collect()
    from eventlake.maintenance.tombstone import key_hash

    # The audit keeps the key's hash, not the key (docs/privacy.md).
    assert [(a.request_id, a.key_hash) for a in audit] == [("dsar-42", key_hash(user_key))]
    assert audit[0].rows_removed["silver.events"] > 0
    assert audit[0].rows_removed["bronze.events"] >= audit[0].rows_removed["silver.events"]
    # The raw id reached no Airflow log and no Delta commit.
    logs = Path(airflow_env["AIRFLOW_HOME"]) / "logs"
    for path in [*logs.rglob("*"), *Path(lake.root).rglob("_delta_log/*.json")]:
        if path.is_file():
            assert user_id not in path.read_text(errors="replace"), path
