"""eventlake_maintenance: retention, compaction (OPTIMIZE + Z-order) and VACUUM, daily."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from eventlake.maintenance.policy import RECENT_DAYS, VACUUM_RETAIN_HOURS, RetentionPolicy
from eventlake_airflow.common import (
    START_DATE,
    LakeSparkSubmitOperator,
    default_args,
    job,
    schedule_from_env,
)


MAINTENANCE_SCHEDULE = "40 3 * * *"
RETENTION = RetentionPolicy()  # the defaults the jobs use too (eventlake.maintenance.policy)


def days(default: int, what: str) -> Param:
    return Param(default, type="integer", minimum=1, title=f"{what} retention (days)",
                 description=f"Partitions of {what} older than the run's date minus this are deleted.")


with DAG(
    dag_id="eventlake_maintenance",
    description="Retention (004 §8.3), compaction and VACUUM of the lake's Delta tables.",
    # 03:40 UTC: not at midnight with the hourly pipeline (which starts at ten past).
    schedule=schedule_from_env("EVENTLAKE_MAINTENANCE_SCHEDULE", MAINTENANCE_SCHEDULE),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=8),
    default_args=default_args(timeout=timedelta(hours=2)),
    params={
        "landing_days": days(RETENTION.landing_days, "landing files"),
        "bronze_days": days(RETENTION.bronze_days, "bronze.events"),
        "quarantine_days": days(RETENTION.quarantine_days, "silver.events_quarantine (raw lines, like bronze)"),
        "silver_days": days(RETENTION.silver_days, "silver.events"),
        "recent_days": Param(RECENT_DAYS, type="integer", minimum=0, title="Compact the last N days",
                             description="Partitioned tables: OPTIMIZE/Z-order only these recent partitions."),
        "vacuum_retain_hours": Param(VACUUM_RETAIN_HOURS, type="integer", minimum=0, title="VACUUM retention (hours)",
                                     description="Files younger than this are kept (time travel, lagging readers)."),
    },
    tags=["eventlake", "maintenance"],
    doc_md="""
### eventlake maintenance

Daily upkeep of the lake at 03:40 UTC (`EVENTLAKE_MAINTENANCE_SCHEDULE`), in the lake pool
with every other eventlake task (one writer at a time), in this order:

1. **apply_retention** — source 004 §8.3: landing files and `bronze.events` kept 90 days,
   `silver.events_quarantine` (raw lines) 90 days, `silver.events` 1 year, gold kept.
   Limits are the run's params; the reference day is the run's logical date (`ds`), so a
   rerun for the same day deletes exactly the same partitions.
2. **compact_tables** — Delta OPTIMIZE of every lake table; `silver.events` is Z-ordered by
   `event_name, user_key` (what gold builds and erasure filter on, besides the date).
3. **vacuum_tables** — deletes data files older than the VACUUM window that no current
   version needs. Erased and expired rows leave the storage here.

**On failure:** every step is idempotent; a lease held by a writer outside Airflow
(exit 75) is retried with backoff. Failures are logged and recorded in
`_state/task_failures`. Fix, then clear the failed task.
""",
) as dag:
    retention = LakeSparkSubmitOperator(
        task_id="apply_retention",
        application=job("maintenance", "apply_retention"),
        application_args=[
            "--as-of", "{{ ds }}",
            "--landing-days", "{{ params.landing_days }}",
            "--bronze-days", "{{ params.bronze_days }}",
            "--quarantine-days", "{{ params.quarantine_days }}",
            "--silver-days", "{{ params.silver_days }}",
        ],
        doc_md="""
Deletes partitions older than the retention limits: `landing/events/event_date=…` folders,
`bronze.events` and `silver.events_quarantine` by `ingest_date`, `silver.events` by
`event_date`. Gold is kept. Deletes are tagged `eventlake-retention` in the Delta commit so
gold does not mistake aged-out silver for a change. Prints what it removed.

**On failure:** nothing is half deleted (one Delta commit per table). Clear to rerun.
""",
    )
    compact = LakeSparkSubmitOperator(
        task_id="compact_tables",
        application=job("maintenance", "optimize_tables"),
        application_args=["--as-of", "{{ ds }}", "--recent-days", "{{ params.recent_days }}"],
        doc_md="""
OPTIMIZE (bin-packing) of bronze, quarantine, silver, every gold table and the lake's
bookkeeping tables; `silver.events` Z-ordered by `event_name, user_key`. Partitioned tables
are compacted over the last `recent_days` days only. Readers are never blocked.

**On failure:** a conflict with a concurrent delete is retried; otherwise clear to rerun.
""",
    )
    vacuum = LakeSparkSubmitOperator(
        task_id="vacuum_tables",
        application=job("maintenance", "vacuum_tables"),
        application_args=["--retain-hours", "{{ params.vacuum_retain_hours }}"],
        doc_md="""
VACUUM of every lake table: removes files that left the table more than
`vacuum_retain_hours` ago (default 168 h = Delta's default). This is when rows removed by
retention or GDPR erasure are physically deleted from storage.

**On failure:** safe to clear and rerun; nothing a current reader needs is removed.
""",
    )

    retention >> compact >> vacuum
