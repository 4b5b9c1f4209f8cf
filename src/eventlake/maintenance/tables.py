"""Which Delta tables maintenance looks after, and small helpers shared by its jobs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspark.sql import SparkSession

from eventlake.hadoop_files import hadoop_fs
from eventlake.lake import Lake, Table

# Where the erasure audit lives (kept for good: 004 §8.3 asks for audit logs to outlive data).
ERASURE_AUDIT = "_audit/erasures"
# One row per right-of-access export (eventlake.maintenance.dsar), kept like the erasures'.
DSAR_AUDIT = "_audit/dsar_exports"
# Where the Airflow failure callback records failed tasks (see docs/airflow.md).
TASK_FAILURES = "_state/task_failures"

# Delta writes this into each commit's `userMetadata`, so a commit made by maintenance can be
# told apart from pipeline writes (gold skips retention deletes; erasure counts its own rows).
COMMIT_METADATA_CONF = "spark.databricks.delta.commitInfo.userMetadata"


@dataclass(frozen=True)
class MaintainedTable:
    table: Table
    partition_column: str | None
    # Columns the readers filter by, beyond the partition column: OPTIMIZE clusters files on
    # them (Z-order) so those reads skip most files. Empty: plain bin-packing compaction.
    zorder_by: tuple[str, ...] = ()


def lake_tables(spark: SparkSession, lake: Lake) -> list[MaintainedTable]:
    """Every existing Delta table of the lake that maintenance compacts and vacuums."""
    from delta.tables import DeltaTable

    candidates = [
        MaintainedTable(lake.bronze_events, "ingest_date"),
        MaintainedTable(lake.silver_quarantine, "ingest_date"),
        # Gold jobs read silver by event_date (the partition) and event_name. Not by user_key:
        # Z-order needs file statistics, and no table keeps statistics on keys (an erased
        # key would outlive its rows in `_delta_log`; see schemas.PERSONAL_COLUMNS).
        MaintainedTable(lake.silver_events, "event_date", ("event_name",)),
    ]
    candidates += [
        MaintainedTable(lake.gold(name), None) for name in list_children(spark, lake.path("gold"))
    ]
    candidates += [MaintainedTable(lake.ingested_files, "landing_date"),
                   MaintainedTable(lake.erased_keys, None),
                   # The Kafka consumer's rejects keep raw values: erased rows must leave
                   # its files with VACUUM like bronze's.
                   MaintainedTable(lake.kafka_quarantine, "quarantine_date")]
    candidates += [
        MaintainedTable(Table(name, lake.path(rel)), None)
        for name, rel in (
            ("ops.watermarks", "_state/watermarks"),
            ("ops.job_runs", "_state/job_runs"),
            ("ops.task_failures", TASK_FAILURES),
            ("ops.quality_results", "_quality/results"),
            ("audit.erasures", ERASURE_AUDIT),
            ("audit.dsar_exports", DSAR_AUDIT),
        )
    ]
    return [t for t in candidates if DeltaTable.isDeltaTable(spark, t.table.path)]


def list_children(spark: SparkSession, path: str) -> list[str]:
    """Names of the directories directly under `path` (empty when it does not exist)."""
    fs, hadoop_path = hadoop_fs(spark, path)
    if not fs.exists(hadoop_path):
        return []
    return sorted(
        status.getPath().getName() for status in fs.listStatus(hadoop_path) if status.isDirectory()
    )


@contextmanager
def commit_metadata(spark: SparkSession, text: str) -> Iterator[None]:
    """Tag the Delta commits made inside the block with `text` (their `userMetadata`)."""
    previous = spark.conf.get(COMMIT_METADATA_CONF, None)
    spark.conf.set(COMMIT_METADATA_CONF, text)
    try:
        yield
    finally:
        if previous is None:
            spark.conf.unset(COMMIT_METADATA_CONF)
        else:
            spark.conf.set(COMMIT_METADATA_CONF, previous)
