"""eventlake_gdpr_erasure: erase one user from the lake on request (GDPR right to erasure)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from eventlake_airflow.common import (
    START_DATE,
    LakeSparkSubmitOperator,
    default_args,
    gold_build_task,
    job,
)

with DAG(
    dag_id="eventlake_gdpr_erasure",
    description="Delete one user's events from landing, bronze, quarantine, silver and per-user gold; tombstone; audited.",
    schedule=None,  # manual trigger (or the API), one run per erasure request
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(timeout=timedelta(hours=1)),
    params={
        "user_id": Param(
            type="string", minLength=1, maxLength=64, title="Raw user id",
            description="The user's raw id (the token's sub). Never logged, never stored: "
            "the lake and the audit keep only its pseudonymous key.",
        ),
        "request_id": Param(
            "", type="string", maxLength=128, title="Erasure request id",
            description="Your ticket / DSAR reference for the audit record; empty: this run's id.",
        ),
    },
    tags=["eventlake", "gdpr"],
    doc_md="""
### eventlake GDPR erasure

Trigger with conf `{"user_id": "<raw id>", "request_id": "<ticket>"}` (source 004 §8.4).
Its tasks share the lake pool with the pipeline and maintenance: an erasure waits for a
running pipeline instead of writing beside it.

1. **erase_user_rows** records the tombstone (`_state/erased_keys`: sha256 of the key;
   every later silver run drops the user's lines), rewrites the landing files that hold the
   user's lines without them, and deletes the user's rows: raw lines in `bronze.events` and
   `silver.events_quarantine` (those whose JSON `user_id` is the id), `silver.events` rows
   with `user_key = sha256(user_id + salt)`, and rows of per-user gold tables. It writes
   the audit row to `_audit/erasures`: request id, time, sha256 of the key, rows removed per
   table. Never the raw id nor the key: the id reaches the job through an environment
   variable, is masked in every log, and is absent from Delta commits.
2. **bring_gold_up_to_date** rebuilds the gold periods the deleted silver rows touched
   (gold reads silver's change data feed), so gold equals a recomputation without the
   user; the gold suites check the new content before it is committed, and the gold
   Assets are emitted only then (BI refreshes see gold without the erased user).

Deleted rows leave the storage physically at the next VACUUM past its window
(`eventlake_maintenance`, 7 days by default): within the 30-day GDPR deadline. Landing is
rewritten at once; bronze's ingestion ledger keeps it from being ingested again.

**On failure:** rerun the same request (clear the task): the erasure is idempotent and
the audit row is rewritten with the same counts. Restrict who can view this DAG's runs:
the run's conf shows the raw id.
""",
) as dag:
    erase = LakeSparkSubmitOperator(
        task_id="erase_user_rows",
        application=job("maintenance", "erase_user"),
        application_args=["--request-id", "{{ params.request_id or run_id }}"],
        secret_env_params={"EVENTLAKE_ERASE_USER_ID": "user_id"},
        doc_md="""
Tombstones the user (`_state/erased_keys`), rewrites landing files without the user's lines,
deletes the user's rows from `bronze.events`, `silver.events_quarantine` (raw lines),
`silver.events` and per-user gold tables (pseudonymous key), and writes the audit row to
`_audit/erasures`. The raw
id comes from the run's conf through the environment (`EVENTLAKE_ERASE_USER_ID`).

**On failure:** clear the task; a rerun finishes the deletes and rewrites the audit row.
""",
    )
    build_gold = gold_build_task()

    erase >> build_gold
