"""Gold table `monetization_funnel` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from eventlake.gold.table import (
    DATE,
    MARKET,
    NON_NEGATIVE,
    UNKNOWN,
    GoldTable,
    cols,
    count_where,
    known,
    named,
    ratio,
    ratio_may_exceed_one,
    with_properties,
)


def aggregate(silver: DataFrame) -> DataFrame:
    funnel = with_properties(
        silver.where(named("paywall.shown", "paywall.action", "purchase.completed")),
        content_id="string", paywall_type="string", action="string",
        price="double", currency="string",
    )
    # Actions and purchases may omit paywall_type: they are then credited to the latest
    # paywall the same session showed for the same content earlier that day.
    shown = funnel.where(named("paywall.shown")).select(
        "event_date", "session_id", "content_id",
        F.col("event_timestamp").alias("shown_at"), F.col("paywall_type").alias("shown_type"),
    )
    follow_ups = funnel.where(~named("paywall.shown"))
    credited = (
        follow_ups.join(shown, ["event_date", "session_id", "content_id"], "left")
        .where(F.col("shown_at").isNull() | (F.col("shown_at") <= F.col("event_timestamp")))
        .groupBy("event_id")
        .agg(F.max_by("shown_type", F.struct("shown_at", "shown_type")).alias("credited_type"))
    )
    rows = (
        funnel.join(credited, "event_id", "left")
        .withColumn("paywall_type", F.coalesce("paywall_type", "credited_type", F.lit(UNKNOWN)))
        .withColumn("market", known("market"))
    )
    purchase = named("purchase.completed")
    action = named("paywall.action")
    return (
        rows.groupBy("event_date", "market", "paywall_type")
        .agg(
            count_where(named("paywall.shown")).alias("paywall_views"),
            count_where(action).alias("actions"),
            count_where(action & (F.col("action") == "dismiss")).alias("dismissals"),
            count_where(purchase).alias("conversions"),
            F.sum(F.when(purchase, F.col("price"))).alias("_revenue"),
            F.collect_set(F.when(purchase, F.col("currency"))).alias("_currencies"),
        )
        .withColumn("conversion_rate", ratio(F.col("conversions"), F.col("paywall_views")))
        .withColumn(
            "revenue_currency",
            F.when(F.size("_currencies") == 1, F.col("_currencies")[0])
            .when(F.size("_currencies") > 1, F.lit("mixed")),
        )
        .withColumn(
            "revenue",
            F.when(F.size("_currencies") <= 1, F.coalesce(F.col("_revenue"), F.lit(0.0))),
        )
    )


TABLE = GoldTable(
    name="monetization_funnel",
    description="Per day, market and paywall type: paywall views, actions, purchases and revenue.",
    period="day",
    grain=("event_date", "market", "paywall_type"),
    columns=cols(
        DATE, MARKET,
        ("paywall_type", "string", 'subscribe, tvod_rent, tvod_buy or upgrade: the event\'s paywall_type; actions and purchases without one are credited to the latest paywall.shown of the same session and content_id at or before them that day; else "unknown".'),
        ("paywall_views", "long", "Count of paywall.shown.", NON_NEGATIVE),
        ("actions", "long", "Count of paywall.action (any action, dismiss included).", NON_NEGATIVE),
        ("dismissals", "long", "paywall.action with action dismiss.", NON_NEGATIVE),
        ("conversions", "long", "Count of purchase.completed.", NON_NEGATIVE),
        ("conversion_rate", "double", "conversions / paywall_views; null when paywall_views is 0."),
        ("revenue", "double", "Sum of price of purchase.completed, in revenue_currency; null when the purchases mix currencies.", NON_NEGATIVE),
        ("revenue_currency", "string", 'The purchases\' currency; "mixed" when they use several; null without purchases.'),
    ),
    aggregate=aggregate,
    notes="`revenue` is 0 for a group without purchases.",
    expectations=(
        ratio_may_exceed_one(
            "conversion_rate",
            "conversions / paywall_views of the same day; a purchase without a"
            " paywall shown that day is possible",
        ),
    ),
)
