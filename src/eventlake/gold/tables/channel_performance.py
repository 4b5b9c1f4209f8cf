"""Gold table `channel_performance` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import HOUR, MARKET, NON_NEGATIVE, GoldTable, cols, count_where, known, named, with_properties


def aggregate(silver: DataFrame) -> DataFrame:
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


TABLE = GoldTable(
    name="channel_performance",
    description="Per hour, live channel and market: viewers, tune-ins, tune-aways, view duration, tune time p95.",
    period="hour",
    grain=("event_hour", "channel_id", "market"),
    columns=cols(
        HOUR,
        ("channel_id", "string", "Live channel (properties.channel_id)."),
        MARKET,
        ("viewers", "long", "Distinct non-null user_key with a channel.tune.", NON_NEGATIVE),
        ("tune_ins", "long", "Count of channel.tune.", NON_NEGATIVE),
        ("tune_aways", "long", "Count of channel.tune_away.", NON_NEGATIVE),
        ("avg_view_duration_ms", "double", "Mean view_duration_ms of the channel.tune_away; null without any.", NON_NEGATIVE),
        ("tune_time_p95_ms", "double", "Exact 95th percentile (linear interpolation) of tune_time_ms of channel.tune; null without any.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
)
