"""Gold table `user_activity_daily` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, NON_NEGATIVE, GoldTable, cols, count_where, named
from eventlake.gold.tables._tracks import track_events


def aggregate(silver: DataFrame) -> DataFrame:
    start = named("track.play_start")
    return (
        track_events(silver.where(F.col("user_key").isNotNull()))
        .groupBy("event_date", "user_key")
        .agg(
            F.countDistinct(F.when(start, F.col("track_id"))).alias("tracks_played"),
            count_where(start).alias("total_plays"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.max("event_timestamp").alias("last_activity_at"),
        )
    )


TABLE = GoldTable(
    name="user_activity_daily",
    description="Per day and pseudonymous user: listening activity over track.* events.",
    period="day",
    grain=("event_date", "user_key"),
    columns=cols(
        DATE,
        ("user_key", "string", "Pseudonymous user key (salted SHA-256); users without one are not listed."),
        ("tracks_played", "long", "Distinct track_id with a track.play_start.", NON_NEGATIVE),
        ("total_plays", "long", "Count of track.play_start.", NON_NEGATIVE),
        ("total_seconds_played", "double", "Sum of duration_played_seconds over the user's track.* events.", NON_NEGATIVE),
        ("last_activity_at", "timestamp", "Latest event_timestamp of the user's track.* events that day (UTC)."),
    ),
    aggregate=aggregate,
    contract=True,
    expectations=(
        {
            "name": "user_key_is_sha256_hex",
            "type": "ExpectColumnValuesToMatchRegex",
            "severity": "critical",
            "kwargs": {"column": "user_key", "regex": "^[0-9a-f]{64}$"},
        },
    ),
)
