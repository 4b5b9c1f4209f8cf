"""Gold table `track_hourly` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import HOUR, NON_NEGATIVE, GoldTable, cols, count_where, named
from eventlake.gold.tables._tracks import track_events


def aggregate(silver: DataFrame) -> DataFrame:
    return (
        track_events(silver).groupBy("event_hour", "track_id")
        .agg(
            count_where(named("track.play_start")).alias("play_start_count"),
            count_where(named("track.play_complete")).alias("play_complete_count"),
            F.coalesce(F.sum("duration_played_seconds"), F.lit(0.0)).alias("total_seconds_played"),
            F.countDistinct("session_id").alias("unique_sessions"),
        )
    )


TABLE = GoldTable(
    name="track_hourly",
    description="Per hour and track: starts, completions, seconds played, sessions.",
    period="hour",
    grain=("event_hour", "track_id"),
    columns=cols(
        HOUR,
        ("track_id", "string", "Track (ULID, properties.track_id)."),
        ("play_start_count", "long", "Count of track.play_start.", NON_NEGATIVE),
        ("play_complete_count", "long", "Count of track.play_complete.", NON_NEGATIVE),
        ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events (0 when none carry it).", NON_NEGATIVE),
        ("unique_sessions", "long", "Distinct session_id of the track.* events.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    contract=True,
)
