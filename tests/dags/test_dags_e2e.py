"""Real Airflow runs of the pipeline, the erasure and a backfill over a generated lake.

Slow (each Spark task is a spark-submit): the pipeline runs twice for the same logical date
(`airflow dags test`; the second finds nothing new and skips its Spark task), then the
erasure once, then `airflow backfill create` over two days, run by a real scheduler
(`airflow standalone`: scheduler, API server, DAG processor, LocalExecutor).
AIRFLOW_HOME, the SQLite database and the lake live in a temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from frames import assert_same_rows
from reaper import kill_group, reap_on_exit
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
        # Daily, so a backfill over two days is two runs (the hourly default would be 48).
        EVENTLAKE_PIPELINE_SCHEDULE="@daily",
        EVENTLAKE_LAKE_URI=str(root / "lakehouse"),
        EVENTLAKE_PSEUDONYM_SALT=SALT,
        EVENTLAKE_CATALOG_DIR=str(root / "catalog"),
        PYSPARK_PYTHON=sys.executable,
        # One lineage file for Airflow's OpenLineage provider (task runs) and the jobs
        # (eventlake.lineage: the layers), both configured by the client's own variables.
        OPENLINEAGE__TRANSPORT__TYPE="file",
        OPENLINEAGE__TRANSPORT__LOG_FILE_PATH=str(root / "lineage.jsonl"),
        OPENLINEAGE__TRANSPORT__APPEND="true",
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


@pytest.fixture(scope="module")
def pipeline_lake(airflow_env):
    from eventlake.generate.traffic import generate_traffic

    settings = lake_settings(airflow_env)
    # Three days: the backfill recomputes the first two and must leave the third alone.
    generate_traffic(settings, events=600, days=3, start_date=date(2026, 11, 1), seed=11)
    dag_test(airflow_env, "eventlake_pipeline")
    return settings


def test_pipeline_run_builds_every_gold_table_and_a_rerun_changes_nothing(
    spark, airflow_env, pipeline_lake
):
    from deltalake import DeltaTable

    from eventlake.gold.tables import GOLD_TABLES
    from eventlake.lake import Lake

    lake = Lake.from_settings(pipeline_lake)
    silver = spark.read.format("delta").load(lake.silver_events.path).cache()
    assert silver.count() > 0
    for name, table in GOLD_TABLES.items():
        gold = spark.read.format("delta").load(lake.gold(name).path)
        assert_same_rows(gold, table.compute(silver), name)
    silver.unpersist()

    def versions() -> dict[str, int]:
        return {name: DeltaTable(lake.gold(name).path).version() for name in GOLD_TABLES}

    before = versions()
    dag_test(airflow_env, "eventlake_pipeline")

    # Nothing new: the rerun skipped its Spark task (no second bronze run in the run log),
    # so no gold table got a new version, and a table at the same version holds the same
    # rows.
    assert versions() == before
    runs = spark.read.format("delta").load(lake.run_log.path).where("job = 'bronze'")
    assert runs.count() == 1


def test_the_pipeline_runs_lineage_hangs_the_layers_under_the_airflow_task_that_ran_them(
    airflow_env, pipeline_lake
):
    events = [json.loads(line) for line in
              (Path(airflow_env["AIRFLOW_HOME"]).parent / "lineage.jsonl").read_text().splitlines()]
    # Airflow's provider: each task run of the DAG's runs, START then COMPLETE.
    def task_runs(state):
        return {(e["job"]["name"], e["run"]["runId"]) for e in events
                if e["job"]["name"].startswith("eventlake_pipeline.") and e["eventType"] == state}

    started = task_runs("START")
    assert ("eventlake_pipeline.run_pipeline" in {name for name, _ in started}), started
    assert started <= task_runs("COMPLETE")

    # The jobs: each layer of the first run, a child of the Airflow task that submitted it.
    layers = {}
    for event in events:
        name = event["job"]["name"]
        if name.startswith("eventlake.") and event["eventType"] == "COMPLETE":
            layers.setdefault(name, event)
    assert set(layers) == {"eventlake.bronze", "eventlake.silver", "eventlake.gold"}
    for name, event in layers.items():
        parent = event["run"]["facets"]["parent"]
        assert (parent["job"]["name"], parent["run"]["runId"]) in started, name
        assert parent["job"]["name"] == "eventlake_pipeline.run_pipeline", name
        assert parent["root"]["job"]["name"] == "eventlake_pipeline", name

    # ... and their datasets make the landing -> bronze -> silver -> gold edges.
    def names(event, side):
        return {d["name"].rsplit("/", 2)[-2] + "/" + d["name"].rsplit("/", 1)[-1] for d in event[side]}

    assert names(layers["eventlake.bronze"], "inputs") == {"landing/events"}
    assert names(layers["eventlake.bronze"], "outputs") == {"bronze/events"}
    assert names(layers["eventlake.silver"], "inputs") == {"bronze/events"}
    assert "silver/events" in names(layers["eventlake.silver"], "outputs")
    assert names(layers["eventlake.gold"], "inputs") == {"silver/events"}
    assert {f"gold/{table}" for table in ("daily_kpis", "channel_performance")} <= names(
        layers["eventlake.gold"], "outputs")


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
    silver = spark.read.format("delta").load(silver_path).cache()  # read by every check below
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill_runs(env: dict[str, str], dag_id: str) -> dict[str, str]:
    """run_id -> state of a DAG's backfill runs, read from Airflow's own database."""
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        rows = connection.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? AND run_type = 'backfill'", (dag_id,)
        ).fetchall()
    return dict(rows)


BACKFILL_SECONDS = 1800


def test_a_backfill_recomputes_exactly_its_logical_dates_and_gold_equals_a_recomputation(
    spark, airflow_env, pipeline_lake
):
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from eventlake.gold.tables import GOLD_TABLES
    from eventlake.lake import Lake

    lake = Lake.from_settings(pipeline_lake)
    silver = spark.read.format("delta").load(lake.silver_events.path)
    days = sorted(r.event_date.isoformat() for r in silver.select("event_date").distinct().collect())
    assert days[:3] == ["2026-11-01", "2026-11-02", "2026-11-03"], days
    # A broken build lost every row of the daily tables; a backfill of 11-01..11-02 must
    # bring back exactly those days (and rebuild nothing else).
    daily = ("daily_active_users", "event_metrics_daily")
    for name in daily:
        DeltaTable.forPath(spark, lake.gold(name).path).delete()
    spark.catalog.clearCache()

    port = free_port()
    env = {
        **airflow_env,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    airflow(env, "pools", "set", "eventlake_lake", "1", "eventlake: one writer of the lake at a time")
    log_path = Path(env["AIRFLOW_HOME"]) / "standalone.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        standalone = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "standalone"], env=env, cwd=env["AIRFLOW_HOME"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    # Its own session: the watchdog stops it should pytest be SIGKILLed.
    with reap_on_exit(*kill_group(standalone.pid)):
        try:
            # The backfill needs the DAG's serialised form, which the DAG processor may store
            # only now: retried until it passes. Then unpause (a paused DAG's backfill runs stay
            # queued; `dags unpause` of a DAG not stored yet exits 0 and does nothing). The
            # scheduler then also starts today's scheduled run, which finds nothing new.
            for command in (["backfill", "create", "--dag-id", "eventlake_pipeline",
                             "--from-date", "2026-11-01", "--to-date", "2026-11-02"],
                            ["dags", "unpause", "eventlake_pipeline"]):
                while (tried := subprocess.run([str(VENV_BIN / "airflow"), *command], env=env,
                                               capture_output=True, text=True, timeout=300)).returncode != 0:
                    assert standalone.poll() is None, log_path.read_text()[-4000:]
                    assert time.monotonic() - started < 300, (command, tried.stderr[-3000:])
                    time.sleep(3)
            while True:
                runs = backfill_runs(env, "eventlake_pipeline")
                if len(runs) == 2 and set(runs.values()) <= {"success", "failed"}:
                    break
                assert standalone.poll() is None, log_path.read_text()[-4000:]
                assert time.monotonic() - started < BACKFILL_SECONDS, (runs, log_path.read_text()[-4000:])
                time.sleep(5)
        finally:
            # SIGINT is how Airflow's standalone stops its components; then nothing may be left.
            os.killpg(standalone.pid, signal.SIGINT)
            try:
                standalone.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(standalone.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            standalone.wait()
    print(f"airflow backfill of two days: {time.monotonic() - started:.0f} s")
    logs = Path(env["AIRFLOW_HOME"]) / "logs" / "dag_id=eventlake_pipeline"
    assert runs == {
        "backfill__2026-11-01T00:00:00+00:00": "success",
        "backfill__2026-11-02T00:00:00+00:00": "success",
    }, [p.read_text()[-3000:] for p in logs.rglob("run_id=backfill*/task_id=run_pipeline/*.log")]
    # Each run recomputed its own logical date: the range came from the run, not from params.
    for day in ("2026-11-01", "2026-11-02"):
        [task_log] = (logs / f"run_id=backfill__{day}T00:00:00+00:00" / "task_id=run_pipeline").glob("*.log")
        assert f"--from-date {day} --to-date {day}" in task_log.read_text(), day

    silver = spark.read.format("delta").load(lake.silver_events.path).cache()  # read by every check below
    backfilled = F.col("event_date").isin("2026-11-01", "2026-11-02")
    for name, table in GOLD_TABLES.items():
        gold = spark.read.format("delta").load(lake.gold(name).path)
        recomputed = table.compute(silver)
        if name in daily:
            assert_same_rows(gold, recomputed.where(backfilled))
            assert recomputed.where(~backfilled).count() > 0  # 11-03 had rows, and stays lost
        else:
            assert_same_rows(gold, recomputed)
