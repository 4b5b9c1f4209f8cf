"""Gold table `event_metrics_weekly` (contract §6); docs/gold.md renders it."""

from __future__ import annotations

from eventlake.gold.table import WEEK, GoldTable, week_start
from eventlake.gold.tables._metrics import event_metrics, metric_columns

TABLE = GoldTable(
    name="event_metrics_weekly",
    description="Per ISO week and event name: events, distinct users and sessions over the whole week.",
    period="week",
    grain=("week_start", "event_name"),
    columns=metric_columns(WEEK, "ISO week"),
    aggregate=event_metrics("week_start", week_start),
    contract=True,
)
