"""What a gold table is, and the expressions the tables share.

Each gold table is a module of `eventlake.gold.tables` holding one `TABLE = GoldTable(...)`:
its grain, its columns with their meaning and their checks, and a pure
`aggregate(silver) -> DataFrame`. The builder (`eventlake.gold.build`) decides which periods
to rebuild, hands the table the silver days those periods need (`silver_days`) and keeps only
the rebuilt periods' rows, so a partial recomputation equals the full one by construction.

Every figure follows the contract's rules (docs/gold.md, "Rules every table follows"):
distinct counts exact (`countDistinct`), weekly and 30-day figures distinct over their whole
window, percentiles exact with linear interpolation (`percentile`), null `market`/`platform`
reported as "unknown", ratios null when their denominator is 0, and a row only for grain
values with a contributing event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

from eventlake.gold.periods import Dialect, date_predicate, days_between, hour_predicate, monday, shift

Period = Literal["day", "hour", "week"]

UNKNOWN = "unknown"
SUCCESS_WINDOW_SECONDS = 300  # contract §6: a play at most 300 s after the query

# What the gold suite checks on a column (beyond the grain, which is always unique and
# never null): counts, sums, durations and percentiles of non-negative measures are
# NON_NEGATIVE; fractions that cannot exceed 1 are RATIO. A ratio that can (errors of
# sessions started the hour before) says so with a warning expectation of its table's own.
Check = Literal["", "non_negative", "ratio"]
NON_NEGATIVE: Final = "non_negative"
RATIO: Final = "ratio"


@dataclass(frozen=True)
class GoldColumn:
    name: str
    type: str  # Spark SQL type name: date, timestamp, string, long, double
    comment: str
    check: Check = ""


@dataclass(frozen=True)
class GoldTable:
    """One gold table: what it holds and which silver days each of its periods depends on.

    Periods are dates: the day itself ("day"), the day whose 24 hours are rebuilt ("hour"),
    or the Monday starting the ISO week ("week"). `affects_days_before/after` say which
    periods a silver change on day d can alter (d-before .. d+after); `reads_days_before/
    after` say which extra silver days recomputing a period needs.
    """

    name: str
    description: str
    period: Period
    grain: tuple[str, ...]
    columns: tuple[GoldColumn, ...]
    aggregate: Callable[[DataFrame], DataFrame]
    affects_days_before: int = 0
    affects_days_after: int = 0
    reads_days_before: int = 0
    reads_days_after: int = 0
    # Contract §6 names this table (an independent check compares it); the others come from
    # the source documents.
    contract: bool = False
    # What docs/gold.md says beyond the columns: choices the definition leaves open.
    notes: str = ""
    # The gold suite (expectations/gold.yaml, generated): which batch it validates ("table",
    # or "daily_users_check": the rows joined to silver's distinct users per day) and the
    # expectations beyond those the columns imply, in the suite file's own form.
    audit_data: str = "table"
    expectations: tuple[Mapping[str, Any], ...] = ()

    @property
    def period_column(self) -> str:
        return self.grain[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def comments(self) -> dict[str, str]:
        return {c.name: c.comment for c in self.columns}

    def suite(self) -> dict[str, Any]:
        """This table's gold suite, as expectations/gold.yaml holds it: grain unique and never
        null, every NON_NEGATIVE column at least 0, every RATIO column in [0, 1], then the
        table's own expectations."""
        suite: dict[str, Any] = {
            "name": f"gold.{self.name}", "table": f"gold.{self.name}", "data": self.audit_data,
            "grain": list(self.grain),
        }
        for key, check in (("non_negative", NON_NEGATIVE), ("ratios", RATIO)):
            checked = [c.name for c in self.columns if c.check == check]
            if checked:
                suite[key] = checked
        if self.expectations:
            suite["expectations"] = [dict(e) for e in self.expectations]
        return suite

    def compute(self, silver: DataFrame) -> DataFrame:
        """All of this table's rows derivable from `silver`, typed and commented."""
        return finish(self.aggregate(silver), self.columns)

    def period_of(self, day: date) -> date:
        return monday(day) if self.period == "week" else day

    def affected_periods(self, changed_days: Iterable[date], last_day: date | None = None) -> set[date]:
        """The periods whose rows can differ after silver changed on `changed_days`.

        `last_day` (the newest silver day) bounds forward-looking windows (mau_30d): later
        days have no silver rows and so no gold rows to change.
        """
        periods: set[date] = set()
        for day in changed_days:
            first = shift(day, -self.affects_days_before)
            last = shift(day, self.affects_days_after)
            if last_day is not None and self.affects_days_after:
                last = max(day, min(last, last_day))
            periods.update(self.period_of(d) for d in days_between(first, last))
        return periods

    def periods_between(self, first: date, last: date) -> set[date]:
        return {self.period_of(d) for d in days_between(first, last)}

    def silver_days(self, periods: Iterable[date]) -> set[date]:
        """The silver `event_date`s recomputing `periods` needs."""
        days: set[date] = set()
        for period in periods:
            first, last = period, shift(period, 6 if self.period == "week" else 0)
            days.update(
                days_between(shift(first, -self.reads_days_before), shift(last, self.reads_days_after))
            )
        return days

    def period_predicate(self, periods: Iterable[date], *, dialect: Dialect = "spark") -> str:
        """SQL condition selecting `periods` in this table (for filters and the commit that
        replaces them, which delta-rs makes: `dialect`)."""
        if self.period == "hour":
            return hour_predicate(self.period_column, periods, dialect=dialect)
        return date_predicate(self.period_column, periods, step=7 if self.period == "week" else 1)


def finish(frame: DataFrame, columns: Iterable[GoldColumn]) -> DataFrame:
    """The final explicit select: BI types and a comment on every column (Delta keeps it)."""
    return frame.select(
        *[
            F.col(c.name).cast(c.type).alias(c.name, metadata={"comment": c.comment})
            for c in columns
        ]
    )


def cols(*spec: tuple[str, str, str] | tuple[str, str, str, Check]) -> tuple[GoldColumn, ...]:
    """Columns from (name, type, comment[, check]) tuples."""
    return tuple(GoldColumn(*s) for s in spec)


def ratio_may_exceed_one(column: str, why: str) -> dict[str, Any]:
    """The table's own expectation for a ratio that can exceed 1: a warning outside [0, 1]
    (a RATIO column's bound is critical instead). `why` says how it can exceed 1."""
    return {
        "name": f"{column}_in_0_1",
        "type": "ExpectColumnValuesToBeBetween",
        "severity": "warning",
        "kwargs": {"column": column, "min_value": 0, "max_value": 1},
        "notes": f"{why}, so this only warns.",
    }


# Columns several tables share, word for word.
MARKET = ("market", "string", 'Market (ISO 3166-1 alpha-2) of the events; "unknown" when not sent.')
PLATFORM = ("platform", "string", 'Client platform of the events; "unknown" when not sent.')
DATE = ("event_date", "date", "UTC day of the events (event_timestamp).")
HOUR = ("event_hour", "timestamp", "UTC hour of the events (event_timestamp truncated to the hour).")
WEEK = ("week_start", "date", "Monday (UTC) starting the ISO week of the events.")


# --- shared expressions ---------------------------------------------------------------

_PROPERTY_TYPES = {"string": StringType(), "double": DoubleType(), "boolean": BooleanType()}


def with_properties(frame: DataFrame, **types: str) -> DataFrame:
    """Add the named `properties` fields as columns, parsed once per row.

    Numbers are read as double whatever their JSON spelling (1, 1.0, 1e3); a value of the
    wrong JSON type reads as null.
    """
    schema = StructType([StructField(name, _PROPERTY_TYPES[t]) for name, t in types.items()])
    parsed = frame.withColumn("_props", F.from_json("properties", schema))
    return parsed.select(
        *[c for c in frame.columns], *[F.col(f"_props.{name}").alias(name) for name in types]
    )


def property_value(name: str, type_name: str) -> Column:
    """One `properties` field read as `with_properties` reads it, as an expression: inside a
    `when`, only the rows the condition selects are parsed."""
    return F.from_json("properties", StructType([StructField(name, _PROPERTY_TYPES[type_name])]))[name]


def named(*names: str) -> Column:
    return F.col("event_name").isin(*names)


def known(column: str) -> Column:
    """The contract's reporting rule: a null market or platform is "unknown"."""
    return F.coalesce(F.col(column), F.lit(UNKNOWN))


def count_where(condition: Column) -> Column:
    return F.count(F.when(condition, True))


def sum_where(condition: Column, value: str) -> Column:
    return F.coalesce(F.sum(F.when(condition, F.col(value))), F.lit(0.0))


def ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator, or null when the denominator is 0."""
    return F.when(denominator != 0, numerator.cast("double") / denominator)


def week_start(column: str = "event_date") -> Column:
    return F.date_trunc("week", F.col(column)).cast("date")


def followed_within(
    first: DataFrame, then: DataFrame, keys: list[str], seconds: int
) -> DataFrame:
    """Rows of `first` with a `then` row of the same keys later and at most `seconds` later."""
    a, b = first.alias("a"), then.alias("b")
    condition = [F.col(f"a.{k}") == F.col(f"b.{k}") for k in keys] + [
        F.col("b.event_timestamp") > F.col("a.event_timestamp"),
        F.col("b.event_timestamp")
        <= F.col("a.event_timestamp") + F.expr(f"INTERVAL {seconds} SECONDS"),
    ]
    return a.join(b, condition, "left_semi")
