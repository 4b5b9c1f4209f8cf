"""The DAGs as Airflow's dag processor sees them: imports, structure, and operator promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p.stem for p in DAGS.glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():
    # Airflow puts the dags folder on sys.path for the DAG files; do the same.
    sys.path.insert(0, str(DAGS))
    try:
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=str(DAGS), safe_mode=False)
    finally:
        sys.path.remove(str(DAGS))


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert sorted(dagbag.dags) == ["eventlake_dsar_export", "eventlake_gdpr_erasure", "eventlake_kafka_ingest",
                                   "eventlake_maintenance", "eventlake_pipeline"]


def test_airflow_cli_local_parse_finds_no_import_errors(tmp_path):
    """`airflow dags list-import-errors --local`, the usual CI check, parses the DAG folder
    without putting it on sys.path: the DAGs' helper package must import on its own (it is
    installed with eventlake)."""
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHONPATH"))}
    env.update(
        AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'airflow.db'}",
    )

    def airflow(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv_bin / "airflow"), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    assert airflow("db", "migrate").returncode == 0
    listed = airflow("dags", "list-import-errors", "--local", "-o", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert json.loads(listed.stdout.strip().splitlines()[-1]) == []


def test_dag_id_is_the_file_name(dagbag):
    assert {dag.dag_id: Path(dag.fileloc).stem for dag in dagbag.dags.values()} == {
        name: name for name in DAG_FILES
    }


def test_no_cycles(dagbag):
    for dag in dagbag.dags.values():
        assert sorted(_kahn(dag)) == sorted(dag.task_ids)


def _kahn(dag) -> list[str]:
    indegree = {t.task_id: len(t.upstream_task_ids) for t in dag.tasks}
    ready = [tid for tid, n in indegree.items() if n == 0]
    order = []
    while ready:
        tid = ready.pop()
        order.append(tid)
        for child in dag.get_task(tid).downstream_task_ids:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    assert len(order) == len(dag.tasks), f"{dag.dag_id} has a cycle"
    return order


def test_tasks_retry_with_backoff_and_all_have_timeouts_and_callbacks(dagbag):
    # A quality gate inside a task fails it at once (exit 3, see the test below): bad data
    # stays bad on a retry. Everything else is retried: every job is idempotent.
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.retries >= 1, where
            assert task.retry_exponential_backoff, where
            assert task.execution_timeout is not None, where
            # The record in the lake, then the (opt-in) webhook alert.
            assert [getattr(c, "__name__", type(c).__name__) for c in task.on_failure_callback] == [
                "record_task_failure", "WebhookNotifier"], where


def test_every_dag_and_task_is_documented(dagbag):
    for dag in dagbag.dags.values():
        assert dag.doc_md and "failure" in dag.doc_md.lower(), dag.dag_id
        for task in dag.tasks:
            assert task.doc_md and "**On failure:**" in task.doc_md, f"{dag.dag_id}.{task.task_id}"


def test_pipeline_runs_one_at_a_time_without_catchup(dagbag):
    dag = dagbag.dags["eventlake_pipeline"]
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert set(dag.params) == {"from_date", "to_date"}


def test_every_task_of_every_dag_queues_in_the_one_slot_lake_pool(dagbag):
    common = _common()
    assert common.LAKE_POOL_SLOTS == 1
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.pool == common.LAKE_POOL == "eventlake_lake", f"{dag.dag_id}.{task.task_id}"
            assert task.pool_slots == 1


def test_default_schedules_never_start_the_pipeline_and_maintenance_together(dagbag, monkeypatch):
    from croniter import croniter

    pipeline = dagbag.dags["eventlake_pipeline"].timetable
    maintenance = dagbag.dags["eventlake_maintenance"].timetable
    assert dagbag.dags["eventlake_gdpr_erasure"].timetable.can_be_scheduled is False
    assert dagbag.dags["eventlake_dsar_export"].timetable.can_be_scheduled is False
    expressions = (pipeline.expression, maintenance.expression)
    assert str(pipeline.timezone) == str(maintenance.timezone) == "UTC"
    assert expressions == ("10 * * * *", "40 3 * * *")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    starts = []
    for expression in expressions:
        it = croniter(expression, start)
        starts.append({it.get_next(datetime) for _ in range(24 * 14)})
    pipeline_starts, maintenance_starts = starts
    assert len(maintenance_starts) == 24 * 14 and len(pipeline_starts) == 24 * 14
    assert not pipeline_starts & maintenance_starts
    # and not even within half an hour of each other
    for day_start in maintenance_starts:
        assert all(abs((day_start - p).total_seconds()) >= 30 * 60 for p in pipeline_starts)


def test_the_logical_time_template_renders_an_iso_utc_time(dagbag):
    import jinja2

    from eventlake.clock import parse_instant  # what the jobs' --as-of reads it with

    common = _common()
    template = jinja2.Environment().from_string(common.LOGICAL_TIME)
    end = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
    scheduled = template.render(data_interval_end=end, dag_run=SimpleNamespace(run_after=None))
    assert parse_instant(scheduled) == end
    after = datetime(2026, 11, 3, 11, 7, 30, tzinfo=UTC)
    manual = template.render(data_interval_end=None, dag_run=SimpleNamespace(run_after=after))
    assert parse_instant(manual) == after


@pytest.mark.unit
def test_a_quality_gate_exit_code_fails_the_task_without_retry():
    common = _common()
    hook_message = ("Cannot execute: spark-submit --master local[2] jobs/gold/validate_gold.py. "
                    "Error code is: {}.")
    assert common.is_quality_gate_failure(RuntimeError(hook_message.format(3)))
    for other in (1, 2, 30, 75, 137):
        assert not common.is_quality_gate_failure(RuntimeError(hook_message.format(other)))


def _common():
    sys.path.insert(0, str(DAGS))
    try:
        from eventlake_airflow import common
    finally:
        sys.path.remove(str(DAGS))
    return common


def test_pipeline_is_a_check_without_spark_then_one_spark_application(dagbag):
    dag = dagbag.dags["eventlake_pipeline"]
    assert sorted(dag.task_ids) == ["find_new_work", "run_pipeline"]
    check, run = dag.get_task("find_new_work"), dag.get_task("run_pipeline")
    assert type(check).__name__ == "ShortCircuitOperator"
    assert run.upstream_task_ids == {"find_new_work"}
    assert Path(run.application) == DAGS.parent / "jobs" / "pipeline" / "run_pipeline.py"
    as_of = ["--as-of", "{{ (data_interval_end or dag_run.run_after).isoformat() }}"]
    assert run.application_args == ["--run-id", "{{ run_id }}", *as_of]  # freshness runs
    assert run.range_flags == ("--from-date", "--to-date")


def test_gold_assets_are_every_gold_table_emitted_only_after_the_gold_audit(dagbag):
    from eventlake.gold.tables import GOLD_TABLES

    common = _common()
    assert sorted(common.GOLD_TABLES) == sorted(GOLD_TABLES)
    wanted = sorted(f"eventlake://gold/{t}" for t in GOLD_TABLES)
    pipeline, erasure = dagbag.dags["eventlake_pipeline"], dagbag.dags["eventlake_gdpr_erasure"]
    assert sorted(a.uri for a in pipeline.get_task("run_pipeline").outlets) == wanted
    gold = erasure.get_task("bring_gold_up_to_date")
    assert "--skip-quality" not in gold.application_args  # validated before it is committed
    assert sorted(a.uri for a in gold.outlets) == wanted
    assert gold.upstream_task_ids == {"erase_user_rows"}
    publishers = [f"{d.dag_id}.{t.task_id}" for d in dagbag.dags.values() for t in d.tasks if t.outlets]
    assert sorted(publishers) == ["eventlake_gdpr_erasure.bring_gold_up_to_date",
                                  "eventlake_pipeline.run_pipeline"]


@pytest.mark.unit
def test_find_new_work_runs_an_explicit_recompute_and_skips_an_idle_lake(tmp_path, monkeypatch):
    common = _common()
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    assert common.find_new_work({"from_date": None, "to_date": None}) is False  # empty lake
    assert common.find_new_work({"from_date": "2026-11-01", "to_date": "2026-11-02"}) is True
    landed = tmp_path / "lake/landing/events/event_date=2026-11-01/event_hour=00/a.jsonl"
    landed.parent.mkdir(parents=True)
    landed.write_text("{}\n")
    assert common.find_new_work({}) is True


@pytest.mark.unit
def test_a_backfill_run_recomputes_the_utc_days_of_its_data_interval(tmp_path, monkeypatch):
    from datetime import UTC, datetime, timedelta, timezone
    from types import SimpleNamespace

    common = _common()
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))  # an empty, idle lake

    def run(run_type, start, end):
        return {"dag_run": SimpleNamespace(run_type=run_type), "data_interval_start": start,
                "data_interval_end": end}

    day = datetime(2026, 11, 1, tzinfo=UTC)
    # A cron trigger timetable: the interval is the logical instant itself.
    assert common.interval_days(run("backfill", day, day)) == (day.date(), day.date())
    # A daily data interval [D, D+1) is day D alone; an hourly one, its hour's day.
    assert common.interval_days(run("backfill", day, day + timedelta(days=1))) == (day.date(), day.date())
    late = day + timedelta(hours=23)
    assert common.interval_days(run("backfill", late, late + timedelta(hours=1))) == (day.date(), day.date())
    # Given in another zone, the days are still UTC days.
    plus_ten = timezone(timedelta(hours=10))
    start = datetime(2026, 11, 2, 8, tzinfo=plus_ten)  # 2026-11-01 22:00 UTC
    assert common.interval_days(run("backfill", start, start + timedelta(hours=4))) == (
        day.date(), day.date() + timedelta(days=1))
    # find_new_work never skips a backfill run, even on an idle lake; a scheduled run it does.
    assert common.find_new_work({}, **run("backfill", day, day)) is True
    assert common.find_new_work({}, **run("scheduled", day, day)) is False
    assert common.is_backfill(run("backfill", day, day))
    assert not common.is_backfill(run("manual", day, day)) and not common.is_backfill({})


def test_every_spark_task_submits_an_existing_job(dagbag):
    root = DAGS.parent
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            if task.task_id in ("find_new_work", "land_kafka_records"):  # the tasks without Spark
                continue
            assert task._conn_id == "spark_default"
            assert Path(task.application).parent.parent == root / "jobs"
            assert Path(task.application).is_file(), task.application


def test_the_kafka_ingestion_runs_the_eventlake_command_and_starts_paused(dagbag):
    dag = dagbag.dags["eventlake_kafka_ingest"]
    assert [t.task_id for t in dag.tasks] == ["land_kafka_records"]
    assert dag.get_task("land_kafka_records").bash_command == "eventlake kafka"
    assert dag.is_paused_upon_creation is True and dag.catchup is False


def test_the_erasure_takes_the_user_id_from_conf_and_never_puts_it_on_the_command_line(dagbag):
    dag = dagbag.dags["eventlake_gdpr_erasure"]
    assert dag.timetable.can_be_scheduled is False  # manual trigger only
    erase = dag.get_task("erase_user_rows")
    assert erase.secret_env_params == {"EVENTLAKE_ERASE_USER_ID": "user_id"}
    assert "user_id" not in " ".join(erase.application_args)
    assert not erase.env_vars
    spec = dag.params.get_param("user_id").schema
    assert spec["type"] == "string" and spec["minLength"] == 1


def test_the_dsar_export_takes_the_user_id_from_conf_and_never_puts_it_on_the_command_line(dagbag):
    dag = dagbag.dags["eventlake_dsar_export"]
    assert dag.timetable.can_be_scheduled is False  # manual trigger only
    assert dag.max_active_runs == 1 and dag.catchup is False
    export = dag.get_task("export_user_data")
    assert export.secret_env_params == {"EVENTLAKE_DSAR_USER_ID": "user_id"}
    assert "user_id" not in " ".join(export.application_args)
    assert export.application_args == ["--request-id", "{{ params.request_id or run_id }}",
                                       "--output", "{{ params.output }}"]
    assert not export.env_vars and not export.outlets  # it changes no table a consumer reads
    assert Path(export.application) == DAGS.parent / "jobs" / "maintenance" / "export_user_data.py"
    for name in ("user_id", "output"):
        spec = dag.params.get_param(name).schema
        assert spec["type"] == "string" and spec["minLength"] == 1, name


def test_dag_files_do_not_import_spark():
    import subprocess

    code = (
        f"import sys; sys.path.insert(0, {str(DAGS)!r})\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"DagBag(dag_folder={str(DAGS)!r}, safe_mode=False)\n"
        "assert 'pyspark' not in sys.modules, 'a DAG file imported pyspark'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


@pytest.mark.unit
def test_date_range_arguments():
    sys.path.insert(0, str(DAGS))
    try:
        from airflow.sdk.exceptions import AirflowFailException
        from eventlake_airflow.common import range_arguments
    finally:
        sys.path.remove(str(DAGS))
    flags = ("--from-date", "--to-date")
    assert range_arguments(None, None, flags) == []
    assert range_arguments("2024-01-02", "2024-01-05", flags) == [
        "--from-date", "2024-01-02", "--to-date", "2024-01-05"]
    for bad in (("2024-01-05", "2024-01-02"), ("2024-01-05", None), ("yesterday", "2024-01-02")):
        with pytest.raises(AirflowFailException):
            range_arguments(*bad, flags)


@pytest.mark.unit
def test_failure_callback_records_what_failed_and_why_in_the_lake(tmp_path, monkeypatch, caplog):
    from types import SimpleNamespace

    from deltalake import DeltaTable

    sys.path.insert(0, str(DAGS))
    try:
        from eventlake_airflow.common import record_task_failure
    finally:
        sys.path.remove(str(DAGS))
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    # The context Airflow hands an on_failure_callback: the task instance and the exception.
    ti = SimpleNamespace(dag_id="eventlake_pipeline", task_id="clean_bronze_to_silver",
                         run_id="scheduled__2026-11-03T10:00:00+00:00", try_number=4,
                         log_url="http://127.0.0.1:8080/log")
    context = {"ti": ti, "exception": RuntimeError("Cannot execute: spark-submit ... Error code is: 3."),
               "logical_date": "2026-11-03T10:00:00+00:00"}

    with caplog.at_level("ERROR", logger="eventlake.airflow"):
        record_task_failure(context)
        record_task_failure(context | {"exception": None})

    rows = DeltaTable(str(tmp_path / "lake" / "_state" / "task_failures")).to_pyarrow_table().to_pylist()
    for row in rows:
        assert row.pop("failed_at") is not None
    rows.sort(key=lambda row: row["error_type"], reverse=True)  # Delta keeps no order
    assert rows == [
        {"dag_id": "eventlake_pipeline", "task_id": "clean_bronze_to_silver",
         "run_id": "scheduled__2026-11-03T10:00:00+00:00", "try_number": 4,
         "logical_date": "2026-11-03T10:00:00+00:00", "error_type": "RuntimeError",
         "error": "Cannot execute: spark-submit ... Error code is: 3.",
         "log_url": "http://127.0.0.1:8080/log"},
        {"dag_id": "eventlake_pipeline", "task_id": "clean_bronze_to_silver",
         "run_id": "scheduled__2026-11-03T10:00:00+00:00", "try_number": 4,
         "logical_date": "2026-11-03T10:00:00+00:00", "error_type": "", "error": "",
         "log_url": "http://127.0.0.1:8080/log"},
    ]
    assert "eventlake task failed" in caplog.text and "clean_bronze_to_silver" in caplog.text
