"""eventlake_kafka_ingest: land 002's Kafka topic into the lake, up to its current end."""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from eventlake_airflow.common import START_DATE, default_args, schedule_from_env

# Every quarter hour, the last one five minutes before the hourly pipeline (ten past): an
# hour's records are in landing when the pipeline looks.
KAFKA_SCHEDULE = "5,20,35,50 * * * *"

with DAG(
    dag_id="eventlake_kafka_ingest",
    description="Read 002's Kafka topic up to its end; land 002 records, quarantine the rest; then commit offsets.",
    schedule=schedule_from_env("EVENTLAKE_KAFKA_SCHEDULE", KAFKA_SCHEDULE),
    start_date=START_DATE,
    catchup=False,  # the consumer group's offsets are the progress, not the logical date
    max_active_runs=1,
    is_paused_upon_creation=True,  # unpause once EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS is set
    dagrun_timeout=timedelta(hours=1),
    default_args=default_args(timeout=timedelta(minutes=45)),
    tags=["eventlake", "sources"],
    doc_md="""
### eventlake Kafka ingestion (source 002)

Every 15 minutes (`EVENTLAKE_KAFKA_SCHEDULE`; `none` for manual runs) one task runs
`eventlake kafka`: it joins the consumer group `EVENTLAKE_KAFKA_GROUP` (default `eventlake`)
on `EVENTLAKE_KAFKA_TOPIC` (default `analytics.events`) at `EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS`,
reads every record up to each partition's end as it was when the run started, lands 002's
records as envelopes under `landing/events/` (the pipeline takes them like the collector's),
puts records that are no 002 record into `bronze.kafka_quarantine` with their topic,
partition and offset, and commits the offsets only after both are durable. docs/kafka.md
maps every shape.

Paused when created: unpause it once the broker is configured.

**On failure:** clear the task. Offsets were not committed for what the failed run did not
make durable, so the rerun reads those records again; silver keeps one row per event id.
A record that cannot be read never fails the run: look in `bronze.kafka_quarantine`.
""",
) as dag:
    BashOperator(
        task_id="land_kafka_records",
        bash_command="eventlake kafka",
        doc_md="""
`eventlake kafka`: reads the topic up to its current end, lands envelopes, quarantines what
is no 002 record, commits offsets. Prints one JSON line: records, landed, quarantined,
files, records per second.

**On failure:** clear the task; it resumes from the last committed offsets.
""",
    )
