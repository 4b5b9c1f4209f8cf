"""Gold table `content_engagement` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, NON_NEGATIVE, RATIO, GoldTable, cols, count_where, named, ratio, with_properties

COMPLETION_THRESHOLD_PERCENT = 90


def aggregate(silver: DataFrame) -> DataFrame:
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


TABLE = GoldTable(
    name="content_engagement",
    description="Per day and content item: views, viewers, stops, completions and watch time.",
    period="day",
    grain=("event_date", "content_id", "content_type"),
    columns=cols(
        DATE,
        ("content_id", "string", "Content item (properties.content_id)."),
        ("content_type", "string", "live, vod, catchup, startover or pvr (properties.content_type)."),
        ("views", "long", "Count of playback.started.", NON_NEGATIVE),
        ("unique_viewers", "long", "Distinct non-null user_key of those playback.started.", NON_NEGATIVE),
        ("stops", "long", "Count of playback.stopped.", NON_NEGATIVE),
        ("completions", "long", "playback.stopped with completion_percent > 90.", NON_NEGATIVE),
        ("completion_rate", "double", "completions / stops; null when stops is 0.", RATIO),
        ("avg_watch_time_ms", "double", "Mean total_duration_ms of the playback.stopped; null when there are none.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    contract=True,
)
