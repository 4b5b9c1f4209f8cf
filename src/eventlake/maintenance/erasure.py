"""GDPR right to erasure (source 004 §8.4): remove one user's events from the lake.

- bronze.events and silver.events_quarantine keep raw lines: a line is the user's when its
  JSON `user_id` is the raw id, or when the quoted raw id appears in it (a malformed line
  that still carries it);
- silver.events holds the pseudonymous `user_key` only.
Gold follows on its own: it consumes silver's change data feed, so the next gold run
rebuilds exactly the partitions these deletes touched.

The raw id never reaches a log line, a Delta commit (deletes go through a MERGE whose source
row lives only in memory, so the commit records `s.raw_user_id`, not the value) or the audit
table, which keeps the request id, the pseudonymous key and the rows removed per table.
Rows leave the storage physically with the next VACUUM past the retention window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.lake import Lake, Table
from eventlake.maintenance.tables import ERASURE_AUDIT, commit_metadata
from eventlake.privacy import pseudonymous_key

ERASURE_COMMIT_TAG = "eventlake-erasure"
MAX_ID_LENGTH = 64  # contract §2
AUDIT_SCHEMA = (
    "request_id STRING, erased_at TIMESTAMP, user_key STRING, rows_removed MAP<STRING, BIGINT>"
)


@dataclass(frozen=True)
class ErasureResult:
    request_id: str
    user_key: str
    rows_removed: dict[str, int]

    def as_dict(self) -> dict:
        # Safe to print: no raw id in here.
        return {"request_id": self.request_id, "user_key": self.user_key,
                "rows_removed": dict(self.rows_removed)}


def validate_user_id(raw_user_id: str | None) -> str:
    if raw_user_id is None or not raw_user_id.strip():
        raise UserError("no user id to erase (set EVENTLAKE_ERASE_USER_ID)")
    if len(raw_user_id) > MAX_ID_LENGTH:
        raise UserError(f"the user id to erase is longer than {MAX_ID_LENGTH} characters")
    return raw_user_id


def raw_line_matches(raw: Column, target_id: Column) -> Column:
    """A raw bronze/quarantine line that belongs to the user `target_id`."""
    quoted = F.concat(F.lit('"'), target_id, F.lit('"'))
    return (F.get_json_object(raw, "$.user_id") == target_id) | (F.instr(raw, quoted) > 0)


def _delete_matching(
    spark: SparkSession, table: Table, source: DataFrame, condition: Column, tag: str
) -> None:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, table.path):
        return
    with commit_metadata(spark, tag):
        (
            DeltaTable.forPath(spark, table.path).alias("t")
            .merge(source.alias("s"), condition)
            .whenMatchedDelete()
            .execute()
        )


def rows_deleted_by(spark: SparkSession, table: Table, tag: str) -> int:
    """Rows deleted by every commit tagged `tag`: counts survive a crash and a rerun."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, table.path):
        return 0
    commits = (
        DeltaTable.forPath(spark, table.path).history()
        .where(F.col("userMetadata") == tag)
        .select(F.col("operationMetrics").getItem("numTargetRowsDeleted").alias("n"))
        .collect()
    )
    return sum(int(row.n or 0) for row in commits)


def erase_user(
    spark: SparkSession,
    settings: Settings,
    raw_user_id: str,
    *,
    request_id: str,
    erased_at: datetime,
) -> ErasureResult:
    """Delete the user's rows from bronze, quarantine and silver; record the audit row.

    Idempotent per request id: a rerun deletes nothing more and rewrites the same audit row.
    """
    raw_user_id = validate_user_id(raw_user_id)
    if not request_id:
        raise UserError("an erasure needs a request id for its audit record")
    lake = Lake.from_settings(settings)
    user_key = pseudonymous_key(raw_user_id, settings.pseudonym_salt)
    tag = f"{ERASURE_COMMIT_TAG} request_id={request_id}"
    target = spark.createDataFrame([(raw_user_id, user_key)], "raw_user_id STRING, user_key STRING")

    raw_condition = raw_line_matches(F.col("t.raw"), F.col("s.raw_user_id"))
    _delete_matching(spark, lake.bronze_events, target, raw_condition, tag)
    _delete_matching(spark, lake.silver_quarantine, target, raw_condition, tag)
    _delete_matching(
        spark, lake.silver_events, target, F.col("t.user_key") == F.col("s.user_key"), tag
    )
    rows = {
        table.name: rows_deleted_by(spark, table, tag)
        for table in (lake.bronze_events, lake.silver_quarantine, lake.silver_events)
    }
    result = ErasureResult(request_id, user_key, rows)
    write_audit(spark, lake, result, erased_at)
    return result


def write_audit(spark: SparkSession, lake: Lake, result: ErasureResult, erased_at: datetime) -> None:
    from delta.tables import DeltaTable

    path = lake.path(ERASURE_AUDIT)
    row = spark.createDataFrame(
        [(result.request_id, erased_at, result.user_key, result.rows_removed)], AUDIT_SCHEMA
    )
    if not DeltaTable.isDeltaTable(spark, path):
        row.write.format("delta").mode("append").save(path)
        return
    (
        DeltaTable.forPath(spark, path).alias("a")
        .merge(row.alias("r"), "a.request_id = r.request_id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def describe(result: ErasureResult) -> str:
    return json.dumps(result.as_dict(), sort_keys=True)
