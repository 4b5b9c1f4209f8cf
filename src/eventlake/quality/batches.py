"""What each suite validates: DataFrames built from the lake and the run's reconciled counts.

A suite's `data:` key names one of the builders below. A builder returns the DataFrame GX
validates, or a `Skip` that says why there is nothing to validate (and whether that deserves
a warning). Builders only read; they never write to the lake.

Scope: the rows a run produced (bronze: the lines it appended; silver: the rows that came
from the bronze lines it read), the run's counts, and whole-table checks that stay cheap
(silver event_id uniqueness reads one column; gold tables are small aggregates). Gold
suites validate a table's staged rows when the run hands them over (`BatchContext.staged`):
gold is audited before it is committed, and an incremental run audits the periods it
rebuilt, not the periods it keeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.clock import as_utc, from_spark
from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.state import ChangeWindow, delta_table_exists, read_changes

# Optional catalog dimensions for 004 §11.1's referential check: Delta tables a catalog or
# EPG export writes into the lake. When a table is absent, its check is skipped with a note.
CATALOG_DIMENSIONS = {
    "content": ("reference/content_catalog", "content_id"),
    "channel": ("reference/channel_catalog", "channel_id"),
}


@dataclass(frozen=True)
class Skip:
    """Nothing to validate for a suite, and why. `warn`: record it as a warning result."""

    reason: str
    warn: bool = False


@dataclass(frozen=True)
class StagedTable:
    """A table's new content, staged and not committed yet (write-audit-publish).

    `rows` are the rows the commit writes: the periods the run rebuilt (every row on a full
    build). The table's own suite validates those: the periods it keeps passed their suite
    when they were written, and the grain of the two never overlaps. `published()` is the
    table as it will read after the commit (kept periods and `rows`), for the checks that
    need the whole table (volume); it is built only when one asks.
    """

    rows: DataFrame
    published: Callable[[], DataFrame]


_Shared = TypeVar("_Shared")


class SharedResults:
    """What the builders of one layer's run share (the bronze or silver rows the run
    produced, their count), computed once by whichever builder asks first. A layer's
    builders run a few at once (validate_layer), so the first one computes while the others
    wait for it. One lock for every key: a `compute` must not ask for another key."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str, compute: Callable[[], _Shared]) -> _Shared:
        with self._lock:
            if key not in self._values:
                self._values[key] = compute()
            return cast(_Shared, self._values[key])


@dataclass
class BatchContext:
    spark: SparkSession
    settings: Settings
    lake: Lake
    run_id: str
    run_summary: Mapping[str, Any] | None
    as_of: datetime | None
    table: str  # the suite's `table:` (e.g. gold.daily_kpis)
    cache: SharedResults = field(default_factory=SharedResults)  # builders' shared results
    # Tables' content before it is committed (write-audit-publish), by name (gold.x).
    staged: dict[str, StagedTable] = field(default_factory=dict)

    def delta(self, path: str) -> DataFrame | None:
        if not delta_table_exists(self.spark, path):
            return None
        return self.spark.read.format("delta").load(path)

    def gold(self, name: str) -> DataFrame | None:
        """A gold table as the run will publish it: its staged content, else as stored."""
        staged = self.staged.get(f"gold.{name}")
        return staged.published() if staged is not None else self.delta(self.lake.gold(name).path)

    def gold_rows(self, name: str) -> DataFrame | None:
        """What a gold table's own suite validates: the rows the run writes when it staged
        the table, else the whole table as stored (`eventlake quality`)."""
        staged = self.staged.get(f"gold.{name}")
        return staged.rows if staged is not None else self.delta(self.lake.gold(name).path)


Builder = Callable[[BatchContext], "DataFrame | Skip"]


def _summary_value(ctx: BatchContext, *keys: str) -> Mapping[str, Any] | None:
    """The run summary, if it has every key the builder needs."""
    summary = ctx.run_summary
    if summary is None or any(key not in summary for key in keys):
        return None
    return summary


def _no_summary(ctx: BatchContext, kind: str) -> Skip:
    return Skip(
        f"no {kind} run summary for run {ctx.run_id} in the run log: per-run checks skipped",
        warn=True,
    )


# --- bronze ---------------------------------------------------------------------------


def bronze_run_rows(ctx: BatchContext) -> DataFrame | Skip:
    """The lines the run appended: every row sharing the run's `ingested_at`.

    All rows of one bronze run carry the same `ingested_at`; it is read from the run's last
    commit (`bronze_version`) through the change data feed, then used as a filter that
    prunes to one `ingest_date` partition.
    """
    return ctx.cache.get("bronze_rows", lambda: _bronze_run_rows(ctx))


def _bronze_run_rows(ctx: BatchContext) -> DataFrame | Skip:
    summary = _summary_value(ctx, "files_ingested", "bronze_version")
    if summary is None:
        result: DataFrame | Skip = _no_summary(ctx, "bronze")
    elif not summary["files_ingested"] or summary["bronze_version"] is None:
        result = Skip("this run ingested no new landing file")
    else:
        version = int(summary["bronze_version"])
        path = ctx.lake.bronze_events.path
        first = (
            read_changes(ctx.spark, path, ChangeWindow(version - 1, version), inserts_only=True)
            .select("ingested_at").limit(1).collect()
        )
        if not first:
            result = Skip(f"bronze version {version} holds no appended row", warn=True)
        else:
            ingested_at = from_spark(first[0][0])
            bronze = ctx.delta(path)
            assert bronze is not None  # its change data feed was just read
            result = (
                bronze
                .where(F.col("ingest_date") == F.lit(ingested_at.date()))
                .where(F.col("ingested_at") == F.lit(ingested_at))
            )
    return result


def is_json_object(raw: str = "raw") -> Column:
    """True when the line parses as a JSON object (json_object_keys is null otherwise)."""
    return F.json_object_keys(F.col(raw)).isNotNull()


def bronze_run_metrics(ctx: BatchContext) -> DataFrame | Skip:
    summary = _summary_value(ctx, "files_ingested", "lines_ingested")
    if summary is None:
        return _no_summary(ctx, "bronze")
    rows = bronze_run_rows(ctx)
    if isinstance(rows, Skip):
        found, failures = 0, 0
    else:
        counted = rows.agg(
            F.count(F.lit(1)).alias("found"),
            F.sum(F.when(is_json_object(), 0).otherwise(1)).alias("failures"),
        ).first()
        assert counted is not None  # an aggregate without grouping is one row
        found, failures = int(counted["found"]), int(counted["failures"] or 0)
    return ctx.spark.createDataFrame(
        [(
            int(summary.get("files_found") or 0),
            int(summary["files_ingested"]),
            int(summary["lines_ingested"]),
            found,
            failures,
            failures / found if found else 0.0,
        )],
        "files_found LONG, files_ingested LONG, lines_ingested LONG, rows_found LONG, "
        "parse_failures LONG, parse_failure_share DOUBLE",
    )


# --- silver ---------------------------------------------------------------------------

SILVER_RUN_KEYS = ("lines_read", "silver_rows", "quarantined", "consent_dropped", "duplicates")


def silver_run_rows(ctx: BatchContext) -> DataFrame | Skip:
    """Silver rows that came from the bronze lines this run read, whichever run wrote them.

    The run reports the bronze versions it read, (after, up_to]; the files of those versions
    identify its rows in silver (`source_file`), and their `ingested_at` range lets Delta skip
    every older data file. Without versions, the run's event-date window is used instead
    (a superset: older rows of the same dates are validated too).

    A rerun after a failed gate (or a kill) reads the same lines and inserts nothing, every
    row being stored: its batch is the rows the earlier run wrote, so a gate that failed
    fails again until someone acts, and a rerun after a kill validates what the killed run
    left.
    """
    return ctx.cache.get("silver_rows", lambda: _silver_run_rows(ctx))


def _silver_run_rows(ctx: BatchContext) -> DataFrame | Skip:
    summary = _summary_value(ctx, *SILVER_RUN_KEYS)
    silver = ctx.delta(ctx.lake.silver_events.path)
    if summary is None:
        return _no_summary(ctx, "silver")
    if not summary["lines_read"]:
        return Skip("this run read no bronze line")
    if silver is None:
        if summary["silver_rows"]:
            return Skip("silver.events does not exist although the run reports rows", warn=True)
        return Skip("no silver row yet: every line the run read was quarantined or dropped")
    if summary.get("bronze_versions"):
        after, up_to = summary["bronze_versions"]
        window = ChangeWindow(None if after is None else int(after), int(up_to))
        files = (
            read_changes(ctx.spark, ctx.lake.bronze_events.path, window, inserts_only=True)
            .groupBy("source_file")
            .agg(F.min("ingested_at").alias("first"), F.max("ingested_at").alias("last"))
            .collect()
        )
        if not files:
            result: DataFrame | Skip = Skip("the bronze versions the run read hold no line", warn=True)
        else:
            first = from_spark(min(row["first"] for row in files))
            last = from_spark(max(row["last"] for row in files))
            sources = ctx.spark.createDataFrame([(row["source_file"],) for row in files], "source_file STRING")
            result = (
                silver.where(F.col("ingested_at").between(F.lit(first), F.lit(last)))
                .join(F.broadcast(sources), "source_file", "left_semi")
            )
        return result
    if summary.get("min_event_date") and summary.get("max_event_date"):
        return silver.where(
            F.col("event_date").between(
                F.lit(summary["min_event_date"]).cast("date"),
                F.lit(summary["max_event_date"]).cast("date"),
            )
        )
    return Skip("the run summary names neither bronze versions nor event dates", warn=bool(summary["silver_rows"]))


@dataclass(frozen=True)
class RowsCounted:
    """How many rows a batch holds, and the least and greatest event_id among them."""

    rows: int
    first_event_id: str | None
    last_event_id: str | None


def silver_run_rows_counted(ctx: BatchContext) -> RowsCounted:
    """`silver_run_rows`' rows counted, once for the builders that ask (one Spark job).
    For a run whose rows are a frame, not a Skip: the callers check that first."""
    rows = silver_run_rows(ctx)  # before the count's turn at the shared lock, which it takes too
    assert not isinstance(rows, Skip), "only a run whose silver rows are a frame is counted"

    def count() -> RowsCounted:
        counted = rows.agg(
            F.count(F.lit(1)).alias("rows"), F.min("event_id").alias("first"), F.max("event_id").alias("last")
        ).first()
        assert counted is not None  # an aggregate without grouping is one row
        return RowsCounted(int(counted["rows"]), counted["first"], counted["last"])

    return ctx.cache.get("silver_rows_counted", count)


# Counts a silver run measures besides SILVER_RUN_KEYS; a run logged before they existed
# has none of them, and the expectations that use them then see null (not applicable).
SILVER_RUN_MEASURES = (
    "in_run_duplicates", "cross_run_duplicates", "silver_replaced", "new_event_ids",
    "quarantine_written", "quarantine_present",
)


def silver_run_metrics(ctx: BatchContext) -> DataFrame | Skip:
    """One row of the run's counts as the run log holds them, plus `rows_found`: the silver
    rows read back for the run's bronze lines. The expectations recompute the sums
    themselves (the run's own `reconciles` flag is kept as a second opinion)."""
    summary = _summary_value(ctx, *SILVER_RUN_KEYS)
    if summary is None:
        return _no_summary(ctx, "silver")
    rows = silver_run_rows(ctx)
    if isinstance(rows, Skip):
        found = 0 if not summary["silver_rows"] else None
    else:
        found = silver_run_rows_counted(ctx).rows if summary.get("bronze_versions") else None
    lines_read = int(summary["lines_read"])
    quarantined = int(summary["quarantined"])
    reconciles = summary.get("reconciles")
    measures = tuple(None if summary.get(key) is None else int(summary[key]) for key in SILVER_RUN_MEASURES)
    return ctx.spark.createDataFrame(
        [(
            lines_read,
            int(summary["silver_rows"]),
            quarantined,
            int(summary["consent_dropped"]),
            int(summary["duplicates"]),
            True if reconciles is None else bool(reconciles),
            quarantined / lines_read if lines_read else 0.0,
            found,
            *measures,
        )],
        "lines_read LONG, silver_rows LONG, quarantined LONG, consent_dropped LONG, "
        "duplicates LONG, reconciles BOOLEAN, quarantine_share DOUBLE, rows_found LONG, "
        + ", ".join(f"{key} LONG" for key in SILVER_RUN_MEASURES),
    )


# A run that wrote up to this many silver rows has its uniqueness checked on the rows that
# share an event_id with them (a broadcast semi-join); a larger run on the whole column,
# which costs less than that join when most of the table is new (a first build).
SCOPED_UNIQUENESS_MAX_ROWS = 100_000


def silver_event_ids(ctx: BatchContext) -> DataFrame | Skip:
    """The silver event_ids whose uniqueness the run could have broken.

    Only a silver run's MERGE adds rows (erasure and retention delete), so a duplicate
    involves an event_id of the bronze lines a run read: the batch is every silver row, of
    any run or date, carrying an id of the silver rows of this run's lines, whichever run
    wrote them (a rerun after a failed gate reads the same lines, so it fails again). Older
    ids passed this check when they were written. A run that read no line leaves nothing to
    check; without a run summary (`eventlake quality`), or after a large run, the batch is
    the whole column. A run's batch is found through Delta's file statistics on event_id
    (below), so it reads the files that hold ids near the run's, not the whole column.
    """
    silver = ctx.delta(ctx.lake.silver_events.path)
    if silver is None:
        return Skip("silver.events does not exist yet", warn=True)
    summary = _summary_value(ctx, *SILVER_RUN_KEYS)
    if summary is None:
        return silver.select("event_id")
    if not summary["lines_read"]:
        return Skip("this run read no bronze line: event_id uniqueness was checked when the rows were written")
    if int(summary["silver_rows"]) + int(summary.get("silver_replaced") or 0) > SCOPED_UNIQUENESS_MAX_ROWS:
        return silver.select("event_id")
    rows = silver_run_rows(ctx)
    if isinstance(rows, Skip):
        return silver.select("event_id")
    ids = silver.select("event_id")
    counted = silver_run_rows_counted(ctx)
    first, last = counted.first_event_id, counted.last_event_id
    if first is not None and last is not None:
        # The same rows, found through file statistics: time-ordered ids (UUIDv7, the
        # contract's recommendation) put an hour's ids in a narrow range, and Delta skips
        # every silver file whose event_ids lie outside it. The semi-join alone read the
        # whole column, a cost that grew with the lake rather than with the run.
        ids = ids.where(F.col("event_id").between(first, last))
    return ids.join(F.broadcast(rows.select("event_id")), "event_id", "left_semi")


def run_parameters(run_summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """Expectation parameters taken from a silver run summary (its event-date window)."""
    if not run_summary:
        return {}
    params = {}
    for key in ("min_event_date", "max_event_date"):
        if run_summary.get(key):
            params[f"run_{key}"] = date.fromisoformat(str(run_summary[key])[:10])
    return params


# --- gold -----------------------------------------------------------------------------


def _gold_table(ctx: BatchContext) -> DataFrame | Skip:
    name = ctx.table.split(".", 1)[1]
    table = ctx.gold_rows(name)
    if table is None:
        return Skip(f"{ctx.table} does not exist yet", warn=True)
    return table


def gold_table(ctx: BatchContext) -> DataFrame | Skip:
    return _gold_table(ctx)


def _run_dates(ctx: BatchContext) -> tuple[Column, Column] | None:
    summary = ctx.run_summary or {}
    if summary.get("min_event_date") and summary.get("max_event_date"):
        return (
            F.lit(str(summary["min_event_date"])[:10]).cast("date"),
            F.lit(str(summary["max_event_date"])[:10]).cast("date"),
        )
    return None


def daily_users_check(ctx: BatchContext) -> DataFrame | Skip:
    """The gold table with `silver_distinct_users`: distinct user_keys silver holds that day.

    With a silver run summary only the run's event dates get the comparison (a cheap, pruned
    read of silver); other rows carry null and the pair expectation ignores them.
    """
    table = _gold_table(ctx)
    if isinstance(table, Skip):
        return table
    silver = ctx.delta(ctx.lake.silver_events.path)
    if silver is None:
        return table.withColumn("silver_distinct_users", F.lit(None).cast("long"))
    dates = _run_dates(ctx)
    if dates is not None:
        silver = silver.where(F.col("event_date").between(*dates))
    users = silver.groupBy("event_date").agg(
        F.countDistinct("user_key").cast("long").alias("silver_distinct_users")
    )
    return table.join(users, "event_date", "left")


def volume(ctx: BatchContext) -> DataFrame | Skip:
    """Events of the newest day against the same weekday one week earlier."""
    daily = ctx.gold("event_metrics_daily")
    if daily is not None:
        per_day = daily.groupBy("event_date").agg(F.sum("events").alias("events"))
    else:
        silver = ctx.delta(ctx.lake.silver_events.path)
        if silver is None:
            return Skip("neither gold.event_metrics_daily nor silver.events exists", warn=True)
        per_day = silver.groupBy("event_date").agg(F.count(F.lit(1)).alias("events"))
    # One row per day the lake keeps, collected whole: one Spark job rather than one for
    # the newest day and another for the two days compared, each planning the read of the
    # table as it will read again (this builder: 3.0 s -> 1.9 s in an hour's gold gate at
    # 1 M events).
    counts = {
        row["event_date"]: int(row["events"] or 0)
        for row in per_day.where(F.col("event_date").isNotNull()).collect()
    }
    if not counts:
        return Skip("no events yet: volume anomaly check skipped")
    newest = max(counts)
    baseline_day = newest - timedelta(days=7)
    baseline = counts.get(baseline_day, 0)
    if baseline == 0:
        return Skip(f"no events on {baseline_day} (a week before {newest}): volume check skipped")
    current = counts.get(newest, 0)
    return ctx.spark.createDataFrame(
        [(newest, current, baseline_day, baseline, current / baseline - 1.0)],
        "event_date DATE, events LONG, baseline_date DATE, baseline_events LONG, change DOUBLE",
    )


def freshness(ctx: BatchContext) -> DataFrame | Skip:
    """Age in hours of the newest silver event at the run's logical time (`as_of`)."""
    if ctx.as_of is None:
        return Skip("no logical time given (--as-of): freshness check skipped")
    silver = ctx.delta(ctx.lake.silver_events.path)
    if silver is None:
        return Skip("silver.events does not exist yet", warn=True)
    # The newest partition first (from the Delta log), then its newest timestamp.
    newest_date_row = silver.agg(F.max("event_date")).first()
    assert newest_date_row is not None  # an aggregate without grouping is one row
    newest_date = newest_date_row[0]
    if newest_date is None:
        return Skip("silver.events is empty: freshness check skipped", warn=True)
    newest_row = silver.where(F.col("event_date") == F.lit(newest_date)).agg(F.max("event_timestamp")).first()
    assert newest_row is not None  # likewise
    newest = from_spark(newest_row[0])
    as_of = as_utc(ctx.as_of)  # a naive logical time means UTC
    age_hours = (as_of - newest).total_seconds() / 3600.0
    return ctx.spark.createDataFrame(
        [(newest, as_of, age_hours)], "newest_event TIMESTAMP, as_of TIMESTAMP, age_hours DOUBLE"
    )


def referential(ctx: BatchContext) -> DataFrame | Skip:
    """Distinct content/channel ids of the run's silver rows, and whether the catalog knows them."""
    configured = {
        kind: (ctx.delta(ctx.lake.path(relative)), column)
        for kind, (relative, column) in CATALOG_DIMENSIONS.items()
    }
    configured = {kind: v for kind, v in configured.items() if v[0] is not None}
    if not configured:
        paths = " or ".join(relative for relative, _ in CATALOG_DIMENSIONS.values())
        return Skip(f"no catalog dimension configured ({paths}): referential check skipped")
    rows = silver_run_rows(ctx)
    if isinstance(rows, Skip):
        return Skip(f"referential check skipped: {rows.reason}", rows.warn)
    checked = None
    for kind, (catalog, column) in configured.items():
        assert catalog is not None  # absent tables were left out above
        ids = (
            rows.select(F.get_json_object("properties", f"$.{column}").alias("id"))
            .where(F.col("id").isNotNull()).distinct()
        )
        known = catalog.select(F.col(column).cast("string").alias("id")).distinct().withColumn("known", F.lit(True))
        part = ids.join(known, "id", "left").select(
            F.lit(kind).alias("kind"), "id", F.coalesce("known", F.lit(False)).alias("in_catalog")
        )
        checked = part if checked is None else checked.unionByName(part)
    assert checked is not None  # at least one dimension is configured
    return checked


BUILDERS: dict[tuple[str, str], Builder] = {
    ("bronze", "run_rows"): bronze_run_rows,
    ("bronze", "run_metrics"): bronze_run_metrics,
    ("silver", "run_rows"): silver_run_rows,
    ("silver", "run_metrics"): silver_run_metrics,
    ("silver", "event_ids"): silver_event_ids,
    ("gold", "table"): gold_table,
    ("gold", "daily_users_check"): daily_users_check,
    ("gold", "volume"): volume,
    ("gold", "freshness"): freshness,
    ("gold", "referential"): referential,
}
