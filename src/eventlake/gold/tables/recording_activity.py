"""Gold table `recording_activity` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, MARKET, NON_NEGATIVE, GoldTable, cols, count_where, known, named, with_properties


def aggregate(silver: DataFrame) -> DataFrame:
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


TABLE = GoldTable(
    name="recording_activity",
    description="Per day, market and recording type: recordings scheduled, cancelled, completed, played, deleted.",
    period="day",
    grain=("event_date", "market", "recording_type"),
    columns=cols(
        DATE, MARKET,
        ("recording_type", "string", 'single or series (properties.recording_type); "unknown" for events without it.'),
        ("scheduled", "long", "Count of recording.scheduled.", NON_NEGATIVE),
        ("ai_suggested_scheduled", "long", "recording.scheduled with is_ai_suggested true.", NON_NEGATIVE),
        ("cancelled", "long", "Count of recording.cancelled.", NON_NEGATIVE),
        ("completed", "long", "Count of recording.completed.", NON_NEGATIVE),
        ("played", "long", "Count of recording.played.", NON_NEGATIVE),
        ("deleted", "long", "Count of recording.deleted.", NON_NEGATIVE),
        ("distinct_users", "long", "Distinct non-null user_key over the recording.* events.", NON_NEGATIVE),
        ("avg_quota_utilization_percent", "double", "Mean quota_utilization_percent (share of the recording quota in use) reported by recording.scheduled/completed; null when none.", NON_NEGATIVE),
        ("max_quota_utilization_percent", "double", "Largest quota_utilization_percent reported; null when none.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
)
