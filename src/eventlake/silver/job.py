"""The silver run: read what is new in bronze, apply the rules, write silver and quarantine.

Idempotent by construction: quarantine and silver are written with MERGEs that insert
only what is not there yet (and replace a silver row only by an earlier copy of the same
event), and the bronze watermark moves only after both are committed and the run passed
its quality gate (`audit`): a run that fails the gate is read and checked again by the
next run, so the gate keeps failing until someone acts. A run killed at any
point and rerun gives the tables of one clean run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from eventlake.catalog import needs_catalog
from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.lake import SILVER_CONSUMER, Lake
from eventlake.runs import SilverRun
from eventlake.maintenance.tombstone import without_erased_lines
from eventlake.schemas import BRONZE_EVENTS, SILVER_EVENTS, SILVER_QUARANTINE, stats_properties
from eventlake.spark import unpersist_after_listeners
from eventlake.silver.clean import (
    consented_events,
    dedupe_events,
    judge_lines,
    quarantine_rows,
    to_silver_events,
    valid_events,
)
from eventlake.state import (
    ChangeWindow,
    change_window,
    commit_watermark,
    current_version,
    delta_table_exists,
    last_commit,
    read_changes,
    record_run,
)

log = logging.getLogger(__name__)
CONSUMER = SILVER_CONSUMER


def ensure_table(spark: SparkSession, path: str, schema: StructType, partition_column: str) -> None:
    """Create an empty Delta table (with change data feed) if it does not exist yet; give an
    existing one the columns a newer eventlake added (at the end, nullable: old rows read null)."""
    if delta_table_exists(spark, path):
        present = set(spark.read.format("delta").load(path).columns)
        missing = [f for f in schema.fields if f.name not in present]
        if missing:
            added = ", ".join(f"{f.name} {f.dataType.simpleString()}" for f in missing)
            with needs_catalog(f"adding {added} to {path}"):
                spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({added})")
        return
    (
        spark.createDataFrame([], schema).write.format("delta").mode("append")
        .partitionBy(partition_column)
        .option("delta.enableChangeDataFeed", "true")
        .options(**stats_properties(schema, partition_column))  # no key or raw line in _delta_log
        .save(path)
    )


def _merge(
    spark: SparkSession, path: str, source: DataFrame, condition: str | Column, *, earlier_wins: bool
) -> dict[str, str]:
    from delta.tables import DeltaTable

    before = current_version(spark, path)  # ensure_table created it
    merge = DeltaTable.forPath(spark, path).alias("t").merge(source.alias("s"), condition)
    if earlier_wins:
        merge = merge.whenMatchedUpdateAll(condition="s.event_timestamp < t.event_timestamp")
    merge.whenNotMatchedInsertAll().execute()
    version, commit_info = last_commit(spark, path)
    # Only this MERGE's own commit counts: with nothing to write Delta may commit nothing,
    # and the newest entry is then an older run's.
    if version == before or commit_info.get("operation") != "MERGE":
        return {}
    return {name: str(value) for name, value in (commit_info.get("operationMetrics") or {}).items()}


def _count_stored(
    spark: SparkSession, path: str, rows: DataFrame, keys: tuple[str, ...], within: Column | None = None
) -> tuple[int, int]:
    """(rows, how many of them the table already holds by `keys`), before they are merged.
    `within`: a condition on the stored rows every match satisfies, for Delta to skip files by."""
    stored = spark.read.format("delta").load(path)
    if within is not None:
        stored = stored.where(within)
    stored = stored.select(*keys).withColumn("_stored", F.lit(1))
    counted = rows.select(*keys).join(stored, list(keys), "left").agg(
        F.count(F.lit(1)).alias("rows"), F.count("_stored").alias("stored")
    ).first()
    assert counted is not None  # an aggregate without grouping is one row
    return int(counted["rows"]), int(counted["stored"])


def bronze_lines_to_clean(
    spark: SparkSession,
    lake: Lake,
    window: ChangeWindow | None,
    reprocess: tuple[date, date] | None,
    salt: str,
) -> DataFrame | None:
    """The bronze lines this run cleans, without any line of an erased user.

    From the change feed, a line counts only if it is still in bronze at the window's end:
    an insert whose row a later commit of the same window deleted (an erasure, retention)
    is dropped, or the erased line would be cleaned into silver after its erasure. The
    erasure tombstone is applied on top, to every run, so nothing erased comes back.
    """
    bronze = lake.bronze_events.path
    if reprocess is not None:
        start, end = reprocess
        lines = spark.read.format("delta").load(bronze).where(
            F.col("ingest_date").between(F.lit(start), F.lit(end))
        )
    elif window is None or window.is_empty:
        return None
    else:
        changes = read_changes(spark, bronze, window, inserts_only=False)
        line = ["source_file", "line_number"]  # a line's identity: each file is ingested once
        inserted = changes.where(F.col("_change_type") == "insert")
        deleted = changes.where(F.col("_change_type") == "delete").select(*line)
        lines = inserted.join(deleted, line, "left_anti").drop("_change_type")
    return without_erased_lines(spark, lake, lines, salt).select(*BRONZE_EVENTS.fieldNames())


def clean_silver(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str | None = None,
    reprocess_from: date | None = None,
    reprocess_to: date | None = None,
    audit: Callable[[SilverRun], None] | None = None,
) -> SilverRun:
    """Apply contract §5 to the bronze lines not processed yet (or to an explicit ingest-date
    range) and return the run's reconciled counts."""
    lake = Lake.from_settings(settings)
    run_id = run_id or uuid.uuid4().hex
    if (reprocess_from is None) != (reprocess_to is None):
        raise UserError("give both --reprocess-from and --reprocess-to, or neither")
    # Both or neither (checked above): testing reprocess_to as well only tells the type checker.
    if reprocess_from and reprocess_to and reprocess_from > reprocess_to:
        raise UserError("--reprocess-from is after --reprocess-to")
    reprocess = (reprocess_from, reprocess_to) if reprocess_from and reprocess_to else None

    # Two independent tables, checked (or created) at once: each is a Delta log read or a commit.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="silver-tables") as pool:
        list(pool.map(lambda table: ensure_table(spark, *table), [
            (lake.silver_events.path, SILVER_EVENTS, "event_date"),
            (lake.silver_quarantine.path, SILVER_QUARANTINE, "ingest_date"),
        ]))
    window = change_window(spark, lake, CONSUMER, lake.bronze_events.path)
    bronze = bronze_lines_to_clean(spark, lake, window, reprocess, settings.pseudonym_salt)
    if bronze is None:
        run = SilverRun(run_id, 0, 0, 0, 0, 0)
        record_run(spark, settings, "silver", run_id, run.as_dict())
        return run

    judged = judge_lines(bronze).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counts = {
            (row["reason"], row["consent_analytics"]): row["n"]
            for row in judged.groupBy("reason", "consent_analytics").agg(F.count("*").alias("n")).collect()
        }
        lines_read = sum(counts.values())
        by_reason: dict[str, int] = {}
        for (reason, _), n in counts.items():
            if reason is not None:
                by_reason[reason] = by_reason.get(reason, 0) + n
        consent_dropped = counts.get((None, False), 0)
        candidates = counts.get((None, True), 0)

        # Every figure below is measured on its own (the judged lines, the frame after the
        # in-run dedupe, the stored keys before each MERGE, the MERGEs' own metrics), so the
        # run's reconciliation can fail: a writer that loses or invents a row shows.
        quarantine_written = quarantine_present = 0
        if by_reason:
            quarantine = quarantine_rows(judged)
            quarantine_keys = ("ingest_date", "source_file", "line_number")
            _, quarantine_present = _count_stored(spark, lake.silver_quarantine.path, quarantine, quarantine_keys)
            metrics = _merge(
                spark,
                lake.silver_quarantine.path,
                quarantine,
                " AND ".join(f"t.{key} = s.{key}" for key in quarantine_keys),
                earlier_wins=False,
            )
            quarantine_written = int(metrics.get("numTargetRowsInserted", 0))
        silver_rows = silver_replaced = deduped = cross_run_duplicates = 0
        dates: tuple[str | None, str | None] = (None, None)
        if candidates:
            events = to_silver_events(
                dedupe_events(consented_events(valid_events(judged))), settings.pseudonym_salt
            )
            span = events.agg(
                F.min("event_date"), F.max("event_date"), F.min("event_id"), F.max("event_id")
            ).first()
            assert span is not None  # an aggregate without grouping is one row
            dates = (str(span[0]), str(span[1]))
            # A stored row can match only an id between the run's least and greatest. Time-
            # ordered ids (UUIDv7, the contract's recommendation) put an hour's ids in a
            # narrow range, and Delta skips every silver file whose event_ids lie outside it,
            # in the count and in the MERGE's search for matches; both read the whole
            # column before, a cost that grew with the lake rather than with the run.
            first_id, last_id = span[2], span[3]
            deduped, cross_run_duplicates = _count_stored(
                spark, lake.silver_events.path, events, ("event_id",),
                within=F.col("event_id").between(first_id, last_id),
            )
            metrics = _merge(
                spark, lake.silver_events.path, events,
                (F.col("t.event_id") == F.col("s.event_id")) & F.col("t.event_id").between(first_id, last_id),
                earlier_wins=True,
            )
            silver_rows = int(metrics.get("numTargetRowsInserted", 0))
            silver_replaced = int(metrics.get("numTargetRowsUpdated", 0))
    finally:
        unpersist_after_listeners(spark, judged)

    in_run_duplicates = candidates - deduped
    run = SilverRun(
        run_id=run_id,
        lines_read=lines_read,
        silver_rows=silver_rows,
        quarantined=sum(by_reason.values()),
        consent_dropped=consent_dropped,
        duplicates=in_run_duplicates + cross_run_duplicates,
        in_run_duplicates=in_run_duplicates,
        cross_run_duplicates=cross_run_duplicates,
        silver_replaced=silver_replaced,
        new_event_ids=deduped - cross_run_duplicates,
        quarantine_written=quarantine_written,
        quarantine_present=quarantine_present,
        quarantine_by_reason=dict(sorted(by_reason.items())),
        bronze_versions=(window.after_version, window.up_to_version) if window and not reprocess else None,
        min_event_date=dates[0],
        max_event_date=dates[1],
    )
    record_run(spark, settings, "silver", run_id, run.as_dict())
    if audit is not None:  # the quality gate; raising leaves the watermark where it was
        audit(run)
    if window is not None and reprocess is None:
        commit_watermark(spark, lake, CONSUMER, lake.bronze_events.name, window.up_to_version)
    log.info("silver: %s", run.as_dict())
    return run
