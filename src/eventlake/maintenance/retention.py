"""Retention (source 004 §8.3): landing and bronze 90 days, silver 1 year, gold kept.

A partition is removed when its date is older than `as_of - days`; the partition of
`as_of - days` itself is kept. `as_of` comes from the caller (the DAG's logical date), never
from a clock, so a rerun for the same day removes exactly the same partitions.

Deletes are tagged `eventlake-retention` in the Delta commit metadata: the gold build skips
those commits in silver's change feed (`gold.build._windows_without_retention`), so gold
keeps the periods silver no longer holds (contract §6; docs/privacy.md). Bronze's ingestion
ledger keeps the files whose rows age out here, so they are never ingested again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from eventlake.hadoop_files import hadoop_fs
from eventlake.lake import Lake, Table
from eventlake.maintenance.policy import RetentionPolicy
from eventlake.maintenance.tables import commit_metadata, list_children

RETENTION_COMMIT_TAG = "eventlake-retention"
_LANDING_PARTITION = re.compile(r"^event_date=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class RetentionResult:
    as_of: date
    landing_partitions_removed: tuple[str, ...]
    rows_removed: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "landing_partitions_removed": list(self.landing_partitions_removed),
            "rows_removed": dict(self.rows_removed),
        }


def cutoff(as_of: date, days: int) -> date:
    """The oldest date that is kept."""
    return as_of - timedelta(days=days)


_KEEP_FROM = re.compile(r"\bkeep_from=(\d{4}-\d{2}-\d{2})\b")


def kept_from(user_metadata: str | None) -> date | None:
    """The first date a retention commit kept, read from its tag (None for another commit,
    or a retention commit of an older version, whose tag did not record it)."""
    if not user_metadata or not user_metadata.startswith(RETENTION_COMMIT_TAG):
        return None
    found = _KEEP_FROM.search(user_metadata)
    return date.fromisoformat(found.group(1)) if found else None


def expire_delta_partitions(
    spark: SparkSession, table: Table, partition_column: str, keep_from: date, tag: str
) -> int:
    """Delete every row whose partition date is before `keep_from`; returns the rows removed."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, table.path):
        return 0
    old = F.col(partition_column) < F.lit(keep_from)
    removed = spark.read.format("delta").load(table.path).where(old).count()
    if removed:
        # A predicate on the partition column only: Delta drops whole files, no rewrite.
        # The tag records the first date kept: gold's explicit recomputes leave the periods
        # before it as they are (contract §6, gold keeps what silver no longer holds).
        with commit_metadata(spark, f"{tag} keep_from={keep_from.isoformat()}"):
            DeltaTable.forPath(spark, table.path).delete(old)
    return removed


def expire_landing_partitions(spark: SparkSession, landing_root: str, keep_from: date) -> list[str]:
    """Remove `event_date=D` folders of landing older than `keep_from`; returns their names."""
    fs, _ = hadoop_fs(spark, landing_root)
    removed = []
    for name in list_children(spark, landing_root):
        match = _LANDING_PARTITION.match(name)
        if match and date.fromisoformat(match.group(1)) < keep_from:
            _, partition = hadoop_fs(spark, f"{landing_root}/{name}")
            fs.delete(partition, True)
            removed.append(name)
    return removed


def apply_retention(
    spark: SparkSession, lake: Lake, as_of: date, policy: RetentionPolicy = RetentionPolicy()
) -> RetentionResult:
    from delta.tables import DeltaTable

    tag = f"{RETENTION_COMMIT_TAG} as_of={as_of.isoformat()}"
    rows = {
        lake.bronze_events.name: expire_delta_partitions(
            spark, lake.bronze_events, "ingest_date", cutoff(as_of, policy.bronze_days), tag
        ),
        lake.silver_quarantine.name: expire_delta_partitions(
            spark, lake.silver_quarantine, "ingest_date", cutoff(as_of, policy.quarantine_days), tag
        ),
        lake.silver_events.name: expire_delta_partitions(
            spark, lake.silver_events, "event_date", cutoff(as_of, policy.silver_days), tag
        ),
    }
    if DeltaTable.isDeltaTable(spark, lake.kafka_quarantine.path):  # raw Kafka values: bronze's limit
        rows[lake.kafka_quarantine.name] = expire_delta_partitions(
            spark, lake.kafka_quarantine, "quarantine_date", cutoff(as_of, policy.bronze_days), tag
        )
    landing = expire_landing_partitions(
        spark, lake.landing_events, cutoff(as_of, policy.landing_days)
    )
    return RetentionResult(as_of, tuple(landing), rows)
