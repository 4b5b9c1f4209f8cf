"""Gold table `search_performance` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import (
    MARKET,
    NON_NEGATIVE,
    RATIO,
    SUCCESS_WINDOW_SECONDS,
    GoldTable,
    cols,
    count_where,
    followed_within,
    known,
    named,
    ratio,
    with_properties,
)


def aggregate(silver: DataFrame) -> DataFrame:
    search = silver.where(named("search.query", "search.results", "search.result.click"))
    search = with_properties(search, result_count="double").withColumn("market", known("market"))
    queries = search.where(named("search.query") & F.col("user_key").isNotNull())
    plays = silver.where(named("playback.started")).select("user_key", "event_timestamp")
    successful = (
        followed_within(queries, plays, ["user_key"], SUCCESS_WINDOW_SECONDS)
        .groupBy("event_date", "market").agg(F.count(F.lit(1)).alias("successful_queries"))
    )
    return (
        search.groupBy("event_date", "market")
        .agg(
            count_where(named("search.query")).alias("queries"),
            count_where(named("search.results") & (F.col("result_count") == 0)).alias("zero_result_queries"),
            count_where(named("search.result.click")).alias("result_clicks"),
        )
        .join(successful, ["event_date", "market"], "left")
        .withColumn("successful_queries", F.coalesce("successful_queries", F.lit(0)))
        .withColumn("success_rate", ratio(F.col("successful_queries"), F.col("queries")))
    )


TABLE = GoldTable(
    name="search_performance",
    description="Per day and market: queries, zero-result queries, clicks and queries followed by playback within 300 s.",
    period="day",
    grain=("event_date", "market"),
    columns=cols(
        ("event_date", "date", "UTC day of the search events (for successful_queries: of the query)."),
        MARKET,
        ("queries", "long", "Count of search.query.", NON_NEGATIVE),
        ("zero_result_queries", "long", "search.results with result_count 0.", NON_NEGATIVE),
        ("result_clicks", "long", "Count of search.result.click.", NON_NEGATIVE),
        ("successful_queries", "long", "search.query whose user_key has a playback.started later than the query and at most 300 s later (possibly the next day).", NON_NEGATIVE),
        ("success_rate", "double", "successful_queries / queries; null when queries is 0.", RATIO),
    ),
    aggregate=aggregate,
    notes=(
        "Choices the contract leaves open: a `search.query` without `user_key` (a kids profile)"
        " cannot be successful; the query's day and market place the row even when the play is"
        " the next day."
    ),
    affects_days_before=1,  # a play just after midnight makes yesterday's query successful
    reads_days_after=1,
    contract=True,
)
