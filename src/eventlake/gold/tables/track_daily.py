"""Gold table `track_daily` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, NON_NEGATIVE, GoldTable, cols, count_where, named
from eventlake.gold.tables._tracks import track_events


def aggregate(silver: DataFrame) -> DataFrame:
    return (
        track_events(silver).groupBy("event_date", "track_id")
        .agg(
            count_where(named("track.play_start")).alias("total_plays"),
            count_where(named("track.play_complete")).alias("completed_plays"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.countDistinct("user_key").alias("unique_listeners"),
            F.countDistinct("session_id").alias("unique_sessions"),
        )
    )


TABLE = GoldTable(
    name="track_daily",
    description="Per day and track: plays, completed plays, seconds played, listeners, sessions.",
    period="day",
    grain=("event_date", "track_id"),
    columns=cols(
        DATE,
        ("track_id", "string", "Track (ULID, properties.track_id)."),
        ("total_plays", "long", "Count of track.play_start.", NON_NEGATIVE),
        ("completed_plays", "long", "Count of track.play_complete.", NON_NEGATIVE),
        ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events (0 when none carry it).", NON_NEGATIVE),
        ("unique_listeners", "long", "Distinct non-null user_key over all track.* events.", NON_NEGATIVE),
        ("unique_sessions", "long", "Distinct session_id over all track.* events.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    contract=True,
)
