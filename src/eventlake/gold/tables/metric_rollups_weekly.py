"""Gold table `metric_rollups_weekly` (from the source documents, beyond the contract); docs/gold.md renders it."""

from __future__ import annotations

from eventlake.gold.table import WEEK, GoldTable, week_start
from eventlake.gold.tables._metrics import metric_rollups, rollup_columns

TABLE = GoldTable(
    name="metric_rollups_weekly",
    description="Per ISO week, event name and numeric property: the same, over the whole week.",
    period="week",
    grain=("week_start", "event_name", "metric"),
    columns=rollup_columns(WEEK, "ISO week"),
    aggregate=metric_rollups("week_start", week_start),
    notes="Exact over the week: computed from the week's events, never from the daily rows.",
)
