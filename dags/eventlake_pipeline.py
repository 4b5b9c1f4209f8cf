"""eventlake_pipeline: landing -> bronze -> silver -> gold, each layer behind its quality gate.

Two tasks: a check that starts no JVM, then one spark-submit for every layer (one JVM start
per run; docs/airflow.md has the measurements behind the choice)."""

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
    find_new_work_task,
    gold_assets,
    job,
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
into **silver** (or quarantined), every **gold** table refreshed, a Great Expectations gate
after each layer, and the tables registered in the catalog. Every job is incremental and
idempotent: rerunning a run, clearing a task or backfilling changes nothing that is
already right.

- **Two tasks.** `find_new_work` reads the lake's state without Spark; when nothing landed
  and every layer is up to date, `run_pipeline` is skipped and the run is done in
  seconds. Otherwise `run_pipeline` runs every layer in one Spark application (one JVM
  start instead of one per step); its log shows each layer's figures and warnings, and
  `_state/job_runs` keeps them.
- **Schedule:** hourly at ten past (`EVENTLAKE_PIPELINE_SCHEDULE` in the dag processor's
  environment: a cron, a preset, or `none`); maintenance runs daily at 03:40, so the two do
  not start together. Catch-up is off: one run processes everything new, however late it
  starts. `max_active_runs=1`, and every task of every eventlake DAG runs in the pool
  `{LAKE_POOL}` (one slot): one writer of the lake at a time.
- **Write, audit, publish:** bronze's gate runs before silver reads the batch; silver is
  audited before its watermark moves; gold is audited before any gold table is committed.
  The gold Assets are emitted only when `run_pipeline` succeeds. A failed quality gate
  (exit 3) is not retried.
- **Explicit recompute:** trigger with `from_date`/`to_date` (YYYY-MM-DD) to make silver
  reprocess those bronze ingest dates and gold rebuild those event dates.
- **Backfill:** `airflow backfill create --dag-id eventlake_pipeline --from-date … --to-date …`
  (DAG unpaused): each backfill run recomputes the UTC day(s) of its data interval, as an
  explicit recompute of those days would; days outside the range are untouched. With the
  hourly schedule that is 24 runs a day: for many days prefer one run with
  `from_date`/`to_date` (docs/airflow.md, "Runbooks").
- **On failure:** `run_pipeline` retries 3 times with exponential backoff (a quality gate
  never); when it fails for good the failure is logged (`eventlake task failed {...}`) and
  recorded in the lake's `_state/task_failures` table. Read the task's log (the failing
  layer is the last one it names), fix the cause, then *Clear* the task: the layers that
  finished are found done and cost little.
- Gold tables are Assets (`eventlake://gold/<table>`): schedule BI refreshes on them.
""".replace("{LAKE_POOL}", LAKE_POOL),
) as dag:
    find_work = find_new_work_task()
    run = LakeSparkSubmitOperator(
        task_id="run_pipeline",
        application=job("pipeline", "run_pipeline"),
        application_args=[*RUN_ID, *AS_OF],
        range_flags=("--from-date", "--to-date"),
        one_run=True,
        outlets=gold_assets(),
        doc_md="""
One Spark application for the whole run (`eventlake pipeline`):

1. every landing file not in bronze's ledger appended to `bronze.events`, byte for byte,
   exactly once; then the bronze suite on this run's lines;
2. the new bronze lines (or the bronze ingest dates of `from_date`/`to_date`) cleaned into
   `silver.events`, rejected lines into `silver.events_quarantine` with a reason; the
   silver suite runs **before** the bronze watermark moves;
3. every gold table brought up to date from silver's change feed (or the periods of
   `from_date`/`to_date`); the gold suites, freshness against the run's logical time
   included, validate the staged tables **before** any is committed;
4. the tables registered in the Spark catalog.

A layer with nothing to do (a backfill run finds no new landing file, and often no bronze
line ingested on its day) is skipped, gate included; the log says so in one line per
skipped layer.

**On failure:** the log names the layer that failed. Exit 3 is a critical quality failure
and is not retried: open Data Docs (`_quality/docs`) and `silver.events_quarantine` by
`reason`; a producer sending bad events is the usual cause. Exit 75: another writer held
the lake too long (retried). Other failures (storage, the Spark connection) retry; clear
the task once fixed: every layer is idempotent.
""",
    )

    find_work >> run
