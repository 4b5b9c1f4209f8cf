"""Incremental reads: how far each consumer has read its source Delta table.

A consumer (the silver job reading bronze, the gold job reading silver) records the source
table version it has fully processed in `_state/watermarks`, *after* its own output is
committed. A run killed in between simply reads the same versions again; every writer
downstream is idempotent (MERGE / replaceWhere), so the result equals one clean run.

Changes are read through Delta's change data feed, so late rows, updated rows (with their
old and new values) and deletes (GDPR erasure) all reach the consumer.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.lake import Lake

@dataclass(frozen=True)
class ChangeWindow:
    """The source versions a run covers: (after_version, up_to_version]."""

    after_version: int | None  # None: nothing read yet, start from a full snapshot
    up_to_version: int

    @property
    def is_empty(self) -> bool:
        return self.after_version is not None and self.after_version >= self.up_to_version


def delta_table_exists(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    return DeltaTable.isDeltaTable(spark, path)


def current_version(spark: SparkSession, path: str) -> int | None:
    """The newest committed version of a Delta table, or None if there is no table."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])


def read_watermarks(spark: SparkSession, lake: Lake, prefix: str = "") -> dict[str, int]:
    """Every consumer's watermark whose name starts with `prefix`, in one read."""
    path = lake.watermarks.path
    if not delta_table_exists(spark, path):
        return {}
    rows = (
        spark.read.format("delta").load(path)
        .where(F.col("consumer").startswith(prefix)).select("consumer", "version").collect()
    )
    return {row["consumer"]: int(row["version"]) for row in rows}


def read_watermark(spark: SparkSession, lake: Lake, consumer: str) -> int | None:
    return read_watermarks(spark, lake, consumer).get(consumer)


def commit_watermarks(
    spark: SparkSession, lake: Lake, versions: dict[str, int], source: str, *, attempts: int = 5
) -> None:
    """Move several consumers' watermarks in one MERGE.

    Jobs running side by side (the DAG's gold groups) commit to this one small table at
    the same moment; Delta then rejects all but one commit, so the others try again.
    """
    from delta.exceptions import DeltaConcurrentModificationException
    from delta.tables import DeltaTable

    if not versions:
        return
    path = lake.watermarks.path
    update = spark.createDataFrame(
        [(consumer, source, version) for consumer, version in sorted(versions.items())],
        "consumer STRING, source STRING, version LONG",
    ).withColumn("updated_at", F.current_timestamp())
    for attempt in range(1, attempts + 1):
        try:
            if not delta_table_exists(spark, path):
                update.write.format("delta").mode("append").save(path)
            else:
                (
                    DeltaTable.forPath(spark, path).alias("w")
                    .merge(update.alias("u"), "w.consumer = u.consumer")
                    .whenMatchedUpdateAll()
                    .whenNotMatchedInsertAll()
                    .execute()
                )
            return
        except DeltaConcurrentModificationException:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)


def commit_watermark(
    spark: SparkSession, lake: Lake, consumer: str, source: str, version: int
) -> None:
    commit_watermarks(spark, lake, {consumer: version}, source)


def change_window(spark: SparkSession, lake: Lake, consumer: str, source_path: str) -> ChangeWindow | None:
    """What a consumer has not read yet; None when the source table does not exist."""
    newest = current_version(spark, source_path)
    if newest is None:
        return None
    return ChangeWindow(read_watermark(spark, lake, consumer), newest)


def read_changes(
    spark: SparkSession, source_path: str, window: ChangeWindow, *, inserts_only: bool
) -> DataFrame:
    """Rows changed in the window, with `_change_type` ("insert", "update_preimage", ...).

    Without a watermark the whole snapshot at `up_to_version` counts as inserted.
    """
    if window.after_version is None:
        return (
            spark.read.format("delta").option("versionAsOf", window.up_to_version)
            .load(source_path).withColumn("_change_type", F.lit("insert"))
        )
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", window.after_version + 1)
        .option("endingVersion", window.up_to_version)
        .load(source_path)
        .drop("_commit_version", "_commit_timestamp")
    )
    if inserts_only:
        changes = changes.where(F.col("_change_type") == "insert")
    return changes


def record_run(spark: SparkSession, lake: Lake, job: str, run_id: str, summary: dict) -> None:
    """Append the run's reconciled counts to the run log (read by operators and the quality gate)."""
    (
        spark.createDataFrame(
            [(run_id, job, json.dumps(summary, default=str, sort_keys=True))],
            "run_id STRING, job STRING, summary STRING",
        )
        .select("run_id", "job", F.current_timestamp().alias("recorded_at"), "summary")
        .write.format("delta").mode("append").save(lake.run_log.path)
    )
