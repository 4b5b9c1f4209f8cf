"""Bring gold tables up to date with silver, incrementally, one Delta transaction per table.

For each table a watermark consumer `gold.<table>` remembers the silver version it has
reflected. A run reads silver's change data feed since then (inserts, both images of
updates, deletes from GDPR erasure), turns the changed `event_date`s into the periods of
the table they can alter (`GoldTable.affected_periods`), recomputes exactly those periods
from silver at the run's version (one cached read of the silver days several tables need,
shared by their aggregates), and replaces them in one commit: delta-rs writes the few rows
of a period rebuild, Spark writes a whole table (and a rebuild too large to collect). The
watermark moves only after that commit, so a run killed in between is simply redone.
Periods that lost all their silver rows get no rows back, so gold always equals a full
recomputation from silver.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.catalog import needs_catalog, open_catalog
from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.gold import checked_table_names
from eventlake.gold.periods import date_predicate, describe
from eventlake.gold.tables import GOLD_TABLES, GoldTable
from eventlake.lake import CHECKPOINT_INTERVAL, Lake, checkpoint_when_due, delta_writer_location, gold_consumer, open_delta
from eventlake.quality.batches import StagedTable
from eventlake.schemas import stats_properties
from eventlake.spark import CONCURRENT_SMALL_JOBS, unpersist_after_listeners
from eventlake.state import (
    ChangeWindow,
    commit_watermarks,
    current_version,
    last_commit,
    read_changes,
    read_watermarks,
    stored_description,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable as DeltaRsTable
    from deltalake import Schema as DeltaSchema

log = logging.getLogger(__name__)

# A new table or a period rebuild of up to this many rows is collected to the driver and
# committed by delta-rs (`_Builder._create_table`, `_replace_periods`); a larger one (a
# long backfill on a cluster) is written by Spark's executors.
DELTA_RS_MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class GoldTableRun:
    table: str
    mode: str  # "full", "incremental", "range" (explicit dates) or "unchanged"
    periods: tuple[str, ...]  # periods rebuilt, as ranges ("2024-01-01..2024-01-07"); () for full
    period: str  # "day", "hour" (the hours of those days) or "week" (Mondays)
    rows_written: int
    silver_version: int | None  # silver version the table now reflects
    gold_version: int | None  # the table's Delta version after the run


@dataclass(frozen=True)
class GoldRun:
    run_id: str
    tables: tuple[GoldTableRun, ...]

    def table(self, name: str) -> GoldTableRun:
        return next(t for t in self.tables if t.table == name)

    @property
    def rows_written(self) -> int:
        return sum(t.rows_written for t in self.tables)

    def as_dict(self) -> dict[str, Any]:
        """The run's figures first (what `eventlake pipeline` prints), then each table's run."""
        changed = [t for t in self.tables if t.mode != "unchanged"]
        return {"tables_written": len(changed), "tables_unchanged": len(self.tables) - len(changed),
                "rows_written": self.rows_written, **asdict(self)}


def consumer_name(table: GoldTable) -> str:
    return gold_consumer(table.name)


def resolve_tables(names: Sequence[str] | None) -> list[GoldTable]:
    if not names:
        return list(GOLD_TABLES.values())
    wanted = set(checked_table_names(names))
    return [t for t in GOLD_TABLES.values() if t.name in wanted]


def build_gold(
    spark: SparkSession,
    settings: Settings,
    *,
    tables: list[str] | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    run_id: str | None = None,
    audit: Callable[[Mapping[str, StagedTable]], None] | None = None,
) -> GoldRun:
    """Bring the given gold tables (default: all) up to date with silver.

    With `from_date`/`to_date` the periods covering those days are recomputed whatever the
    watermarks say (a repair); the watermarks are left alone, so pending changes are still
    picked up by the next incremental run.

    Write, audit, publish: every table's new content is computed first (nothing committed)
    and handed to `audit` as `{"gold.<table>": StagedTable}`: the rows the commit will write,
    and the table as it will read after it.
    When `audit` raises (a critical quality failure) nothing is committed: every gold table
    keeps its Delta version and content, no watermark moves, and the next run redoes the
    work. Only after `audit` returns are the tables committed and the watermarks moved.
    """
    lake = Lake.from_settings(settings)
    run_id = run_id or uuid.uuid4().hex
    selected = resolve_tables(tables)
    if from_date and to_date and from_date > to_date:
        raise UserError(f"--from-date {from_date} is after --to-date {to_date}")
    silver_path = lake.silver_events.path
    silver_version = current_version(spark, silver_path)
    if silver_version is None:
        log.info("gold: no silver table at %s yet; nothing to build", silver_path)
        return GoldRun(run_id, tuple(
            GoldTableRun(t.name, "unchanged", (), t.period, 0, None, None) for t in selected
        ))
    builder = _Builder(spark, settings, lake, silver_path, silver_version)
    explicit = from_date is not None or to_date is not None

    def scope_one(table: GoldTable) -> GoldTableRun | _Scope:
        if explicit:
            return builder.range_scope(table, from_date, to_date)
        return builder.incremental_scope(table)

    # Tables are independent Delta tables: building a few at once keeps both cores busy
    # through each table's small jobs and commits.
    with ThreadPoolExecutor(max_workers=CONCURRENT_SMALL_JOBS, thread_name_prefix="gold") as pool:
        scopes = list(pool.map(scope_one, selected))
        whole = [s.table.name for s in scopes if isinstance(s, _Scope) and s.periods is None]
        if whole:
            # Before computing anything: when the catalog is busy, every whole-table build
            # would fail at its commit (each after Hive's own wait).
            more = f" and {len(whole) - 1} more tables" if len(whole) > 1 else ""
            open_catalog(spark, f"the whole-table build of gold.{whole[0]}{more}")
        staged: list[_Staged] = []
        try:
            # One read of the silver rows the run needs, cached, for every table's aggregate.
            builder.share_silver([s for s in scopes if isinstance(s, _Scope)])
            plans = list(pool.map(lambda s: builder.stage(s) if isinstance(s, _Scope) else s, scopes))
            staged = [p for p in plans if isinstance(p, _Staged)]
            # Computed once, validated, then written as validated. The tables' new rows
            # are computed here, a few tables at once, rather than one by one as the suites
            # read them (a 17-table audit spent most of its time there).
            materialised = dict(pool.map(builder.materialise, staged))
            if audit is not None:
                audit(materialised)
            results = list(pool.map(
                lambda p: builder.commit(p) if isinstance(p, _Staged) else p, plans
            ))
        finally:
            unpersist_after_listeners(spark, *(plan.rows for plan in staged), builder.release_silver())
    if not explicit:
        moved = {
            consumer_name(GOLD_TABLES[r.table]): r.silver_version
            for r in results
            if r.silver_version is not None and builder.watermarks.get(consumer_name(GOLD_TABLES[r.table])) != r.silver_version
        }
        # After every table's own commit; a run killed before this line is redone in full
        # by the next one, which the replaceWhere writes make harmless.
        commit_watermarks(spark, lake, moved, silver_path)
    run = GoldRun(run_id, tuple(results))
    for r in run.tables:
        log.info(
            "gold.%s: %s %s rows=%d silver_v=%s gold_v=%s",
            r.table, r.mode, ",".join(r.periods) or "-", r.rows_written,
            r.silver_version, r.gold_version,
        )
    return run


class _Builder:
    """One run's shared reads: the silver snapshot and each change window's changed days."""

    def __init__(self, spark: SparkSession, settings: Settings, lake: Lake, silver_path: str, version: int):
        self.spark, self.settings, self.lake = spark, settings, lake
        self.silver_path, self.version = silver_path, version
        self._changed: dict[ChangeWindow, set[date] | None] = {}
        self._bounds: tuple[date, date] | None | Literal[False] = False  # False: not read yet
        self._kept_from: date | None | Literal[False] = False  # False: not read yet
        self._log: DeltaRsTable | None | Literal[False] = False  # _silver_log; False: not opened yet
        self._lock = threading.Lock()
        self.watermarks = read_watermarks(spark, lake, "gold.")
        self._shared: DataFrame | None = None  # the run's silver rows, cached (share_silver)
        self._shared_days: set[date] | None = None  # the days `_shared` holds; None: every day

    def silver(self) -> DataFrame:
        return self.spark.read.format("delta").option("versionAsOf", self.version).load(self.silver_path)

    def silver_bounds(self) -> tuple[date, date] | None:
        """Silver's first and last event day at the run's version."""
        with self._lock:
            if self._bounds is False:
                silver_log = self._silver_log()
                bounds = False if silver_log is None else _partition_bounds(silver_log)
                if bounds is False:  # delta-rs could not say: Spark reads the table
                    row = self.silver().agg(F.min("event_date"), F.max("event_date")).first()
                    assert row is not None  # an aggregate without grouping is one row
                    bounds = None if row[0] is None else (row[0], row[1])
                self._bounds = bounds
            return self._bounds

    def changed_days(self, window: ChangeWindow) -> set[date] | None:
        with self._lock:
            return self._changed_days(window)

    def _changed_days(self, window: ChangeWindow) -> set[date] | None:
        """Silver days touched in the window; None when the change feed cannot say.

        Commits of silver's retention (tagged `eventlake-retention`) are not changes for
        gold: gold keeps the periods silver no longer holds (contract §6). Only the other
        commits of the window are read; an erasure's deletes still are changes.

        delta-rs reads the change feed first (`_changed_days_from_log`): tens of
        milliseconds, where Spark's read cost about a second before any table of an hour's
        run could start. Spark reads it when delta-rs cannot.
        """
        if window not in self._changed:
            silver_log = self._silver_log()
            days = None if silver_log is None else _changed_days_from_log(silver_log, window)
            self._changed[window] = (
                days if days is not None else _changed_days_by_spark(self.spark, self.silver_path, window)
            )
        return self._changed[window]

    def _silver_log(self) -> DeltaRsTable | None:
        """Silver at the run's version, opened once by delta-rs for the reads of its log
        (changed days, first and last day); None when delta-rs cannot open it. Callers hold
        the lock."""
        if self._log is False:
            try:
                self._log = open_delta(self.settings, self.silver_path, self.version)
            except Exception as error:  # noqa: BLE001 - Spark's reads are the answer of record
                log.info("gold: delta-rs could not open silver (%s: %s); Spark reads it",
                         type(error).__name__, str(error)[:200])
                self._log = None
        return self._log

    def incremental_scope(self, table: GoldTable) -> GoldTableRun | _Scope:
        """What an incremental run rebuilds of `table`: nothing (a finished GoldTableRun),
        the periods silver's changes can alter, or the whole table (a new table, a changed
        definition, an unreadable change feed).

        The stored table is looked at with delta-rs: its version and schema are its log's
        newest metadata, which Spark would load a snapshot for (17 tables an hour)."""
        stored = open_delta(self.settings, self.lake.gold(table.name).path)
        window = ChangeWindow(self.watermarks.get(consumer_name(table)), self.version)
        in_place = stored is not None and _schema_matches(stored.schema(), table)
        if in_place and window.is_empty:
            assert stored is not None  # in place
            return GoldTableRun(
                table.name, "unchanged", (), table.period, 0, window.after_version, stored.version(),
            )
        changed = None if window.after_version is None or not in_place else self.changed_days(window)
        if changed is None:
            return _Scope(table, None, "full")
        bounds = self.silver_bounds()
        periods = table.affected_periods(changed, bounds[1] if bounds else None)
        if not periods:  # e.g. an OPTIMIZE of silver: versions moved, no row changed
            assert stored is not None  # in place
            return GoldTableRun(table.name, "unchanged", (), table.period, 0, self.version, stored.version())
        return _Scope(table, periods, "incremental")

    def range_scope(self, table: GoldTable, first: date | None, last: date | None) -> GoldTableRun | _Scope:
        """An explicit recompute's periods of `table`: those holding the days from `first` to
        `last`, but none before the first day silver's retention kept. Those are history
        silver no longer holds; gold keeps them as they are (contract §6), so a backfill
        over them changes nothing."""
        bounds = self.silver_bounds()
        if bounds is None and (first is None or last is None):
            return GoldTableRun(table.name, "unchanged", (), table.period, 0, self.version, None)
        first = first or bounds[0]  # type: ignore[index]
        last = last or bounds[1]  # type: ignore[index]
        kept = self.retention_kept_from()
        if kept is not None and first < kept:
            log.info("gold.%s: the days before %s are history silver's retention removed; kept as they are",
                     table.name, kept)
            first = kept
        if first > last:
            return GoldTableRun(table.name, "unchanged", (), table.period, 0, self.version,
                                current_version(self.spark, self.lake.gold(table.name).path))
        return _Scope(table, table.periods_between(first, last), "range")

    def retention_kept_from(self) -> date | None:
        """The first day silver still holds all of after its retention: the latest day a
        retention commit kept (None: silver never lost rows to retention, or only to
        commits too old to record the day)."""
        with self._lock:
            if self._kept_from is False:
                self._kept_from = _retention_kept_from(self.spark, self.silver_path)
            return self._kept_from

    def share_silver(self, scopes: list[_Scope]) -> None:
        """Read and cache, once, the silver rows several scoped tables need: all of silver
        when one table is rebuilt in full, else the days two or more tables read
        (`shared_days`). Each table then aggregates its days of this one cached read
        instead of scanning silver again (17 scans of the Delta table became one; measured
        49 s -> 27 s for the 17 aggregates of a 1,500-event lake, docs/benchmarks.md).

        A day only one table reads is left to that table (`stage`): an hour's run of a
        30-day lake cached all 30 days for `daily_kpis`' MAU look-back alone, every column
        of every row, where that table reads a few columns of 28 of those days."""
        if not scopes:
            return
        silver = self.silver()
        if all(s.periods is not None for s in scopes):
            self._shared_days = shared_days(s.table.silver_days(s.periods) for s in scopes)  # type: ignore[arg-type]
            if not self._shared_days:
                return
            silver = silver.where(date_predicate("event_date", self._shared_days))
        self._shared = silver.persist(StorageLevel.MEMORY_AND_DISK)
        rows = self._shared.count()  # materialised here, not by four threads at once
        log.info(
            "gold: %d silver rows (%s) read once for %d table(s)", rows,
            "every day" if self._shared_days is None else ",".join(describe(self._shared_days)), len(scopes),
        )

    def release_silver(self) -> DataFrame | None:
        """The shared silver cache, for the caller to unpersist; the builder forgets it."""
        shared, self._shared = self._shared, None
        return shared

    def stage(self, scope: _Scope) -> _Staged:
        """Stage the replacement of the scope's periods (None: the whole table) with their
        recomputed rows; `commit` writes it later, in one Delta commit."""
        table, periods = scope.table, scope.periods
        if periods is None:
            assert self._shared is not None and self._shared_days is None, "a full rebuild shares all of silver"
            silver = self._shared
        else:
            silver = self._silver_of(table.silver_days(periods))
        rows = table.compute(silver)
        predicate = None
        if periods is not None:
            predicate = table.period_predicate(periods)
            rows = rows.where(F.expr(predicate))
        return _Staged(table, rows, periods, scope.mode, predicate)

    def _silver_of(self, days: set[date]) -> DataFrame:
        """Silver's rows of `days`: the shared cache's, and silver's own for the days no
        other table reads (partition-pruned, and only the columns the aggregate uses)."""
        if self._shared_days is None:  # the cache holds every day
            assert self._shared is not None, "share_silver runs first, with every scope"
            return self._shared.where(date_predicate("event_date", days))
        shared, own = days & self._shared_days, days - self._shared_days
        if not shared:
            return self.silver().where(date_predicate("event_date", own))
        assert self._shared is not None  # it holds the shared days
        rows = self._shared.where(date_predicate("event_date", shared))
        return rows.unionByName(self.silver().where(date_predicate("event_date", own))) if own else rows

    def materialise(self, plan: _Staged) -> tuple[str, StagedTable]:
        """Compute and cache a staged table's rows, so the audit reads them from memory and
        the commit writes exactly the rows it audited. The table as it will read after the
        commit (`staged_view`) is built only for a check that asks for it: an incremental
        run's audit reads the rebuilt periods, not the stored table (measured: reading and
        caching the 17 stored tables for every hour cost more than their audit)."""
        plan.rows = plan.rows.persist(StorageLevel.MEMORY_AND_DISK)
        # One job computes the rows, caches them and collects them as Arrow: the delta-rs
        # commit writes that table, the rows the audit reads from the cache. A count here
        # and the commit's own collection were two jobs per table (measured on the 1 M
        # lake: an hour's gold and its gate 16.1 -> 14.8 s, docs/benchmarks.md). A table
        # past the limit (a long backfill on a cluster) is collected up to it first, no more
        # than a delta-rs write would hold, then dropped, counted from the cache and
        # written by Spark.
        collected = plan.rows.limit(DELTA_RS_MAX_ROWS + 1).toArrow()
        if collected.num_rows <= DELTA_RS_MAX_ROWS:
            plan.collected, plan.row_count = collected, collected.num_rows
        else:
            plan.row_count = plan.rows.count()
        return f"gold.{plan.table.name}", StagedTable(plan.rows, lambda: self.staged_view(plan))

    def staged_view(self, plan: _Staged) -> DataFrame:
        """The table as it will read after `plan` is committed, without committing it."""
        if plan.predicate is None:
            return plan.rows
        kept = self.spark.read.format("delta").load(self.lake.gold(plan.table.name).path).where(
            ~F.coalesce(F.expr(plan.predicate), F.lit(False))
        )
        return kept.unionByName(plan.rows)

    def commit(self, plan: _Staged) -> GoldTableRun:
        table, periods = plan.table, plan.periods
        if plan.row_count is not None and plan.row_count <= DELTA_RS_MAX_ROWS:
            written = self._create_table(plan) if periods is None else self._replace_periods(plan, periods)
            plan.collected = None  # written, or Spark writes the cached rows: the copy goes
            if written is not None:
                return written
        gold_path = self.lake.gold(table.name).path
        # One file per group of whole periods, so a later rebuild of a period rewrites
        # only the files holding it.
        writer_rows = plan.rows.repartition(table.period_column).sortWithinPartitions(*table.grain)
        if plan.predicate is None:
            # A whole table (new, or its definition changed): rows, schema, description and
            # properties in one commit. Written as rows and then described, a first build
            # cost 17 commits more, about 5 s of a 20,000-event demo.
            replacement = writer_rows.writeTo(f"delta.`{gold_path}`").using("delta")
            replacement = replacement.tableProperty("comment", table.description)
            # No statistics on user_key: an erased key would outlive its rows in _delta_log.
            for key, value in stats_properties(plan.rows.schema).items():
                replacement = replacement.tableProperty(key, value)
            with needs_catalog(f"gold.{table.name}'s whole-table build"):
                replacement.createOrReplace()
        else:
            writer_rows.write.format("delta").mode("overwrite").option("replaceWhere", plan.predicate).save(gold_path)
        version, commit_info = last_commit(self.spark, gold_path)  # the write above
        # A whole table got its description with its rows; a period rebuild keeps the stored
        # one, which may predate the definition's (one more commit, or none).
        described = plan.predicate is not None and _describe(self.spark, gold_path, version, table.description)
        metrics = commit_info.get("operationMetrics") or {}
        return self._table_run(plan, int(metrics.get("numOutputRows", 0)), version + int(described))

    def _create_table(self, plan: _Staged) -> GoldTableRun | None:
        """Create a new table in one delta-rs commit: the rows the audit read, collected as
        Arrow, with the definition's column comments, description and properties (change
        data feed on, as Spark's tables have it; no statistics on user_key). Spark's commit
        of a new table (a shuffle into files by period, a write job, a catalog lookup and a
        commit) cost about 6 s of a 20,000-event demo's 17 first builds; delta-rs commits
        them in milliseconds. A table this small is one file: each period lies in one file.

        None, having written nothing, for Spark to write the table: when it exists (its
        definition changed: Spark replaces it, schema and all), when a timestamp lies outside
        the years 1678-2261 (`_replace_periods`), or when Spark's OpenLineage listener runs
        (`spark.extraListeners`): the listener sees only Spark's writes, and a table's first
        build is where it draws silver -> gold with column lineage.
        """
        import pyarrow as pa
        from deltalake import write_deltalake

        table = plan.table
        path = self.lake.gold(table.name).path
        if self.spark.sparkContext.getConf().get("spark.extraListeners", "") or open_delta(self.settings, path):
            return None
        rows = plan.arrow()
        if not _nanosecond_safe(rows, [c.name for c in table.columns if c.type == "timestamp"]):
            return None
        # Spark's schema, as its own commit would store it: every column nullable, commented.
        schema = pa.schema([
            pa.field(c.name, rows.schema.field(c.name).type, nullable=True, metadata={"comment": c.comment})
            for c in table.columns
        ])
        rows = rows.select(schema.names).cast(schema).sort_by([(column, "ascending") for column in table.grain])
        uri, options = delta_writer_location(self.settings, path)
        write_deltalake(
            uri, rows, mode="error", description=table.description, storage_options=options or None,
            configuration={"delta.enableChangeDataFeed": "true", **stats_properties(plan.rows.schema)},
        )
        return self._table_run(plan, rows.num_rows, 0)

    def _replace_periods(self, plan: _Staged, periods: set[date]) -> GoldTableRun | None:
        """Replace the periods' rows in one delta-rs commit: the rows the audit read,
        collected as Arrow, written where the periods' rows were (delta-rs removes the files
        holding only those periods and rewrites the rest of any file that also holds others;
        every written row must lie in the periods, as with Spark's `replaceWhere`).

        A period rebuild is a few hundred rows. Spark's commit of them cost about a second
        per table on 2 cores (a job to write one small file, a snapshot replay and a commit),
        17 tables an hour; delta-rs commits them in tens of milliseconds (docs/benchmarks.md).

        None, having written nothing, when a timestamp of the table or of the rows lies
        outside the years 1678-2261. Spark wrote Parquet timestamps as INT96 before eventlake
        chose TIMESTAMP_MICROS (spark_conf), and a lake may still hold such files: delta-rs
        reads INT96 as nanoseconds, and rewriting such a file would lose those rows. Spark
        commits those (events at the calendar's edges are valid, contract §5). Telling the
        two kinds of file apart would take a read of every footer; such rows are rare.
        """
        import pyarrow as pa
        from deltalake import DeltaTable, write_deltalake

        table = plan.table
        uri, options = delta_writer_location(self.settings, self.lake.gold(table.name).path)
        stored = DeltaTable(uri, storage_options=options or None)
        timestamps = [c.name for c in table.columns if c.type == "timestamp"]
        # The stored files' statistics first: when they rule delta-rs out, nothing is collected.
        safe = _nanosecond_safe(pa.table(stored.get_add_actions(flatten=True)), timestamps, prefixes=("min.", "max."))
        # Sorted by grain, as Spark wrote them: each file's statistics then bound its periods.
        rows = plan.arrow().sort_by([(column, "ascending") for column in table.grain]) if safe else None
        if rows is None or not _nanosecond_safe(rows, timestamps):
            log.info("gold.%s: a timestamp beyond 1678-2261; Spark writes the rebuild", table.name)
            return None
        write_deltalake(stored, rows, mode="overwrite", predicate=table.period_predicate(periods, dialect="delta-rs"))
        version = stored.version()
        # Without, every reader would replay a day's 24 commits and more from JSON.
        checkpoint_when_due(stored, CHECKPOINT_INTERVAL)
        # A period rebuild keeps the stored description, which may predate the definition's
        # (one more commit, or none).
        described = stored.metadata().description != table.description
        if described:
            _set_description(self.spark, self.lake.gold(table.name).path, table.description)
        return self._table_run(plan, rows.num_rows, version + int(described))

    def _table_run(self, plan: _Staged, rows_written: int, gold_version: int) -> GoldTableRun:
        table, periods = plan.table, plan.periods
        return GoldTableRun(
            table=table.name,
            mode=plan.mode,
            periods=() if periods is None else describe(periods, step=7 if table.period == "week" else 1),
            period=table.period,
            rows_written=rows_written,
            silver_version=self.version,
            gold_version=gold_version,
        )


# The instants a 64-bit count of nanoseconds holds (1677-09-21 .. 2262-04-11), within whole years.
_NANOSECOND_YEARS = (datetime(1678, 1, 1, tzinfo=UTC), datetime(2262, 1, 1, tzinfo=UTC))


def _nanosecond_safe(frame: pa.Table, columns: Sequence[str], *, prefixes: Sequence[str] = ("",)) -> bool:
    """Every value of the timestamp `columns` (each under each of `prefixes`: a file list's
    "min."/"max." statistics) lies in `_NANOSECOND_YEARS`; a missing column is not known to."""
    import pyarrow.compute as pc

    if frame.num_rows == 0:
        return True
    for name in (prefix + column for column in columns for prefix in prefixes):
        if name not in frame.schema.names:
            return False
        bounds = pc.min_max(frame.column(name)).as_py()
        if bounds["min"] is not None and not (
            _NANOSECOND_YEARS[0] <= bounds["min"] and bounds["max"] < _NANOSECOND_YEARS[1]
        ):
            return False
    return True


def _windows_without_retention(
    spark: SparkSession, silver_path: str, window: ChangeWindow
) -> list[ChangeWindow]:
    """The window split around silver's retention commits: the runs of other versions."""
    from delta.tables import DeltaTable

    from eventlake.maintenance.retention import RETENTION_COMMIT_TAG

    after, up_to = window.after_version, window.up_to_version
    assert after is not None  # incremental_scope asks only about windows that start after a version
    newest = current_version(spark, silver_path) or up_to
    retention = {
        int(row["version"])
        for row in DeltaTable.forPath(spark, silver_path).history(max(newest - after, 1))
        .where(F.col("userMetadata").startswith(RETENTION_COMMIT_TAG))
        .select("version").collect()
    }
    return _split_around(window, retention)


def _split_around(window: ChangeWindow, skipped: set[int]) -> list[ChangeWindow]:
    """The window's versions without `skipped`, as the windows of consecutive versions."""
    after, up_to = window.after_version, window.up_to_version
    assert after is not None  # a window that starts after a version
    parts, start = [], after
    for version in range(after + 1, up_to + 1):
        if version in skipped:
            if version - 1 > start:
                parts.append(ChangeWindow(start, version - 1))
            start = version
    if up_to > start:
        parts.append(ChangeWindow(start, up_to))
    return parts


def _changed_days_by_spark(spark: SparkSession, silver_path: str, window: ChangeWindow) -> set[date] | None:
    """`_Builder._changed_days` read by Spark; None when the change feed is unreadable (off,
    or vacuumed), and the tables are then rebuilt in full."""
    try:
        days: set[date] = set()
        for part in _windows_without_retention(spark, silver_path, window):
            rows = read_changes(spark, silver_path, part, inserts_only=False).select("event_date").distinct().collect()
            days |= {r[0] for r in rows if r[0] is not None}
        return days
    except AnalysisException as error:  # e.g. change feed off or vacuumed
        log.warning("gold: silver change feed unreadable (%s); full rebuild", error)
        return None


def _changed_days_from_log(silver: DeltaRsTable, window: ChangeWindow) -> set[date] | None:
    """`_Builder._changed_days` read by delta-rs from `silver` opened at the window's last
    version: the event days of its change feed, leaving out the commits that are no change
    for gold (`eventlake.pending.changes_gold`: retention's, and those that change no row).
    None when delta-rs cannot read it (a vacuumed file, a table feature it lacks...): the
    caller then asks Spark, which decides between its own read and a full rebuild, as
    before this fast path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from eventlake.pending import changes_gold

    assert window.after_version is not None  # incremental_scope asks only about windows that start after a version
    try:
        skipped = {
            int(commit["version"])
            for commit in silver.history(max(silver.version() - window.after_version, 1))
            if not changes_gold(commit)
        }
        days: set[date] = set()
        for part in _split_around(window, skipped):
            assert part.after_version is not None  # parts of a window that starts after a version
            changes = pa.table(silver.load_cdf(
                starting_version=part.after_version + 1, ending_version=part.up_to_version, columns=["event_date"]
            ))
            days |= {day for day in pc.unique(changes["event_date"]).to_pylist() if day is not None}
        return days
    except Exception as error:  # noqa: BLE001 - Spark's read is the answer of record
        log.info("gold: delta-rs could not read silver's change feed (%s: %s); Spark reads it",
                 type(error).__name__, str(error)[:200])
        return None


def _partition_bounds(silver: DeltaRsTable) -> tuple[date, date] | None | Literal[False]:
    """Silver's first and last event_date at the version `silver` was opened at, from its
    log's file list (event_date is its partition column), without a Spark job: None when
    silver holds no row, False when delta-rs cannot say (the caller then asks Spark)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        files = pa.table(silver.get_add_actions(flatten=True))
        days = files["partition.event_date"].filter(pc.fill_null(pc.greater(files["num_records"], 0), True))
        bounds = pc.min_max(days).as_py()
    except Exception as error:  # noqa: BLE001 - Spark's read is the answer of record
        log.info("gold: delta-rs could not list silver's files (%s: %s); Spark reads them",
                 type(error).__name__, str(error)[:200])
        return False
    return None if bounds["min"] is None else (bounds["min"], bounds["max"])


def _retention_kept_from(spark: SparkSession, silver_path: str) -> date | None:
    """The latest first-day-kept among silver's retention commits (each records its own;
    the latest, not the newest commit's, should a longer retention follow a shorter one)."""
    from delta.tables import DeltaTable

    from eventlake.maintenance.retention import RETENTION_COMMIT_TAG, kept_from

    tags = (
        DeltaTable.forPath(spark, silver_path).history()
        .where(F.col("userMetadata").startswith(RETENTION_COMMIT_TAG))
        .select("userMetadata").collect()
    )
    return max((day for row in tags if (day := kept_from(row[0])) is not None), default=None)


def shared_days(needs: Iterable[set[date]]) -> set[date]:
    """The days at least two of the given sets hold: the silver days worth caching for a
    run whose tables read those sets (a day read once is cheaper read than cached)."""
    count = Counter(day for days in needs for day in days)
    return {day for day, readers in count.items() if readers > 1}


@dataclass(frozen=True)
class _Scope:
    """What a run rebuilds of one table: `periods`, or the whole table (None)."""

    table: GoldTable
    periods: set[date] | None
    mode: str  # "full", "incremental" or "range"


@dataclass
class _Staged:
    """A table's new content, computed but not committed (write-audit-publish)."""

    table: GoldTable
    rows: DataFrame  # the rows that replace `periods` (all rows when periods is None)
    periods: set[date] | None
    mode: str
    predicate: str | None  # the replaceWhere of `periods`
    row_count: int | None = None  # the rows' count, once materialised
    collected: pa.Table | None = None  # the rows as `materialise` collected them, if it did

    def arrow(self) -> pa.Table:
        """The rows as Arrow: those `materialise` collected, else collected now."""
        return self.collected if self.collected is not None else self.rows.toArrow()


def _describe(spark: SparkSession, path: str, version: int, description: str) -> bool:
    """Keep the table's description (Delta's metadata) equal to its definition's, so every
    catalog over the lake shows it as the table's COMMENT (the SQL endpoint's too). Called
    after a period rebuild, which keeps the stored description: only a description changed
    in the definition since costs a commit (True)."""
    if stored_description(spark, path, version) == description:
        return False
    _set_description(spark, path, description)
    return True


def _set_description(spark: SparkSession, path: str, description: str) -> None:
    quoted = description.replace("\\", "\\\\").replace("'", "\\'")
    with needs_catalog(f"the new description of {path}"):
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('comment' = '{quoted}')")


def _schema_matches(stored: DeltaSchema, table: GoldTable) -> bool:
    """False when the stored table predates the definition (columns, types or comments).
    A gold column's type is a Spark SQL name that is also Delta's (date, timestamp, string,
    long, double)."""
    wanted = {c.name: c for c in table.columns}
    if [f.name for f in stored.fields] != list(wanted):
        return False
    return all(
        getattr(f.type, "type", None) == wanted[f.name].type
        and f.metadata.get("comment") == wanted[f.name].comment
        for f in stored.fields
    )
