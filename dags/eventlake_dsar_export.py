"""eventlake_dsar_export: export one user's data on request (GDPR right of access and portability)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Param
from eventlake_airflow.common import (
    START_DATE,
    LakeSparkSubmitOperator,
    default_args,
    job,
)

with DAG(
    dag_id="eventlake_dsar_export",
    description="Export one user's silver events, quarantined and bronze raw lines and per-user gold rows as one JSON document; audited.",
    schedule=None,  # manual trigger (or the API), one run per access request
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=default_args(timeout=timedelta(hours=1)),
    params={
        "user_id": Param(
            type="string", minLength=1, maxLength=64, title="Raw user id",
            description="The user's raw id (the token's sub). Never logged, never stored: "
            "the audit keeps only the sha256 of its pseudonymous key.",
        ),
        "output": Param(
            type="string", minLength=1, title="Where the document goes",
            description="A URI such as s3a://<compliance bucket>/dsar/<request id>.json, or a "
            "path on the Spark driver's machine. Not named after the raw id: the path is logged.",
        ),
        "request_id": Param(
            "", type="string", maxLength=128, title="Access request id",
            description="Your ticket / DSAR reference for the audit record; empty: this run's id.",
        ),
    },
    tags=["eventlake", "gdpr"],
    doc_md="""
### eventlake DSAR export

Trigger with conf `{"user_id": "<raw id>", "output": "s3a://…/dsar/<ticket>.json",
"request_id": "<ticket>"}` (source 004 §8.4, right of access and right to data
portability). It reads the lake and writes one JSON document; it changes no table but its
audit, and shares the lake pool with the pipeline, so it reads a lake no writer is changing.

**export_user_data** writes the document (docs/dsar.md has every field): the user's
`silver.events` rows (`user_key = sha256(user_id + salt)`), their lines in
`silver.events_quarantine` and `bronze.events` (JSON `user_id` equal to the id, or the
quoted id in a malformed line: the erasure's rule), and their rows of every gold table with
a `user_key` column. Then one row in `_audit/dsar_exports`: request id, time, sha256 of the
key, rows per section. Never the raw id nor the key in the audit or the logs: the id reaches
the job through an environment variable and is masked in every log line.

Lines landed since the last pipeline run are not in bronze yet: run the pipeline first when
the request must include the last hour.

**On failure:** a missing `user_id` or `output` fails at once; exit 2 (a folder that does
not exist, an id longer than 64 characters) needs new conf, not a retry; exit 75 (the lake
is busy) is retried. Rerunning is safe: the document is rewritten whole and each run adds
its own audit row. The document is the user's personal data: deliver it, then delete it
(an erasure does not reach it). Restrict who can view this DAG's runs: the run's conf shows
the raw id.
""",
) as dag:
    LakeSparkSubmitOperator(
        task_id="export_user_data",
        application=job("maintenance", "export_user_data"),
        application_args=[
            "--request-id", "{{ params.request_id or run_id }}",
            "--output", "{{ params.output }}",
        ],
        secret_env_params={"EVENTLAKE_DSAR_USER_ID": "user_id"},
        doc_md="""
Writes the user's data as one JSON document to the run's `output` (silver events,
quarantined and bronze raw lines, per-user gold rows), then the audit row to
`_audit/dsar_exports` (sha256 of the key, rows per section). The raw id comes from the
run's conf through the environment (`EVENTLAKE_DSAR_USER_ID`), never the command line.

**On failure:** exit 2 is a mistake in the conf (fix it and trigger again); otherwise clear
the task: the document is rewritten whole and the rerun adds its own audit row.
""",
    )
