"""eventlake_pipeline: landing -> bronze -> silver -> gold, each layer behind its quality gate."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from eventlake_airflow.common import (
    AS_OF,
    LAKE_POOL,
    RUN_ID,
    START_DATE,
    LakeSparkSubmitOperator,
    default_args,
    gold_assets,
    gold_build_tasks,
    job,
    quality_gate,
    schedule_from_env,
)

# Ten past the hour: off the maintenance DAG's 03:40 and clear of the hour, when landing
# files of the previous hour are still being flushed.
PIPELINE_SCHEDULE = "10 * * * *"

with DAG(
    dag_id="eventlake_pipeline",
    description="Landing files to bronze, silver and gold Delta tables, with quality gates.",
    schedule=schedule_from_env("EVENTLAKE_PIPELINE_SCHEDULE", PIPELINE_SCHEDULE),
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

- **Schedule:** hourly at ten past (`EVENTLAKE_PIPELINE_SCHEDULE` in the dag processor's
  environment: a cron, a preset, or `none`); maintenance runs daily at 03:40, so the two do
  not start together. Catch-up is off: one run processes everything new, however late it
  starts. `max_active_runs=1`, and every task of every eventlake DAG runs in the pool
  `{LAKE_POOL}` (one slot): one writer of the lake at a time.
- **Write, audit, publish:** silver is audited before its watermark moves; each gold table
  is audited before it is committed; the gold Assets are emitted by `check_gold_quality`
  only. Quality gates are not retried (exit 3 fails the task at once).
- **Explicit recompute:** trigger with `from_date`/`to_date` (YYYY-MM-DD) to make silver
  reprocess those bronze ingest dates and gold rebuild those event dates.
- **On failure:** each writing task retries 3 times with exponential backoff (quality gates
  never); when it fails for good
  the failure is logged (`eventlake task failed {...}`) and recorded in the lake's
  `_state/task_failures` table. Read the task's log, fix the cause, then *Clear* the failed
  task: it and everything downstream rerun safely.
- Gold tables are Assets (`eventlake://gold/<table>`): schedule BI refreshes on them.
""".replace("{LAKE_POOL}", LAKE_POOL),
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
    check_bronze = quality_gate(
        task_id="check_bronze_quality",
        application=job("bronze", "validate_bronze"),
        application_args=[*RUN_ID, *AS_OF],
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
        application_args=[*RUN_ID, "--audit"],
        range_flags=("--reprocess-from", "--reprocess-to"),
        doc_md="""
Cleans the bronze lines not yet processed (or the bronze ingest dates of the run's
`from_date`/`to_date`) into `silver.events`: parsed, validated against the taxonomy, consent
applied, ids pseudonymised, de-duplicated by `event_id`. Rejected lines go to
`silver.events_quarantine` with a reason. Then the silver suite runs (`--audit`: unique
`event_id`, no raw ids, quarantine share under the threshold, reconciled counts; results in
`_quality/results` and Data Docs) **before** the bronze watermark moves: a run that fails
it is read and checked again by the next run, and gold is not built.

**On failure:** a critical quality failure (exit 3) is not retried: look at
`silver.events_quarantine` by `reason` for this run's lines; a producer sending bad events
is the usual cause. Other failures retry; reruns are idempotent.
""",
    )
    build_gold = gold_build_tasks()
    check_gold = quality_gate(
        task_id="check_gold_quality",
        application=job("gold", "validate_gold"),
        application_args=[*RUN_ID, *AS_OF],
        outlets=gold_assets(),
        doc_md="""
Runs every gold expectation suite on the published tables — grain unique, ratios in
range, figures reconcile with silver, and **freshness** against the run's logical time
(`--as-of`, the data interval's end) — and writes `_quality/results` and Data Docs. Emits
the gold Assets (`eventlake://gold/<table>`) only when it passes, so BI refreshes never
start on unaudited gold.

**On failure:** not retried (the data would not change). A gold table disagrees with
silver; rebuild it with an explicit `from_date`/`to_date` run for the dates named in Data
Docs.
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

    ingest >> check_bronze >> clean >> build_gold >> check_gold >> register
