"""Compaction (OPTIMIZE, Z-order on the columns readers filter by) and VACUUM.

Small incremental runs leave many small files; OPTIMIZE rewrites them into few large ones.
Only recent partitions are Z-ordered each day (Z-order rewrites everything it touches), older
ones were clustered when they were recent. VACUUM then deletes files no table version within
the retention window needs; that is also when erased rows physically leave the storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import SparkSession

from eventlake.errors import UserError
from eventlake.lake import Lake
from eventlake.maintenance.policy import RECENT_DAYS, VACUUM_RETAIN_HOURS
from eventlake.maintenance.tables import MaintainedTable, lake_tables


@dataclass(frozen=True)
class CompactionResult:
    table: str
    zorder_by: tuple[str, ...]
    partition_filter: str | None
    files_removed: int
    files_added: int


def optimize_table(
    spark: SparkSession, maintained: MaintainedTable, *, as_of: date | None, recent_days: int | None
) -> CompactionResult:
    from delta.tables import DeltaTable

    builder = DeltaTable.forPath(spark, maintained.table.path).optimize()
    partition_filter = None
    if maintained.partition_column and as_of is not None and recent_days is not None:
        since = as_of - timedelta(days=recent_days)
        partition_filter = f"{maintained.partition_column} >= '{since.isoformat()}'"
        builder = builder.where(partition_filter)
    if maintained.zorder_by:
        metrics_df = builder.executeZOrderBy(*maintained.zorder_by)
    else:
        metrics_df = builder.executeCompaction()
    metrics = metrics_df.select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    assert metrics is not None  # OPTIMIZE answers with one row of metrics
    return CompactionResult(
        maintained.table.name,
        maintained.zorder_by,
        partition_filter,
        int(metrics[0] or 0),
        int(metrics[1] or 0),
    )


def optimize_tables(
    spark: SparkSession,
    lake: Lake,
    *,
    as_of: date | None = None,
    recent_days: int | None = RECENT_DAYS,
    only: set[str] | None = None,
) -> list[CompactionResult]:
    """Compact every lake table (or those named in `only`, e.g. {"silver.events"})."""
    return [
        optimize_table(spark, t, as_of=as_of, recent_days=recent_days)
        for t in _select(lake_tables(spark, lake), only)
    ]


def vacuum_tables(
    spark: SparkSession,
    lake: Lake,
    *,
    retain_hours: float = VACUUM_RETAIN_HOURS,
    only: set[str] | None = None,
) -> list[str]:
    """VACUUM every lake table; returns the names vacuumed."""
    from delta.tables import DeltaTable

    if retain_hours < VACUUM_RETAIN_HOURS:
        # Delta refuses a shorter window unless its safety check is off: a shorter window
        # can break running readers and change-feed consumers (gold reads silver's).
        spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    done = []
    for maintained in _select(lake_tables(spark, lake), only):
        DeltaTable.forPath(spark, maintained.table.path).vacuum(retain_hours)
        done.append(maintained.table.name)
    return done


def _select(tables: list[MaintainedTable], only: set[str] | None) -> list[MaintainedTable]:
    if only is None:
        return tables
    known = {t.table.name for t in tables}
    unknown = sorted(only - known)
    if unknown:
        raise UserError(
            f"no such lake table: {', '.join(unknown)} (existing: {', '.join(sorted(known))})"
        )
    return [t for t in tables if t.table.name in only]
