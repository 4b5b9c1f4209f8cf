"""eventlake_pipeline: landing -> bronze -> silver -> gold, each layer behind its quality gate."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from eventlake_airflow.common import (
    RUN_ID,
    START_DATE,
    LakeSparkSubmitOperator,
    default_args,
    gold_build_tasks,
    job,
    schedule_from_env,
)

with DAG(
    dag_id="eventlake_pipeline",
    description="Landing files to bronze, silver and gold Delta tables, with quality gates.",
    schedule=schedule_from_env("EVENTLAKE_PIPELINE_SCHEDULE", "@hourly"),
    start_date=START_DATE,
    catchup=False,
    # Two runs would write the same tables at once; one at a time, in order.
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(timeout=timedelta(hours=1)),
    params={
        "from_date": Param(
            None, type=["null", "string"], format="date",
            title="Recompute from (event/ingest date)",
            description="With to_date: silver reprocesses these bronze ingest dates and gold "
            "rebuilds these event dates. Empty: incremental run (everything new).",
        ),
        "to_date": Param(
            None, type=["null", "string"], format="date",
            title="Recompute to (inclusive)",
            description="Last date of the explicit range; give both dates or neither.",
        ),
    },
    tags=["eventlake", "pipeline"],
    doc_md="""
### eventlake pipeline

Brings the lake up to date: every new landing file into **bronze**, new bronze lines cleaned
into **silver** (or quarantined), every **gold** table refreshed, and a Great Expectations
gate after each layer. Every job is incremental and idempotent: rerunning a run, clearing a
task or backfilling changes nothing that is already right.

- **Schedule:** hourly (`EVENTLAKE_PIPELINE_SCHEDULE` in the dag processor's environment:
  a cron, a preset, or `none`). Catch-up is off: one run processes everything new, however
  late it starts. `max_active_runs=1`: two runs never write the same tables at once.
- **Explicit recompute:** trigger with `from_date`/`to_date` (YYYY-MM-DD) to make silver
  reprocess those bronze ingest dates and gold rebuild those event dates.
- **On failure:** each task retries 3 times with exponential backoff; when it fails for good
  the failure is logged (`eventlake task failed {...}`) and recorded in the lake's
  `_state/task_failures` table. Read the task's log, fix the cause, then *Clear* the failed
  task: it and everything downstream rerun safely.
- Gold tables are Assets (`eventlake://gold/<table>`): schedule BI refreshes on them.
""",
) as dag:
    ingest = LakeSparkSubmitOperator(
        task_id="ingest_landing_to_bronze",
        application=job("bronze", "ingest_events"),
        application_args=RUN_ID,
        doc_md="""
Reads every landing file (`landing/events/…/*.jsonl[.gz]`) not yet in bronze and appends its
lines, byte for byte, to `bronze.events` (Delta, by `ingest_date`). Exactly once: a file
already ingested is skipped, a killed run leaves nothing half written.

**On failure:** usually storage access (S3 credentials/endpoint) or the Spark connection
(`spark_default`). Fix, then clear this task.
""",
    )
    check_bronze = LakeSparkSubmitOperator(
        task_id="check_bronze_quality",
        application=job("bronze", "validate_bronze"),
        application_args=RUN_ID,
        doc_md="""
Runs the bronze expectation suite (Great Expectations) over the lines this run ingested and
writes the results to `_quality/results` and Data Docs (`_quality/docs`).

**On failure:** a critical expectation failed and nothing downstream ran. Open Data Docs,
find the bad landing files (`source_file`), fix the producer; clear the task to re-check.
""",
    )
    clean = LakeSparkSubmitOperator(
        task_id="clean_bronze_to_silver",
        application=job("silver", "clean_events"),
        application_args=RUN_ID,
        range_flags=("--reprocess-from", "--reprocess-to"),
        doc_md="""
Cleans the bronze lines not yet processed (or the bronze ingest dates of the run's
`from_date`/`to_date`) into `silver.events`: parsed, validated against the taxonomy, consent
applied, ids pseudonymised, de-duplicated by `event_id`. Rejected lines go to
`silver.events_quarantine` with a reason.

**On failure:** see the log's exception; a Delta concurrent-write conflict is retried
automatically. Clear the task after fixing; reruns are idempotent.
""",
    )
    check_silver = LakeSparkSubmitOperator(
        task_id="check_silver_quality",
        application=job("silver", "validate_silver"),
        application_args=RUN_ID,
        doc_md="""
Runs the silver expectation suite (unique `event_id`, no raw ids, quarantine share under the
threshold, reconciled counts) and writes `_quality/results` and Data Docs.

**On failure:** look at `silver.events_quarantine` by `reason` for this run's lines; a
producer sending bad events is the usual cause. Gold is not refreshed until this passes.
""",
    )
    build_gold = gold_build_tasks()
    check_gold = LakeSparkSubmitOperator(
        task_id="check_gold_quality",
        application=job("gold", "validate_gold"),
        application_args=RUN_ID,
        doc_md="""
Runs the gold expectation suites (grain unique, ratios in range, figures reconcile with
silver) and writes `_quality/results` and Data Docs.

**On failure:** a gold table disagrees with silver; rebuild it with an explicit
`from_date`/`to_date` run for the dates named in Data Docs.
""",
    )
    register = LakeSparkSubmitOperator(
        task_id="register_catalog_tables",
        application=job("catalog", "register_tables"),
        execution_timeout=timedelta(minutes=20),
        doc_md="""
Registers `bronze.events`, `silver.events`, `silver.events_quarantine` and `gold.*` in the
Spark catalog so `spark-sql -e 'SELECT … FROM gold.daily_kpis'` works. Idempotent.

**On failure:** with the embedded Derby metastore only one process may hold it: make sure
no `spark-sql` session is open on the catalog, then clear the task.
""",
    )

    ingest >> check_bronze >> clean >> check_silver >> build_gold >> check_gold >> register
