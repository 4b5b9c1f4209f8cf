"""Gold table `event_metrics_daily` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import functions as F

from eventlake.gold.table import DATE, GoldTable
from eventlake.gold.tables._metrics import event_metrics, metric_columns

TABLE = GoldTable(
    name="event_metrics_daily",
    description="Per day and event name: events, distinct users and sessions.",
    period="day",
    grain=("event_date", "event_name"),
    columns=metric_columns(DATE, "day"),
    aggregate=event_metrics("event_date", lambda: F.col("event_date")),
    contract=True,
)
