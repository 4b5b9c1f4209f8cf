"""Gold table `qoe_summary` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import (
    HOUR,
    MARKET,
    NON_NEGATIVE,
    PLATFORM,
    GoldTable,
    cols,
    count_where,
    known,
    named,
    ratio,
    ratio_may_exceed_one,
    sum_where,
    with_properties,
)


def aggregate(silver: DataFrame) -> DataFrame:
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


TABLE = GoldTable(
    name="qoe_summary",
    description="Per hour, platform and market: playback starts, start time p95, rebuffering and errors.",
    period="hour",
    grain=("event_hour", "platform", "market"),
    columns=cols(
        HOUR, PLATFORM, MARKET,
        ("playback_starts", "long", "Count of playback.started.", NON_NEGATIVE),
        ("start_time_p95_ms", "double", "Exact 95th percentile (linear interpolation) of start_time_ms of playback.started; null without starts.", NON_NEGATIVE),
        ("rebuffer_events", "long", "Count of playback.rebuffer.", NON_NEGATIVE),
        ("rebuffer_ms", "double", "Sum of rebuffer_duration_ms of playback.rebuffer (0 without rebuffers).", NON_NEGATIVE),
        ("playback_errors", "long", "Count of playback.error.", NON_NEGATIVE),
        ("error_rate", "double", "playback_errors / playback_starts; null when there are no starts."),
    ),
    aggregate=aggregate,
    contract=True,
    expectations=(
        ratio_may_exceed_one(
            "error_rate",
            "errors / starts of the same hour; an hour with more errors than starts"
            " (errors of sessions started earlier) is possible",
        ),
    ),
)
