"""What the track tables (track_hourly, track_daily, user_activity_daily, top_tracks_daily)
read: the `track.*` events with their track and seconds played."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import with_properties


def track_events(silver: DataFrame) -> DataFrame:
    return with_properties(
        silver.where(F.col("event_name").startswith("track.")),
        track_id="string", duration_played_seconds="double",
    )
