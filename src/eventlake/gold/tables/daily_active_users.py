"""Gold table `daily_active_users` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import DATE, MARKET, NON_NEGATIVE, PLATFORM, GoldTable, cols, known, named


def aggregate(silver: DataFrame) -> DataFrame:
    return (
        silver.withColumn("market", known("market")).withColumn("platform", known("platform"))
        .groupBy("event_date", "market", "platform")
        .agg(
            F.countDistinct(F.when(named("playback.started"), F.col("user_key"))).alias("active_users"),
            F.countDistinct("session_id").alias("sessions"),
            F.count(F.lit(1)).alias("events"),
        )
    )


TABLE = GoldTable(
    name="daily_active_users",
    description="Per day, market and platform: users who started playback, sessions and events.",
    period="day",
    grain=("event_date", "market", "platform"),
    columns=cols(
        DATE, MARKET, PLATFORM,
        ("active_users", "long", "Distinct non-null user_key with a playback.started that day.", NON_NEGATIVE),
        ("sessions", "long", "Distinct session_id over all events.", NON_NEGATIVE),
        ("events", "long", "All silver events.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    contract=True,
    audit_data="daily_users_check",
    expectations=(
        {
            "name": "active_users_within_silver_users",
            "type": "ExpectColumnPairValuesAToBeGreaterThanB",
            "severity": "critical",
            "kwargs": {"column_A": "silver_distinct_users", "column_B": "active_users", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
            "notes": "active_users never exceeds the distinct users silver holds for that day.",
        },
    ),
)
