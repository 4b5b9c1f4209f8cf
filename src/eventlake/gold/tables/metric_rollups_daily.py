"""Gold table `metric_rollups_daily` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from pyspark.sql import functions as F

from eventlake.gold.table import DATE, GoldTable
from eventlake.gold.tables._metrics import metric_rollups, rollup_columns

TABLE = GoldTable(
    name="metric_rollups_daily",
    description="Per day, event name and numeric property: count, distinct users, min, max, mean, standard deviation.",
    period="day",
    grain=("event_date", "event_name", "metric"),
    columns=rollup_columns(DATE, "day"),
    aggregate=metric_rollups("event_date", lambda: F.col("event_date")),
)
