"""Incremental reads: how far each consumer has read its source Delta table.

A consumer (the silver job reading bronze, the gold job reading silver) records the source
table version it has fully processed in its own object `_state/consumers/<consumer>.json`,
*after* its own output is committed and has passed its quality gate. A run killed in between simply reads the same versions again; every writer
downstream is idempotent (MERGE / replaceWhere), so the result equals one clean run.

Changes are read through Delta's change data feed, so late rows, updated rows (with their
old and new values) and deletes (GDPR erasure) all reach the consumer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.clock import utc_now
from eventlake.config import Settings
from eventlake.hadoop_files import hadoop_fs, read_file, write_file
from eventlake.lake import CONSUMER_STATE, Lake, append_by_delta_rs
from eventlake.lease import LocalStore


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


# --- the Delta log, read as files -----------------------------------------------------------
# A table's newest version, its newest commit's metrics and its description are a listing and
# one or two small JSON files of `_delta_log`. Delta's own answers (history(), DESCRIBE) run
# Spark jobs: about 0.5 s each on a busy 2-core machine, asked for every table of every run.
# The files are read through the session's Hadoop file system, so s3a lakes work alike.

_COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


def _log_path(path: str, name: str = "") -> str:
    return f"{path.rstrip('/')}/_delta_log" + (f"/{name}" if name else "")


def _read_log_file(spark: SparkSession, path: str, name: str) -> str | None:
    data = read_file(spark, _log_path(path, name))
    return None if data is None else data.decode("utf-8")


def current_version(spark: SparkSession, path: str) -> int | None:
    """The newest committed version of a Delta table, or None if there is no table."""
    fs, log_path = hadoop_fs(spark, _log_path(path))
    if not fs.exists(log_path):
        return None
    versions = [
        int(found.group(1))
        for status in fs.listStatus(log_path)
        if (found := _COMMIT_FILE.match(status.getPath().getName()))
    ]
    return max(versions, default=None)


def last_commit(spark: SparkSession, path: str) -> tuple[int, dict[str, Any]]:
    """The version and `commitInfo` (operation, operationMetrics, ...) of the table's newest
    commit. Ours when the caller holds the table's lease: one writer per table."""
    version = current_version(spark, path)
    if version is None:
        raise FileNotFoundError(f"no Delta table at {path}")
    text = _read_log_file(spark, path, f"{version:020d}.json") or ""
    for line in text.splitlines():
        action = json.loads(line) if line.strip() else {}
        if "commitInfo" in action:
            return version, action["commitInfo"]
    return version, {}


def stored_description(spark: SparkSession, path: str, version: int) -> str | None:
    """The table's description at `version`, from that version's checksum file, which Delta
    writes after each commit with the table's metadata in it. Without one (written by an
    older or another engine), Spark's DESCRIBE answers instead: for the *newest* version
    (DESCRIBE cannot time travel), which is what gold asks about right after its commit."""
    checksum = _read_log_file(spark, path, f"{version:020d}.crc")
    if checksum is not None:
        metadata = json.loads(checksum).get("metadata")
        if metadata is not None:
            description = metadata.get("description")
            return None if description is None else str(description)
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED delta.`{path}`").collect()
    return next((row["data_type"] for row in rows if row["col_name"] == "Comment"), None)


# One small JSON object per consumer: `_state/consumers/<consumer>.json`. Parallel jobs
# (the DAG's gold groups, a silver run beside a gold run) each write only their own
# consumers' objects, so no table or object is written by two tasks at once. Lakes from
# before this layout keep their old shared Delta table (`lake.watermarks`), read as a
# fallback for consumers that have no object yet.


class _ConsumerStore:
    """The consumer objects through the lake's own file system (local disk or s3a)."""

    def __init__(self, spark: SparkSession, lake: Lake):
        self.spark, self.root = spark, lake.path(CONSUMER_STATE)
        self.local = None if "://" in lake.root else LocalStore(lake.root)

    def names(self) -> list[str]:
        if self.local is not None:
            return self.local.names(CONSUMER_STATE)
        fs, folder = hadoop_fs(self.spark, self.root)
        if not fs.exists(folder):
            return []
        return sorted(status.getPath().getName() for status in fs.listStatus(folder) if status.isFile())

    def get(self, name: str) -> bytes | None:
        if self.local is not None:
            return self.local.get(f"{CONSUMER_STATE}/{name}")
        return read_file(self.spark, f"{self.root}/{name}")

    def put(self, name: str, data: bytes) -> None:
        if self.local is not None:  # temporary file + rename: never half written
            self.local.put(f"{CONSUMER_STATE}/{name}", data)
            return
        write_file(self.spark, f"{self.root}/{name}", data)  # an S3 object appears whole, on close


def read_watermarks(spark: SparkSession, lake: Lake, prefix: str = "") -> dict[str, int]:
    """Every consumer's watermark whose name starts with `prefix`."""
    store = _ConsumerStore(spark, lake)
    found: dict[str, int] = {}
    for name in store.names():
        consumer = name.removesuffix(".json")
        if name.endswith(".json") and consumer.startswith(prefix):
            data = store.get(name)
            if data:
                found[consumer] = int(json.loads(data)["version"])
    return _legacy_watermarks(spark, lake, prefix) | found


def _legacy_watermarks(spark: SparkSession, lake: Lake, prefix: str) -> dict[str, int]:
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


def commit_watermarks(spark: SparkSession, lake: Lake, versions: dict[str, int], source: str) -> None:
    """Move consumers' watermarks: one object each, rewritten whole (atomic per consumer).

    Called only after the consumer's output is committed *and audited*: a run that fails its
    quality gate leaves the watermark where it was, so the next run redoes the work.
    """
    from eventlake.lease import ensure_held

    ensure_held(lake.root)  # a superseded holder must not move state
    store = _ConsumerStore(spark, lake)
    updated_at = datetime.now(UTC).isoformat()
    for consumer, version in sorted(versions.items()):
        record = {"consumer": consumer, "source": source, "version": int(version), "updated_at": updated_at}
        store.put(f"{consumer}.json", json.dumps(record, sort_keys=True).encode())


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


def record_run(spark: SparkSession, settings: Settings, job: str, run_id: str, summary: dict[str, Any]) -> None:
    """Append the run's reconciled counts to the run log (read by operators and the quality gate).

    One row, committed by delta-rs: tens of milliseconds, where Spark's append cost a job,
    a snapshot and a commit (1.5-3.4 s on a 1 M lake's run log, twice a run;
    docs/benchmarks.md). Spark appends it when delta-rs cannot."""
    import pyarrow as pa

    path = Lake.from_settings(settings).run_log.path
    row = {"run_id": run_id, "job": job, "recorded_at": utc_now(),
           "summary": json.dumps(summary, default=str, sort_keys=True)}
    schema = pa.schema([("run_id", pa.string()), ("job", pa.string()),
                        ("recorded_at", pa.timestamp("us", tz="UTC")), ("summary", pa.string())])
    # Created as Spark would have created it: with the lake's change data feed on.
    if not append_by_delta_rs(settings, path, pa.Table.from_pylist([row], schema=schema),
                              configuration={"delta.enableChangeDataFeed": "true"}):
        spark.createDataFrame([row], RUN_LOG_SCHEMA).write.format("delta").mode("append").save(path)


RUN_LOG_SCHEMA = "run_id STRING, job STRING, recorded_at TIMESTAMP, summary STRING"
