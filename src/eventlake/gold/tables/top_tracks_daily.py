"""Gold table `top_tracks_daily` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, NON_NEGATIVE, GoldTable, cols
from eventlake.gold.tables.track_daily import aggregate as track_daily

TOP_TRACKS_PER_DAY = 100


def aggregate(silver: DataFrame) -> DataFrame:
    ranking = Window.partitionBy("event_date").orderBy(
        F.desc("total_plays"), F.desc("total_seconds_played"), F.asc("track_id")
    )
    return (
        track_daily(silver).where(F.col("total_plays") > 0)
        .withColumn("track_rank", F.row_number().over(ranking))
        .where(F.col("track_rank") <= TOP_TRACKS_PER_DAY)
    )


TABLE = GoldTable(
    name="top_tracks_daily",
    description=f"Per day: the {TOP_TRACKS_PER_DAY} most played tracks, ranked.",
    period="day",
    grain=("event_date", "track_rank"),
    columns=cols(
        DATE,
        ("track_rank", "long", "1 = most track.play_start that day; ties by seconds played, then track_id.", NON_NEGATIVE),
        ("track_id", "string", "Track (ULID)."),
        ("total_plays", "long", "Count of track.play_start.", NON_NEGATIVE),
        ("total_seconds_played", "double", "Sum of duration_played_seconds over all track.* events.", NON_NEGATIVE),
        ("unique_listeners", "long", "Distinct non-null user_key over all track.* events.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    expectations=(
        {
            "name": "track_rank_within_top",
            "type": "ExpectColumnValuesToBeBetween",
            "severity": "critical",
            "kwargs": {"column": "track_rank", "min_value": 1, "max_value": TOP_TRACKS_PER_DAY},
            "notes": f"Ranks 1 to {TOP_TRACKS_PER_DAY}: only the day's top tracks are kept.",
        },
    ),
)
