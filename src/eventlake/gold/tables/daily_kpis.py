"""Gold table `daily_kpis` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import NON_NEGATIVE, RATIO, GoldTable, cols, named, property_value, ratio

MAU_WINDOW_DAYS = 30


def aggregate(silver: DataFrame) -> DataFrame:
    # Few shuffles, each a stage of its own: this table's rows are one aggregate of the
    # days and their content hours, and one of the (day, user) playback starts, joined.
    days = silver.groupBy("event_date").agg(
        (F.sum(F.when(named("playback.stopped"), property_value("total_duration_ms", "double"))) / 3_600_000)
        .alias("content_hours")
    )
    watchers = (
        silver.where(named("playback.started") & F.col("user_key").isNotNull())
        .select("event_date", "user_key").distinct()
    )
    # Each (day, user) start counts in the 30-day windows ending that day and the 29 after;
    # `days_after` 0 is the day itself, where it counts in DAU.
    windows = watchers.select(
        F.posexplode(F.sequence("event_date", F.date_add("event_date", MAU_WINDOW_DAYS - 1)))
        .alias("days_after", "event_date"),
        "user_key",
    )
    # Both count user_key (never null here), so column lineage names it for both.
    users = (
        windows.groupBy("event_date", "user_key").agg(F.min("days_after").alias("days_after"))
        .groupBy("event_date")
        .agg(
            F.count("user_key").alias("mau_30d"),
            F.count(F.when(F.col("days_after") == 0, F.col("user_key"))).alias("dau"),
        )
    )
    return (
        days.join(users, "event_date", "left")
        .select(
            "event_date",
            F.coalesce("dau", F.lit(0)).alias("dau"),
            F.coalesce("mau_30d", F.lit(0)).alias("mau_30d"),
            F.coalesce("content_hours", F.lit(0.0)).alias("content_hours"),
        )
        .withColumn("engagement_rate", ratio(F.col("dau"), F.col("mau_30d")))
    )


TABLE = GoldTable(
    name="daily_kpis",
    description="Per day: DAU, 30-day MAU, engagement rate and content hours.",
    period="day",
    grain=("event_date",),
    columns=cols(
        ("event_date", "date", "UTC day; one row for every day with silver events."),
        ("dau", "long", "Distinct non-null user_key with a playback.started that day.", NON_NEGATIVE),
        ("mau_30d", "long", "Distinct non-null user_key with a playback.started in the 30 days ending that day (the day and the 29 before).", NON_NEGATIVE),
        ("engagement_rate", "double", "dau / mau_30d; null when mau_30d is 0.", RATIO),
        ("content_hours", "double", "Sum of total_duration_ms of playback.stopped that day / 3,600,000.", NON_NEGATIVE),
    ),
    aggregate=aggregate,
    affects_days_after=MAU_WINDOW_DAYS - 1,
    reads_days_before=MAU_WINDOW_DAYS - 1,
    contract=True,
    audit_data="daily_users_check",
    expectations=(
        {
            "name": "dau_within_silver_users",
            "type": "ExpectColumnPairValuesAToBeGreaterThanB",
            "severity": "critical",
            "kwargs": {"column_A": "silver_distinct_users", "column_B": "dau", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
        },
        {
            "name": "dau_within_mau",
            "type": "ExpectColumnPairValuesAToBeGreaterThanB",
            "severity": "critical",
            "kwargs": {"column_A": "mau_30d", "column_B": "dau", "or_equal": True},
        },
    ),
)
