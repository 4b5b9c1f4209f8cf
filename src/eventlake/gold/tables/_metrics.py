"""The daily and weekly pairs: event_metrics_* (events, users, sessions per event name) and
metric_rollups_* (statistics of every numeric property the taxonomy declares). Each pair is
one aggregate over a period column, the day or the ISO week's Monday."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType

from eventlake.gold.table import NON_NEGATIVE, GoldColumn, cols, named


def event_metrics(period_column: str, period: Callable[[], Column]) -> Callable[[DataFrame], DataFrame]:
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


def metric_columns(period: tuple[str, str, str], window: str) -> tuple[GoldColumn, ...]:
    return cols(
        period,
        ("event_name", "string", "Event name (domain.action)."),
        ("events", "long", f"Events of this name in the {window}.", NON_NEGATIVE),
        ("distinct_users", "long", f"Distinct non-null user_key with this event over the whole {window}.", NON_NEGATIVE),
        ("distinct_sessions", "long", f"Distinct session_id with this event over the whole {window}.", NON_NEGATIVE),
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


def metric_rollups(period_column: str, period: Callable[[], Column]) -> Callable[[DataFrame], DataFrame]:
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
            # pyspark's stubs list StructType and ArrayType only; from_json takes a MapType as well.
            F.from_json("properties", MapType(StringType(), StringType())).alias("_values"),  # type: ignore[arg-type]
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


def rollup_columns(period: tuple[str, str, str], window: str) -> tuple[GoldColumn, ...]:
    return cols(
        period,
        ("event_name", "string", "Event name (domain.action)."),
        ("metric", "string", "Numeric property of the event (as declared in the taxonomy) being summarised."),
        ("events", "long", f"Events of this name carrying a numeric value for the metric in the {window}.", NON_NEGATIVE),
        ("distinct_users", "long", f"Distinct non-null user_key of those events over the whole {window}.", NON_NEGATIVE),
        ("min_value", "double", "Smallest value."),
        ("max_value", "double", "Largest value."),
        ("avg_value", "double", "Mean value."),
        ("stddev_value", "double", "Sample standard deviation of the values; null for a single value.", NON_NEGATIVE),
    )
