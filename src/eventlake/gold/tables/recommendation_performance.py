"""Gold table `recommendation_performance` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import (
    DATE,
    NON_NEGATIVE,
    RATIO,
    SUCCESS_WINDOW_SECONDS,
    UNKNOWN,
    GoldTable,
    cols,
    count_where,
    followed_within,
    named,
    ratio,
    ratio_may_exceed_one,
    with_properties,
)


def aggregate(silver: DataFrame) -> DataFrame:
    # Tiles name their rail's type and variant; older clients only name the rail, whose
    # rail.impression that day says the rest.
    rails = (
        with_properties(
            silver.where(named("rail.impression")),
            rail_id="string", rail_type="string", algorithm_variant="string",
        )
        .where(F.col("rail_id").isNotNull())
        .groupBy("event_date", "rail_id")
        .agg(F.max("rail_type").alias("rail_rail_type"), F.max("algorithm_variant").alias("rail_variant"))
    )
    tiles = with_properties(
        silver.where(named("tile.impression", "tile.click")),
        rail_id="string", rail_type="string", algorithm_variant="string",
        content_id="string", is_personalized="boolean",
    )
    clicks = tiles.where(named("tile.click"))
    plays = with_properties(silver.where(named("playback.started")), content_id="string")
    played = (
        followed_within(clicks, plays, ["session_id", "content_id"], SUCCESS_WINDOW_SECONDS)
        .select("event_id", F.lit(True).alias("resulted_in_play"))
    )
    click, impression = named("tile.click"), named("tile.impression")
    return (
        tiles.join(rails, ["event_date", "rail_id"], "left")
        .join(played, "event_id", "left")
        .withColumn("rail_type", F.coalesce("rail_type", "rail_rail_type", F.lit(UNKNOWN)))
        .withColumn("algorithm_variant", F.coalesce("algorithm_variant", "rail_variant", F.lit(UNKNOWN)))
        .groupBy("event_date", "rail_type", "algorithm_variant")
        .agg(
            count_where(impression).alias("impressions"),
            count_where(impression & F.col("is_personalized")).alias("personalized_impressions"),
            count_where(click).alias("clicks"),
            count_where(click & F.col("resulted_in_play")).alias("resulting_plays"),
        )
        .withColumn("ctr", ratio(F.col("clicks"), F.col("impressions")))
        .withColumn("resulting_play_rate", ratio(F.col("resulting_plays"), F.col("clicks")))
    )


TABLE = GoldTable(
    name="recommendation_performance",
    description="Per day and rail type: tile impressions, clicks, CTR and clicks followed by playback.",
    period="day",
    grain=("event_date", "rail_type", "algorithm_variant"),
    columns=cols(
        DATE,
        ("rail_type", "string", 'editorial, ai_recommended, continue_watching or trending: the tile\'s rail_type, else that of the day\'s rail.impression of its rail_id, else "unknown".'),
        ("algorithm_variant", "string", 'Recommendation model variant that filled the rail (tile, else its rail.impression that day); "unknown" when not sent.'),
        ("impressions", "long", "Count of tile.impression.", NON_NEGATIVE),
        ("personalized_impressions", "long", "tile.impression with is_personalized true.", NON_NEGATIVE),
        ("clicks", "long", "Count of tile.click.", NON_NEGATIVE),
        ("ctr", "double", "clicks / impressions; null when impressions is 0."),
        ("resulting_plays", "long", "tile.click followed in the same session by a playback.started of the same content_id later and at most 300 s later.", NON_NEGATIVE),
        ("resulting_play_rate", "double", "resulting_plays / clicks; null when clicks is 0.", RATIO),
    ),
    aggregate=aggregate,
    notes=(
        "A tile's `rail_type` and `algorithm_variant` are its own properties; when it omits them,"
        " those of the day's `rail.impression` with the same `rail_id` (the greatest, should"
        ' several disagree); else `"unknown"`.'
    ),
    expectations=(
        ratio_may_exceed_one(
            "ctr",
            "clicks / impressions of the same day and rail type; a click on a tile"
            " shown the day before is possible",
        ),
    ),
    affects_days_before=1,
    reads_days_after=1,
)
