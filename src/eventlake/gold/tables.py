"""The gold tables (contract §6 and docs/gold.md): grain, columns with their meaning, and a
pure `compute(silver) -> DataFrame` for each.

A table's `compute` aggregates whatever silver rows it is given. The builder
(`eventlake.gold.build`) decides which periods to rebuild, hands `compute` the silver days
those periods need (`silver_days`) and keeps only the rebuilt periods' rows, so a partial
recomputation equals the full one by construction.

Every figure follows the contract's rules: distinct counts exact (`countDistinct`), weekly
and 30-day figures distinct over their whole window, percentiles exact with linear
interpolation (`percentile`), null `market`/`platform` reported as "unknown", ratios null
when their denominator is 0, and a row only for grain values with a contributing event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    MapType,
    StringType,
    StructField,
    StructType,
)

from eventlake.gold.periods import date_predicate, days_between, hour_predicate, monday, shift

Period = Literal["day", "hour", "week"]

UNKNOWN = "unknown"
SUCCESS_WINDOW_SECONDS = 300  # contract §6: a play at most 300 s after the query
MAU_WINDOW_DAYS = 30
COMPLETION_THRESHOLD_PERCENT = 90
TOP_TRACKS_PER_DAY = 100


@dataclass(frozen=True)
class GoldColumn:
    name: str
    type: str  # Spark SQL type name: date, timestamp, string, long, double
    comment: str


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

    @property
    def period_column(self) -> str:
        return self.grain[0]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def comments(self) -> dict[str, str]:
        return {c.name: c.comment for c in self.columns}

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

    def period_predicate(self, periods: Iterable[date]) -> str:
        """SQL condition selecting `periods` in this table (for replaceWhere and filters)."""
        if self.period == "hour":
            return hour_predicate(self.period_column, periods)
        return date_predicate(self.period_column, periods, step=7 if self.period == "week" else 1)


def finish(frame: DataFrame, columns: Iterable[GoldColumn]) -> DataFrame:
    """The final explicit select: BI types and a comment on every column (Delta keeps it)."""
    return frame.select(
        *[
            F.col(c.name).cast(c.type).alias(c.name, metadata={"comment": c.comment})
            for c in columns
        ]
    )


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


def _cols(*spec: tuple[str, str, str]) -> tuple[GoldColumn, ...]:
    return tuple(GoldColumn(*s) for s in spec)


# --- contract §6 ------------------------------------------------------------------------


def _daily_active_users(silver: DataFrame) -> DataFrame:
    return (
        silver.withColumn("market", known("market")).withColumn("platform", known("platform"))
        .groupBy("event_date", "market", "platform")
        .agg(
            F.countDistinct(F.when(named("playback.started"), F.col("user_key"))).alias("active_users"),
            F.countDistinct("session_id").alias("sessions"),
            F.count(F.lit(1)).alias("events"),
        )
    )


def _daily_kpis(silver: DataFrame) -> DataFrame:
    days = silver.select("event_date").distinct()
    watchers = (
        silver.where(named("playback.started") & F.col("user_key").isNotNull())
        .select("event_date", "user_key").distinct()
    )
    # Each (day, user) start counts in the 30-day windows ending that day and the 29 after.
    mau = (
        watchers.select(
            F.explode(F.sequence("event_date", F.date_add("event_date", MAU_WINDOW_DAYS - 1)))
            .alias("event_date"),
            "user_key",
        )
        .groupBy("event_date").agg(F.countDistinct("user_key").alias("mau_30d"))
    )
    dau = watchers.groupBy("event_date").agg(F.countDistinct("user_key").alias("dau"))
    hours = (
        with_properties(silver.where(named("playback.stopped")), total_duration_ms="double")
        .groupBy("event_date")
        .agg((F.sum("total_duration_ms") / 3_600_000).alias("content_hours"))
    )
    return (
        days.join(dau, "event_date", "left").join(mau, "event_date", "left")
        .join(hours, "event_date", "left")
        .select(
            "event_date",
            F.coalesce("dau", F.lit(0)).alias("dau"),
            F.coalesce("mau_30d", F.lit(0)).alias("mau_30d"),
            F.coalesce("content_hours", F.lit(0.0)).alias("content_hours"),
        )
        .withColumn("engagement_rate", ratio(F.col("dau"), F.col("mau_30d")))
    )


def _content_engagement(silver: DataFrame) -> DataFrame:
    playback = with_properties(
        silver.where(named("playback.started", "playback.stopped")),
        content_id="string", content_type="string",
        total_duration_ms="double", completion_percent="double",
    )
    started, stopped = named("playback.started"), named("playback.stopped")
    return (
        playback.groupBy("event_date", "content_id", "content_type")
        .agg(
            count_where(started).alias("views"),
            F.countDistinct(F.when(started, F.col("user_key"))).alias("unique_viewers"),
            count_where(stopped).alias("stops"),
            count_where(stopped & (F.col("completion_percent") > COMPLETION_THRESHOLD_PERCENT))
            .alias("completions"),
            F.avg(F.when(stopped, F.col("total_duration_ms"))).alias("avg_watch_time_ms"),
        )
        .withColumn("completion_rate", ratio(F.col("completions"), F.col("stops")))
    )


def _qoe_summary(silver: DataFrame) -> DataFrame:
    qoe = with_properties(
        silver.where(named("playback.started", "playback.rebuffer", "playback.error")),
        start_time_ms="double", rebuffer_duration_ms="double",
    )
    started = named("playback.started")
    return (
        qoe.withColumn("platform", known("platform")).withColumn("market", known("market"))
        .groupBy("event_hour", "platform", "market")
        .agg(
            count_where(started).alias("playback_starts"),
            F.percentile(F.when(started, F.col("start_time_ms")), F.lit(0.95)).alias("start_time_p95_ms"),
            count_where(named("playback.rebuffer")).alias("rebuffer_events"),
            sum_where(named("playback.rebuffer"), "rebuffer_duration_ms").alias("rebuffer_ms"),
            count_where(named("playback.error")).alias("playback_errors"),
        )
        .withColumn("error_rate", ratio(F.col("playback_errors"), F.col("playback_starts")))
    )


def _followed_within(
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


def _search_performance(silver: DataFrame) -> DataFrame:
    search = silver.where(named("search.query", "search.results", "search.result.click"))
    search = with_properties(search, result_count="double").withColumn("market", known("market"))
    queries = search.where(named("search.query") & F.col("user_key").isNotNull())
    plays = silver.where(named("playback.started")).select("user_key", "event_timestamp")
    successful = (
        _followed_within(queries, plays, ["user_key"], SUCCESS_WINDOW_SECONDS)
        .groupBy("event_date", "market").agg(F.count(F.lit(1)).alias("successful_queries"))
    )
    return (
        search.groupBy("event_date", "market")
        .agg(
            count_where(named("search.query")).alias("queries"),
            count_where(named("search.results") & (F.col("result_count") == 0)).alias("zero_result_queries"),
            count_where(named("search.result.click")).alias("result_clicks"),
        )
        .join(successful, ["event_date", "market"], "left")
        .withColumn("successful_queries", F.coalesce("successful_queries", F.lit(0)))
        .withColumn("success_rate", ratio(F.col("successful_queries"), F.col("queries")))
    )


def _track_events(silver: DataFrame) -> DataFrame:
    return with_properties(
        silver.where(F.col("event_name").startswith("track.")),
        track_id="string", duration_played_seconds="double",
    )


def _track_hourly(silver: DataFrame) -> DataFrame:
    return (
        _track_events(silver).groupBy("event_hour", "track_id")
        .agg(
            count_where(named("track.play_start")).alias("play_start_count"),
            count_where(named("track.play_complete")).alias("play_complete_count"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.countDistinct("session_id").alias("unique_sessions"),
        )
    )


def _track_daily(silver: DataFrame) -> DataFrame:
    return (
        _track_events(silver).groupBy("event_date", "track_id")
        .agg(
            count_where(named("track.play_start")).alias("total_plays"),
            count_where(named("track.play_complete")).alias("completed_plays"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.countDistinct("user_key").alias("unique_listeners"),
            F.countDistinct("session_id").alias("unique_sessions"),
        )
    )


def _user_activity_daily(silver: DataFrame) -> DataFrame:
    start = named("track.play_start")
    return (
        _track_events(silver.where(F.col("user_key").isNotNull()))
        .groupBy("event_date", "user_key")
        .agg(
            F.countDistinct(F.when(start, F.col("track_id"))).alias("tracks_played"),
            count_where(start).alias("total_plays"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.max("event_timestamp").alias("last_activity_at"),
        )
    )


def _event_metrics(period_column: str, period: Callable[[], Column]) -> Callable[[DataFrame], DataFrame]:
    def aggregate(silver: DataFrame) -> DataFrame:
        return (
            silver.withColumn(period_column, period()).groupBy(period_column, "event_name")
            .agg(
                F.count(F.lit(1)).alias("events"),
                F.countDistinct("user_key").alias("distinct_users"),
                F.countDistinct("session_id").alias("distinct_sessions"),
            )
        )

    return aggregate


# --- the source documents' other gold tables (docs/gold.md) ------------------------------


def _channel_performance(silver: DataFrame) -> DataFrame:
    channel = with_properties(
        silver.where(named("channel.tune", "channel.tune_away")),
        channel_id="string", tune_time_ms="double", view_duration_ms="double",
    )
    tune, away = named("channel.tune"), named("channel.tune_away")
    return (
        channel.where(F.col("channel_id").isNotNull()).withColumn("market", known("market"))
        .groupBy("event_hour", "channel_id", "market")
        .agg(
            F.countDistinct(F.when(tune, F.col("user_key"))).alias("viewers"),
            count_where(tune).alias("tune_ins"),
            count_where(away).alias("tune_aways"),
            F.avg(F.when(away, F.col("view_duration_ms"))).alias("avg_view_duration_ms"),
            F.percentile(F.when(tune, F.col("tune_time_ms")), F.lit(0.95)).alias("tune_time_p95_ms"),
        )
    )


def _recommendation_performance(silver: DataFrame) -> DataFrame:
    # Tiles name their rail's type and variant; older clients only name the rail, whose
    # rail.impression that day says the rest.
    rails = (
        with_properties(
            silver.where(named("rail.impression")),
            rail_id="string", rail_type="string", algorithm_variant="string",
        )
        .where(F.col("rail_id").isNotNull())
        .groupBy("event_date", "rail_id")
        .agg(F.max("rail_type").alias("rail_rail_type"), F.max("algorithm_variant").alias("rail_variant"))
    )
    tiles = with_properties(
        silver.where(named("tile.impression", "tile.click")),
        rail_id="string", rail_type="string", algorithm_variant="string",
        content_id="string", is_personalized="boolean",
    )
    clicks = tiles.where(named("tile.click"))
    plays = with_properties(silver.where(named("playback.started")), content_id="string")
    played = (
        _followed_within(clicks, plays, ["session_id", "content_id"], SUCCESS_WINDOW_SECONDS)
        .select("event_id", F.lit(True).alias("resulted_in_play"))
    )
    click, impression = named("tile.click"), named("tile.impression")
    return (
        tiles.join(rails, ["event_date", "rail_id"], "left")
        .join(played, "event_id", "left")
        .withColumn("rail_type", F.coalesce("rail_type", "rail_rail_type", F.lit(UNKNOWN)))
        .withColumn("algorithm_variant", F.coalesce("algorithm_variant", "rail_variant", F.lit(UNKNOWN)))
        .groupBy("event_date", "rail_type", "algorithm_variant")
        .agg(
            count_where(impression).alias("impressions"),
            count_where(impression & F.col("is_personalized")).alias("personalized_impressions"),
            count_where(click).alias("clicks"),
            count_where(click & F.col("resulted_in_play")).alias("resulting_plays"),
        )
        .withColumn("ctr", ratio(F.col("clicks"), F.col("impressions")))
        .withColumn("resulting_play_rate", ratio(F.col("resulting_plays"), F.col("clicks")))
    )


def _recording_activity(silver: DataFrame) -> DataFrame:
    recording = with_properties(
        silver.where(F.col("event_name").startswith("recording.")),
        recording_type="string", is_ai_suggested="boolean", quota_utilization_percent="double",
    )
    return (
        recording.withColumn("market", known("market"))
        .withColumn("recording_type", known("recording_type"))
        .groupBy("event_date", "market", "recording_type")
        .agg(
            count_where(named("recording.scheduled")).alias("scheduled"),
            count_where(named("recording.scheduled") & F.col("is_ai_suggested")).alias("ai_suggested_scheduled"),
            count_where(named("recording.cancelled")).alias("cancelled"),
            count_where(named("recording.completed")).alias("completed"),
            count_where(named("recording.played")).alias("played"),
            count_where(named("recording.deleted")).alias("deleted"),
            F.countDistinct("user_key").alias("distinct_users"),
            F.avg("quota_utilization_percent").alias("avg_quota_utilization_percent"),
            F.max("quota_utilization_percent").alias("max_quota_utilization_percent"),
        )
    )


def _monetization_funnel(silver: DataFrame) -> DataFrame:
    funnel = with_properties(
        silver.where(named("paywall.shown", "paywall.action", "purchase.completed")),
        content_id="string", paywall_type="string", action="string",
        price="double", currency="string",
    )
    # Actions and purchases may omit paywall_type: they are then credited to the latest
    # paywall the same session showed for the same content earlier that day.
    shown = funnel.where(named("paywall.shown")).select(
        "event_date", "session_id", "content_id",
        F.col("event_timestamp").alias("shown_at"), F.col("paywall_type").alias("shown_type"),
    )
    follow_ups = funnel.where(~named("paywall.shown"))
    credited = (
        follow_ups.join(shown, ["event_date", "session_id", "content_id"], "left")
        .where(F.col("shown_at").isNull() | (F.col("shown_at") <= F.col("event_timestamp")))
        .groupBy("event_id")
        .agg(F.max_by("shown_type", F.struct("shown_at", "shown_type")).alias("credited_type"))
    )
    rows = (
        funnel.join(credited, "event_id", "left")
        .withColumn("paywall_type", F.coalesce("paywall_type", "credited_type", F.lit(UNKNOWN)))
        .withColumn("market", known("market"))
    )
    purchase = named("purchase.completed")
    action = named("paywall.action")
    return (
        rows.groupBy("event_date", "market", "paywall_type")
        .agg(
            count_where(named("paywall.shown")).alias("paywall_views"),
            count_where(action).alias("actions"),
            count_where(action & (F.col("action") == "dismiss")).alias("dismissals"),
            count_where(purchase).alias("conversions"),
            F.sum(F.when(purchase, F.col("price"))).alias("_revenue"),
            F.collect_set(F.when(purchase, F.col("currency"))).alias("_currencies"),
        )
        .withColumn("conversion_rate", ratio(F.col("conversions"), F.col("paywall_views")))
        .withColumn(
            "revenue_currency",
            F.when(F.size("_currencies") == 1, F.col("_currencies")[0])
            .when(F.size("_currencies") > 1, F.lit("mixed")),
        )
        .withColumn(
            "revenue",
            F.when(F.size("_currencies") <= 1, F.coalesce(F.col("_revenue"), F.lit(0.0))),
        )
    )


@lru_cache(maxsize=1)
def numeric_properties() -> tuple[tuple[str, str], ...]:
    """(event_name, property) for every number/integer property the taxonomy declares."""
    from eventlake.taxonomy import load_taxonomy

    return tuple(
        sorted(
            (event.name, prop.name)
            for event in load_taxonomy()
            for prop in event.properties
            if prop.type in ("number", "integer")
        )
    )


def _metric_rollups(period_column: str, period: Callable[[], Column]) -> Callable[[DataFrame], DataFrame]:
    def aggregate(silver: DataFrame) -> DataFrame:
        pairs = numeric_properties()
        measured = sorted({event for event, _ in pairs})
        # event_name -> its numeric properties, so each event is exploded into its metrics.
        metric_names = F.create_map(
            *[
                x
                for event in measured
                for x in (F.lit(event), F.array(*[F.lit(p) for e, p in pairs if e == event]))
            ]
        )
        values = silver.where(named(*measured)).select(
            period().alias(period_column), "event_name", "user_key",
            F.from_json("properties", MapType(StringType(), StringType())).alias("_values"),
            F.explode(metric_names[F.col("event_name")]).alias("metric"),
        ).select(
            period_column, "event_name", "user_key", "metric",
            F.col("_values")[F.col("metric")].try_cast("double").alias("value"),
        ).where(F.col("value").isNotNull())
        return (
            values.groupBy(period_column, "event_name", "metric")
            .agg(
                F.count(F.lit(1)).alias("events"),
                F.countDistinct("user_key").alias("distinct_users"),
                F.min("value").alias("min_value"),
                F.max("value").alias("max_value"),
                F.avg("value").alias("avg_value"),
                F.stddev_samp("value").alias("stddev_value"),
            )
        )

    return aggregate


def _top_tracks_daily(silver: DataFrame) -> DataFrame:
    from pyspark.sql import Window

    ranking = Window.partitionBy("event_date").orderBy(
        F.desc("total_plays"), F.desc("total_seconds_played"), F.asc("track_id")
    )
    return (
        _track_daily(silver).where(F.col("total_plays") > 0)
        .withColumn("track_rank", F.row_number().over(ranking))
        .where(F.col("track_rank") <= TOP_TRACKS_PER_DAY)
    )


# --- the registry -----------------------------------------------------------------------

_MARKET = ("market", "string", 'Market (ISO 3166-1 alpha-2) of the events; "unknown" when not sent.')
_PLATFORM = ("platform", "string", 'Client platform of the events; "unknown" when not sent.')
_DATE = ("event_date", "date", "UTC day of the events (event_timestamp).")
_HOUR = ("event_hour", "timestamp", "UTC hour of the events (event_timestamp truncated to the hour).")
_WEEK = ("week_start", "date", "Monday (UTC) starting the ISO week of the events.")


def _metric_columns(period: tuple[str, str, str], window: str) -> tuple[GoldColumn, ...]:
    return _cols(
        period,
        ("event_name", "string", "Event name (domain.action)."),
        ("events", "long", f"Events of this name in the {window}."),
        ("distinct_users", "long", f"Distinct non-null user_key with this event over the whole {window}."),
        ("distinct_sessions", "long", f"Distinct session_id with this event over the whole {window}."),
    )


def _rollup_columns(period: tuple[str, str, str], window: str) -> tuple[GoldColumn, ...]:
    return _cols(
        period,
        ("event_name", "string", "Event name (domain.action)."),
        ("metric", "string", "Numeric property of the event (as declared in the taxonomy) being summarised."),
        ("events", "long", f"Events of this name carrying a numeric value for the metric in the {window}."),
        ("distinct_users", "long", f"Distinct non-null user_key of those events over the whole {window}."),
        ("min_value", "double", "Smallest value."),
        ("max_value", "double", "Largest value."),
        ("avg_value", "double", "Mean value."),
        ("stddev_value", "double", "Sample standard deviation of the values; null for a single value."),
    )


_TABLES = (
    GoldTable(
        name="daily_active_users",
        description="Per day, market and platform: users who started playback, sessions and events.",
        period="day",
        grain=("event_date", "market", "platform"),
        columns=_cols(
            _DATE, _MARKET, _PLATFORM,
            ("active_users", "long", "Distinct non-null user_key with a playback.started that day."),
            ("sessions", "long", "Distinct session_id over all events."),
            ("events", "long", "All silver events."),
        ),
        aggregate=_daily_active_users,
    ),
    GoldTable(
        name="daily_kpis",
        description="Per day: DAU, 30-day MAU, engagement rate and content hours.",
        period="day",
        grain=("event_date",),
        columns=_cols(
            ("event_date", "date", "UTC day; one row for every day with silver events."),
            ("dau", "long", "Distinct non-null user_key with a playback.started that day."),
            ("mau_30d", "long", "Distinct non-null user_key with a playback.started in the 30 days ending that day (the day and the 29 before)."),
            ("engagement_rate", "double", "dau / mau_30d; null when mau_30d is 0."),
            ("content_hours", "double", "Sum of total_duration_ms of playback.stopped that day / 3,600,000."),
        ),
        aggregate=_daily_kpis,
        affects_days_after=MAU_WINDOW_DAYS - 1,
        reads_days_before=MAU_WINDOW_DAYS - 1,
    ),
    GoldTable(
        name="content_engagement",
        description="Per day and content item: views, viewers, stops, completions and watch time.",
        period="day",
        grain=("event_date", "content_id", "content_type"),
        columns=_cols(
            _DATE,
            ("content_id", "string", "Content item (properties.content_id)."),
            ("content_type", "string", "live, vod, catchup, startover or pvr (properties.content_type)."),
            ("views", "long", "Count of playback.started."),
            ("unique_viewers", "long", "Distinct non-null user_key of those playback.started."),
            ("stops", "long", "Count of playback.stopped."),
            ("completions", "long", "playback.stopped with completion_percent > 90."),
            ("completion_rate", "double", "completions / stops; null when stops is 0."),
            ("avg_watch_time_ms", "double", "Mean total_duration_ms of the playback.stopped; null when there are none."),
        ),
        aggregate=_content_engagement,
    ),
    GoldTable(
        name="qoe_summary",
        description="Per hour, platform and market: playback starts, start time p95, rebuffering and errors.",
        period="hour",
        grain=("event_hour", "platform", "market"),
        columns=_cols(
            _HOUR, _PLATFORM, _MARKET,
            ("playback_starts", "long", "Count of playback.started."),
            ("start_time_p95_ms", "double", "Exact 95th percentile (linear interpolation) of start_time_ms of playback.started; null without starts."),
            ("rebuffer_events", "long", "Count of playback.rebuffer."),
            ("rebuffer_ms", "double", "Sum of rebuffer_duration_ms of playback.rebuffer (0 without rebuffers)."),
            ("playback_errors", "long", "Count of playback.error."),
            ("error_rate", "double", "playback_errors / playback_starts; null when there are no starts."),
        ),
        aggregate=_qoe_summary,
    ),
    GoldTable(
        name="search_performance",
        description="Per day and market: queries, zero-result queries, clicks and queries followed by playback within 300 s.",
        period="day",
        grain=("event_date", "market"),
        columns=_cols(
            ("event_date", "date", "UTC day of the search events (for successful_queries: of the query)."),
            _MARKET,
            ("queries", "long", "Count of search.query."),
            ("zero_result_queries", "long", "search.results with result_count 0."),
            ("result_clicks", "long", "Count of search.result.click."),
            ("successful_queries", "long", "search.query whose user_key has a playback.started later than the query and at most 300 s later (possibly the next day)."),
            ("success_rate", "double", "successful_queries / queries; null when queries is 0."),
        ),
        aggregate=_search_performance,
        affects_days_before=1,  # a play just after midnight makes yesterday's query successful
        reads_days_after=1,
    ),
    GoldTable(
        name="track_hourly",
        description="Per hour and track: starts, completions, seconds played, sessions.",
        period="hour",
        grain=("event_hour", "track_id"),
        columns=_cols(
            _HOUR,
            ("track_id", "string", "Track (ULID, properties.track_id)."),
            ("play_start_count", "long", "Count of track.play_start."),
            ("play_complete_count", "long", "Count of track.play_complete."),
            ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events (0 when none carry it)."),
            ("unique_sessions", "long", "Distinct session_id of the track.* events."),
        ),
        aggregate=_track_hourly,
    ),
    GoldTable(
        name="track_daily",
        description="Per day and track: plays, completed plays, seconds played, listeners, sessions.",
        period="day",
        grain=("event_date", "track_id"),
        columns=_cols(
            _DATE,
            ("track_id", "string", "Track (ULID, properties.track_id)."),
            ("total_plays", "long", "Count of track.play_start."),
            ("completed_plays", "long", "Count of track.play_complete."),
            ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events (0 when none carry it)."),
            ("unique_listeners", "long", "Distinct non-null user_key over all track.* events."),
            ("unique_sessions", "long", "Distinct session_id over all track.* events."),
        ),
        aggregate=_track_daily,
    ),
    GoldTable(
        name="user_activity_daily",
        description="Per day and pseudonymous user: listening activity over track.* events.",
        period="day",
        grain=("event_date", "user_key"),
        columns=_cols(
            _DATE,
            ("user_key", "string", "Pseudonymous user key (salted SHA-256); users without one are not listed."),
            ("tracks_played", "long", "Distinct track_id with a track.play_start."),
            ("total_plays", "long", "Count of track.play_start."),
            ("total_seconds_played", "double", "Sum of duration_played_seconds over the user's track.* events."),
            ("last_activity_at", "timestamp", "Latest event_timestamp of the user's track.* events that day (UTC)."),
        ),
        aggregate=_user_activity_daily,
    ),
    GoldTable(
        name="event_metrics_daily",
        description="Per day and event name: events, distinct users and sessions.",
        period="day",
        grain=("event_date", "event_name"),
        columns=_metric_columns(_DATE, "day"),
        aggregate=_event_metrics("event_date", lambda: F.col("event_date")),
    ),
    GoldTable(
        name="event_metrics_weekly",
        description="Per ISO week and event name: events, distinct users and sessions over the whole week.",
        period="week",
        grain=("week_start", "event_name"),
        columns=_metric_columns(_WEEK, "ISO week"),
        aggregate=_event_metrics("week_start", week_start),
    ),
    # Beyond the contract: the other gold tables of the source documents (docs/gold.md).
    GoldTable(
        name="channel_performance",
        description="Per hour, live channel and market: viewers, tune-ins, tune-aways, view duration, tune time p95.",
        period="hour",
        grain=("event_hour", "channel_id", "market"),
        columns=_cols(
            _HOUR,
            ("channel_id", "string", "Live channel (properties.channel_id)."),
            _MARKET,
            ("viewers", "long", "Distinct non-null user_key with a channel.tune."),
            ("tune_ins", "long", "Count of channel.tune."),
            ("tune_aways", "long", "Count of channel.tune_away."),
            ("avg_view_duration_ms", "double", "Mean view_duration_ms of the channel.tune_away; null without any."),
            ("tune_time_p95_ms", "double", "Exact 95th percentile (linear interpolation) of tune_time_ms of channel.tune; null without any."),
        ),
        aggregate=_channel_performance,
    ),
    GoldTable(
        name="recommendation_performance",
        description="Per day and rail type: tile impressions, clicks, CTR and clicks followed by playback.",
        period="day",
        grain=("event_date", "rail_type", "algorithm_variant"),
        columns=_cols(
            _DATE,
            ("rail_type", "string", 'editorial, ai_recommended, continue_watching or trending: the tile\'s rail_type, else that of the day\'s rail.impression of its rail_id, else "unknown".'),
            ("algorithm_variant", "string", 'Recommendation model variant that filled the rail (tile, else its rail.impression that day); "unknown" when not sent.'),
            ("impressions", "long", "Count of tile.impression."),
            ("personalized_impressions", "long", "tile.impression with is_personalized true."),
            ("clicks", "long", "Count of tile.click."),
            ("ctr", "double", "clicks / impressions; null when impressions is 0."),
            ("resulting_plays", "long", "tile.click followed in the same session by a playback.started of the same content_id later and at most 300 s later."),
            ("resulting_play_rate", "double", "resulting_plays / clicks; null when clicks is 0."),
        ),
        aggregate=_recommendation_performance,
        affects_days_before=1,
        reads_days_after=1,
    ),
    GoldTable(
        name="recording_activity",
        description="Per day, market and recording type: recordings scheduled, cancelled, completed, played, deleted.",
        period="day",
        grain=("event_date", "market", "recording_type"),
        columns=_cols(
            _DATE, _MARKET,
            ("recording_type", "string", 'single or series (properties.recording_type); "unknown" for events without it.'),
            ("scheduled", "long", "Count of recording.scheduled."),
            ("ai_suggested_scheduled", "long", "recording.scheduled with is_ai_suggested true."),
            ("cancelled", "long", "Count of recording.cancelled."),
            ("completed", "long", "Count of recording.completed."),
            ("played", "long", "Count of recording.played."),
            ("deleted", "long", "Count of recording.deleted."),
            ("distinct_users", "long", "Distinct non-null user_key over the recording.* events."),
            ("avg_quota_utilization_percent", "double", "Mean quota_utilization_percent (share of the recording quota in use) reported by recording.scheduled/completed; null when none."),
            ("max_quota_utilization_percent", "double", "Largest quota_utilization_percent reported; null when none."),
        ),
        aggregate=_recording_activity,
    ),
    GoldTable(
        name="monetization_funnel",
        description="Per day, market and paywall type: paywall views, actions, purchases and revenue.",
        period="day",
        grain=("event_date", "market", "paywall_type"),
        columns=_cols(
            _DATE, _MARKET,
            ("paywall_type", "string", 'subscribe, tvod_rent, tvod_buy or upgrade: the event\'s paywall_type; actions and purchases without one are credited to the latest paywall.shown of the same session and content_id at or before them that day; else "unknown".'),
            ("paywall_views", "long", "Count of paywall.shown."),
            ("actions", "long", "Count of paywall.action (any action, dismiss included)."),
            ("dismissals", "long", "paywall.action with action dismiss."),
            ("conversions", "long", "Count of purchase.completed."),
            ("conversion_rate", "double", "conversions / paywall_views; null when paywall_views is 0."),
            ("revenue", "double", "Sum of price of purchase.completed, in revenue_currency; null when the purchases mix currencies."),
            ("revenue_currency", "string", 'The purchases\' currency; "mixed" when they use several; null without purchases.'),
        ),
        aggregate=_monetization_funnel,
    ),
    GoldTable(
        name="metric_rollups_daily",
        description="Per day, event name and numeric property: count, distinct users, min, max, mean, standard deviation.",
        period="day",
        grain=("event_date", "event_name", "metric"),
        columns=_rollup_columns(_DATE, "day"),
        aggregate=_metric_rollups("event_date", lambda: F.col("event_date")),
    ),
    GoldTable(
        name="metric_rollups_weekly",
        description="Per ISO week, event name and numeric property: the same, over the whole week.",
        period="week",
        grain=("week_start", "event_name", "metric"),
        columns=_rollup_columns(_WEEK, "ISO week"),
        aggregate=_metric_rollups("week_start", week_start),
    ),
    GoldTable(
        name="top_tracks_daily",
        description=f"Per day: the {TOP_TRACKS_PER_DAY} most played tracks, ranked.",
        period="day",
        grain=("event_date", "track_rank"),
        columns=_cols(
            _DATE,
            ("track_rank", "long", "1 = most track.play_start that day; ties by seconds played, then track_id."),
            ("track_id", "string", "Track (ULID)."),
            ("total_plays", "long", "Count of track.play_start."),
            ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events."),
            ("unique_listeners", "long", "Distinct non-null user_key over all track.* events."),
        ),
        aggregate=_top_tracks_daily,
    ),
)

GOLD_TABLES: Mapping[str, GoldTable] = {table.name: table for table in _TABLES}
CONTRACT_TABLES = (
    "daily_active_users", "daily_kpis", "content_engagement", "qoe_summary",
    "search_performance", "track_hourly", "track_daily", "user_activity_daily",
    "event_metrics_daily", "event_metrics_weekly",
)
