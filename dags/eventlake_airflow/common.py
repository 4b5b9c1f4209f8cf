"""What every eventlake task shares: Spark submission, retries, timeouts, failure records."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Asset

from eventlake.gold import table_names
from eventlake_airflow.alerts import WebhookNotifier

log = logging.getLogger("eventlake.airflow")

# Every gold table, for the Assets the pipeline emits: the modules of eventlake.gold.tables,
# listed from their folder (importing the registry would import pyspark while the DAG parses).
GOLD_TABLES: tuple[str, ...] = table_names()

# The spark-submit entry points: beside dags/ in a checkout, elsewhere when deployed.
JOBS_DIR = Path(os.environ.get("EVENTLAKE_JOBS_DIR") or Path(__file__).resolve().parents[2] / "jobs")

START_DATE = datetime(2024, 1, 1, tzinfo=UTC)

# One writer at a time: every task of every eventlake DAG writes the lake (its tables,
# quality results, the catalog), so they all share one pool of one slot and queue in
# Airflow instead of colliding in the lake. Create it once per Airflow installation:
#   airflow pools set eventlake_lake 1 "eventlake: one writer of the lake at a time"
# (scripts/airflow-standalone.sh does). The jobs' own lease (eventlake.lease) is the
# guard behind it, for writers Airflow does not see (an operator's manual run).
LAKE_POOL = "eventlake_lake"
LAKE_POOL_SLOTS = 1
LAKE_POOL_DESCRIPTION = "eventlake: one writer of the lake at a time"
# Exit code of a job whose critical quality gate failed (eventlake.errors.QualityGateFailed):
# retrying cannot change the data, so the task fails at once.
QUALITY_GATE_EXIT_CODE = 3
# The run's logical time for freshness checks: the end of the data interval of a scheduled
# run, or when a manual / asset-triggered run was due.
LOGICAL_TIME = "{{ (data_interval_end or dag_run.run_after).isoformat() }}"
AS_OF = ["--as-of", LOGICAL_TIME]
SPARK_CONN_ID = "spark_default"
TASK_FAILURES_TABLE = "_state/task_failures"  # eventlake.maintenance.tables.TASK_FAILURES


def schedule_from_env(variable: str, default: str) -> str | None:
    """A DAG's schedule: cron or preset from the environment; "none" for manual runs only."""
    value = os.environ.get(variable, "").strip() or default
    return None if value.lower() == "none" else value


def gold_asset(table: str) -> Asset:
    """The Asset a gold table's build task updates; downstream DAGs schedule on it."""
    return Asset(name=f"gold.{table}", uri=f"eventlake://gold/{table}")


def default_args(*, timeout: timedelta) -> dict[str, Any]:
    return {
        "owner": "eventlake",
        # Every job is idempotent, so a retry (or a cleared task) is always safe; a lake
        # lease held by a writer outside Airflow (exit 75) is the usual transient failure.
        # Quality gates are not retried (`quality_gate`, QUALITY_GATE_EXIT_CODE).
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=20),
        "execution_timeout": timeout,
        # The record in the lake, then the alert (opt-in: the `eventlake_alerts` connection).
        "on_failure_callback": [record_task_failure, WebhookNotifier()],
        "pool": LAKE_POOL,
    }


def job(layer: str, name: str) -> str:
    return str(JOBS_DIR / layer / f"{name}.py")


class LakeSparkSubmitOperator(SparkSubmitOperator):
    """spark-submit of one eventlake job with the lake's Spark jars and settings.

    Jars (or, before they were resolved, packages) and conf come from `eventlake.spark.spark_submit_options` in the worker's
    environment, where the job itself reads its settings (EVENTLAKE_*), so the command and
    the job never disagree. `range_flags` names the job's two date-range options: when the
    run has `from_date`/`to_date` params, they are appended (explicit recompute).
    `secret_env_params` maps environment variables to run params that must never be
    rendered, logged or put on a command line (the raw user id of an erasure).
    `one_run`: the job is one pipeline run whose work follows its new data (landing files
    to ingest, what silver and gold have not read), so its driver JVM compiles with C1 only
    when that data is small and no range is recomputed,
    as `eventlake pipeline`'s does (eventlake.jvm_archive, docs/deployment.md).
    """

    def __init__(
        self,
        *,
        range_flags: tuple[str, str] | None = None,
        secret_env_params: dict[str, str] | None = None,
        one_run: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("conn_id", SPARK_CONN_ID)
        kwargs.setdefault("name", f"eventlake-{kwargs['task_id']}")
        super().__init__(**kwargs)
        self.range_flags = range_flags
        self.secret_env_params = secret_env_params or {}
        self.one_run = one_run

    def execute(self, context: Any) -> None:
        from eventlake.config import Settings
        from eventlake.spark import spark_submit_options

        options = spark_submit_options(Settings.from_env())
        # Jars resolved at setup when the worker has them (no Ivy, no network per task).
        self.jars = self.jars or str(options["jars"]) or None
        self.packages = self.packages or str(options["packages"]) or None
        self.conf = {**dict(options["conf"]), **(self.conf or {})}
        params = context["params"]
        self.application_args = list(self.application_args or [])
        first = last = None
        if self.range_flags:
            first, last = params.get("from_date"), params.get("to_date")
            if not (first or last) and is_backfill(context):
                first, last = (day.isoformat() for day in interval_days(context))
                log.info("eventlake: backfill run: recomputing %s..%s (its data interval)", first, last)
            self.application_args += range_arguments(first, last, self.range_flags)
        if self.one_run and not (first or last):
            from eventlake.jvm_archive import C1_ONLY, little_new_data

            if little_new_data(Settings.from_env()):
                # Most of a short run's CPU went to C2 compiling code used for seconds.
                java = "spark.driver.extraJavaOptions"
                self.conf[java] = f"{self.conf.get(java, '')} {C1_ONLY}".strip()
        if self.secret_env_params:
            from airflow.sdk.log import mask_secret

            secrets = {}
            for variable, param in self.secret_env_params.items():
                value = params.get(param)
                if not value:
                    raise AirflowFailException(f"the run's conf has no {param!r}")
                mask_secret(value)  # any log line that would contain it shows *** instead
                secrets[variable] = value
            # Set after template rendering: never stored with the rendered task fields.
            self.env_vars = {**(self.env_vars or {}), **secrets}
        lineage = lineage_parent_env(context)
        if lineage:
            self.env_vars = {**(self.env_vars or {}), **lineage}
        try:
            super().execute(context)
        except AirflowFailException:
            raise
        except Exception as error:
            tail = list(getattr(self._hook, "_last_submit_log_lines", None) or [])
            summary = failure_summary(self.task_id, error, tail)
            if is_quality_gate_failure(error):
                # Bad data stays bad on a retry: fail now, skip the remaining retries.
                raise AirflowFailException(summary) from error
            raise AirflowException(summary) from error


def lineage_parent_env(context: Any) -> dict[str, str]:
    """The task's OpenLineage run for the job it starts: with Airflow's OpenLineage provider
    installed, the layers' events (eventlake.lineage) name this task's run as their parent and
    the DAG run as their root, so a lineage server hangs them under the task that ran them.
    Nothing without the provider, or with OpenLineage off."""
    try:
        from airflow.providers.openlineage.conf import is_disabled
        from airflow.providers.openlineage.plugins.macros import lineage_parent_id, lineage_root_parent_id
    except ImportError:
        return {}
    if is_disabled():
        return {}
    task_instance = context["ti"]
    return {
        "OPENLINEAGE_PARENT_ID": lineage_parent_id(task_instance),
        "OPENLINEAGE_ROOT_PARENT_ID": lineage_root_parent_id(task_instance),
    }


# What an operator does about a job's exit code (the codes of README, "Exit codes").
WHAT_TO_DO = {
    2: "a usage or configuration mistake: fix the run's params or the worker's EVENTLAKE_* "
       "settings (`eventlake config`), then clear the task",
    QUALITY_GATE_EXIT_CODE: "bad data stays bad on a retry: read this run's rows in "
       "_quality/results or the Data Docs (_quality/docs/index.html), fix the data or the rule, "
       "then clear the task; nothing downstream ran and gold is unchanged",
    75: "another writer held the lake's lease past EVENTLAKE_LEASE_WAIT_SECONDS: the task "
        "retries; clear it once the other writer is done",
}
OTHER_FAILURE = "the task log has the job's output; every job is idempotent, so clearing the task is safe"
_SPARK_LOG_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d ")
_EXIT_CODE = re.compile(r"Error code is: (\d+)\.")


def failure_summary(task_id: str, error: BaseException, output_tail: list[str]) -> str:
    """The first line of a failed spark-submit task: what failed, the job's own last line
    (its one-line error) and what to do, instead of the provider's message, which starts
    with the whole spark-submit command line. The provider's message stays in the chain."""
    match = _EXIT_CODE.search(str(error))
    code = int(match.group(1)) if match else None
    said = next(
        (line.strip() for line in reversed(output_tail)
         if line.strip() and not _SPARK_LOG_LINE.match(line) and not line.startswith((" ", "\t"))),
        None,
    )
    what = f"{task_id} failed" + (f" (exit {code})" if code is not None else "")
    if said:
        what += f": {said}"
    elif code is None:
        what += f": {type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
    return f"{what}. What to do: {WHAT_TO_DO.get(code, OTHER_FAILURE)}."


def is_quality_gate_failure(error: BaseException) -> bool:
    """spark-submit exited with the quality gate's code (the hook says "Error code is: 3")."""
    return f"Error code is: {QUALITY_GATE_EXIT_CODE}." in str(error)


def quality_gate(**kwargs: Any) -> LakeSparkSubmitOperator:
    """A task whose job is a quality gate: never retried (a failure is about the data)."""
    kwargs["retries"] = 0
    return LakeSparkSubmitOperator(**kwargs)


def range_arguments(
    from_date: str | None, to_date: str | None, flags: tuple[str, str]
) -> list[str]:
    """The job arguments of an explicit date range, or none for an incremental run."""
    if not from_date and not to_date:
        return []
    if not (from_date and to_date):
        raise AirflowFailException("give both from_date and to_date, or neither")
    try:
        start, end = date.fromisoformat(from_date), date.fromisoformat(to_date)
    except ValueError:
        raise AirflowFailException(f"from_date/to_date must be YYYY-MM-DD: {from_date!r}, {to_date!r}") from None
    if start > end:
        raise AirflowFailException(f"from_date {start} is after to_date {end}")
    return [flags[0], start.isoformat(), flags[1], end.isoformat()]


def is_backfill(context: Any) -> bool:
    """A run created by `airflow backfill` (or the UI's backfill), not by the schedule."""
    run_type = getattr(context.get("dag_run"), "run_type", None)
    return str(getattr(run_type, "value", run_type)) == "backfill"


def interval_days(context: Any) -> tuple[date, date]:
    """The first and last UTC day of a run's data interval [start, end): what a backfill run
    of that logical date recomputes."""
    start, end = context["data_interval_start"], context["data_interval_end"]
    if start is None or end is None:
        raise AirflowFailException("a backfill run without a data interval: the DAG needs a time-based schedule")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    last = end - timedelta(microseconds=1) if end > start else end
    return start.date(), last.date()


def record_task_failure(context: Any) -> None:
    """Failure callback: one structured log line and a row in the lake's _state/task_failures.

    Runs once a task has failed for good (after its retries). The row lets an operator (or a
    query, a dashboard) see what failed, when and why without opening Airflow's logs.
    """
    record = failure_record(context)
    log.error("eventlake task failed %s", json.dumps(record, default=str, sort_keys=True))
    try:
        append_task_failure(record)
    except Exception:  # the failure is already logged; a lake outage must not hide it
        log.exception("could not record the task failure in %s", TASK_FAILURES_TABLE)


def failure_record(context: Any) -> dict[str, Any]:
    """What failed, when and why, from a failure callback's context."""
    ti = context["ti"]
    exception = context.get("exception")
    return {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": ti.run_id,
        "try_number": int(ti.try_number or 0),
        "logical_date": str(context.get("logical_date") or ""),
        "failed_at": datetime.now(UTC),  # the callback is the edge: its clock is the record's
        "error_type": type(exception).__name__ if exception else "",
        "error": (str(exception) if exception else "")[:2000],
        "log_url": getattr(ti, "log_url", None) or "",
    }


def append_task_failure(record: dict[str, Any]) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from eventlake.config import Settings
    from eventlake.lake import delta_location

    settings = Settings.from_env()
    uri, storage_options = delta_location(settings, f"{settings.lake_root}/{TASK_FAILURES_TABLE}")
    if settings.is_s3:  # delta-rs writes to S3 only with a lock or this (the lease is the lock)
        storage_options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
    schema = pa.schema([
        ("dag_id", pa.string()), ("task_id", pa.string()), ("run_id", pa.string()),
        ("try_number", pa.int64()), ("logical_date", pa.string()),
        ("failed_at", pa.timestamp("us", tz="UTC")), ("error_type", pa.string()),
        ("error", pa.string()), ("log_url", pa.string()),
    ])
    write_deltalake(uri, pa.Table.from_pylist([record], schema=schema), mode="append",
                    storage_options=storage_options)


RUN_ID = ["--run-id", "{{ run_id }}"]


def find_new_work(params: dict[str, Any] | None = None, **context: Any) -> bool:
    """The short-circuit before any Spark task: True when a run has work (or an explicit
    recompute was asked for, or it is a backfill run), False to skip the Spark tasks of an
    idle run.

    Reads the ingestion ledger, the consumers' watermarks and the Delta logs with delta-rs
    and boto3 (eventlake.pending): no JVM starts for an empty hour.
    """
    if params and (params.get("from_date") or params.get("to_date")):
        log.info("eventlake: explicit recompute %s..%s", params.get("from_date"), params.get("to_date"))
        return True
    if is_backfill(context):
        first, last = interval_days(context)
        log.info("eventlake: backfill run: %s..%s will be recomputed", first, last)
        return True
    from eventlake.config import Settings
    from eventlake.pending import pending_work

    pending = pending_work(Settings.from_env())
    log.info("eventlake: %s", pending.describe())
    return not pending.idle


def find_new_work_task(**kwargs: Any):
    """`find_new_work` as the DAG's first task (a ShortCircuitOperator, no Spark)."""
    from airflow.providers.standard.operators.python import ShortCircuitOperator

    return ShortCircuitOperator(
        task_id="find_new_work",
        python_callable=find_new_work,
        doc_md="""
Decides, without starting Spark, whether this run has anything to do: a landing file not in
bronze's ingestion ledger, a bronze version silver has not read, a bronze batch held by its
failed quality gate (validated again before silver; docs/quality.md), or a gold table behind
silver (or missing). When there is nothing, the Spark tasks after it are **skipped** and
the run succeeds in seconds. An explicit recompute (`from_date`/`to_date`) and a backfill
run (which recomputes the days of its data interval) always run.

**On failure:** the lake's storage could not be read (S3 endpoint, credentials, a missing
bucket): fix access and clear the task.
""",
        **kwargs,
    )


def gold_build_task(*, task_id: str = "bring_gold_up_to_date", **kwargs: Any) -> LakeSparkSubmitOperator:
    """One spark-submit that brings every gold table up to date, audited before commit.

    `eventlake run gold` under spark-submit: the staged tables are validated with the gold
    suites before anything is committed; the Assets are emitted by this task only, after its
    audit passed.
    """
    return LakeSparkSubmitOperator(
        task_id=task_id,
        application=job("gold", "build_gold"),
        application_args=[*RUN_ID, *AS_OF],  # audited: quality is on unless --skip-quality
        outlets=gold_assets(),
        doc_md="""
Brings every gold table up to date with silver: each reads silver's change data feed since
its own watermark (new events, late events, GDPR deletes) and recomputes exactly the
periods they touched. The new content of every table is **validated with the gold suites
before anything is committed**; then each table replaces those periods in one Delta
commit. Emits the gold Assets (`eventlake://gold/<table>`) only when it succeeds.

**On failure:** every table keeps its previous, consistent state (nothing is committed
before the audit passes, a watermark moves only after its table's commit). A critical
quality failure (exit 3) is not retried: read the suite's output in the log and Data Docs
(`_quality/docs`), fix silver or the suite, then clear the task.
""",
        **kwargs,
    )


def gold_assets() -> list[Asset]:
    """Every gold table's Asset: emitted only by a task whose gold audit passed."""
    return [gold_asset(table) for table in GOLD_TABLES]
