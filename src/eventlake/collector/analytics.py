"""Source 002's two read models, answered from silver (docs/kafka.md, "002's queries").

- `GET /v1/analytics/events/recent?limit=50`: the newest events, for debugging, dashboards
  and audit trails;
- `GET /v1/analytics/metrics/summary?windowMinutes=60`: counts per event type and a time
  histogram over the last window (default `ANALYTICS_METRICS_WINDOW_MINUTES`).

Silver is read with delta-rs (no JVM), pruned to the `event_date` partitions the question
needs. Silver changes when the pipeline runs, so these answers are as fresh as its last run.
The shapes follow 002's `analytics_events` columns (`id`, `event_type`, `source`,
`occurred_at`, `ingested_at`, `tenant_id`, `payload`); ids are silver's pseudonymous keys.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from eventlake.config import Settings
from eventlake.lake import Lake, open_delta

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50  # 002's example
MAX_WINDOW_MINUTES = 7 * 24 * 60
# The histogram's bucket: the smallest of these that gives at most 60 buckets.
BUCKET_MINUTES = (1, 5, 15, 60, 360, 1440)
COLUMNS = ["event_id", "event_name", "event_timestamp", "event_date", "client_timestamp", "ingested_at",
           "collector_id", "user_key", "properties"]


def _dataset(settings: Settings) -> Any:
    table = open_delta(settings, Lake.from_settings(settings).silver_events.path)
    return None if table is None else table.to_pyarrow_dataset()


def _rows_since(dataset: Any, since: datetime) -> list[dict[str, Any]]:
    """Silver rows with event_timestamp >= since (UTC), read from the partitions that can hold them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stamp_type = dataset.schema.field("event_timestamp").type
    bound = since if getattr(stamp_type, "tz", None) else since.replace(tzinfo=None)
    condition = (pc.field("event_date") >= pa.scalar(since.date(), pa.date32())) & (
        pc.field("event_timestamp") >= pa.scalar(bound, type=stamp_type))
    rows: list[dict[str, Any]] = dataset.to_table(columns=COLUMNS, filter=condition).to_pylist()
    return rows


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _received(row: dict[str, Any]) -> datetime:
    moment = _utc(row["event_timestamp"])
    assert moment is not None  # silver's event_timestamp is never null (contract §5 rule 2)
    return moment


def _iso(value: datetime | None) -> str | None:
    moment = _utc(value)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z") if moment else None


def as_002_event(row: dict[str, Any]) -> dict[str, Any]:
    """A silver row as one of 002's `analytics_events` rows."""
    payload = orjson.loads(row["properties"]) if row.get("properties") else {}
    fields = payload if isinstance(payload, dict) else {}
    return {
        "id": row["event_id"],
        "event_type": row["event_name"],
        "source": fields.get("source") or row.get("collector_id"),
        "occurred_at": _iso(row.get("client_timestamp") or row["event_timestamp"]),
        "received_at": _iso(row["event_timestamp"]),
        "ingested_at": _iso(row.get("ingested_at")),
        "tenant_id": fields.get("tenant_id"),
        "user_key": row.get("user_key"),
        "payload": payload,
    }


def recent_events(settings: Settings, now: datetime, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """The `limit` newest events by receipt time, newest first: a day of partitions is read
    first, then a week, a month, a year and everything, until there are enough."""
    dataset = _dataset(settings)
    if dataset is None:
        return []
    rows: list[dict[str, Any]] = []
    for days in (1, 7, 31, 366, None):
        since = now - timedelta(days=days) if days is not None else datetime(1, 1, 2, tzinfo=timezone.utc)
        rows = _rows_since(dataset, since)
        if len(rows) >= limit:
            break
    rows.sort(key=lambda r: (_received(r), r["event_id"]), reverse=True)
    return [as_002_event(row) for row in rows[:limit]]


def bucket_minutes(window_minutes: int) -> int:
    return next((b for b in BUCKET_MINUTES if window_minutes / b <= 60), BUCKET_MINUTES[-1])


def metrics_summary(settings: Settings, now: datetime, window_minutes: int) -> dict[str, Any]:
    """Counts per event type and per time bucket of the events received in the last window."""
    start = now - timedelta(minutes=window_minutes)
    dataset = _dataset(settings)
    rows = [r for r in _rows_since(dataset, start) if _received(r) <= now] if dataset is not None else []
    size = bucket_minutes(window_minutes)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)

    def bucket_of(moment: datetime) -> datetime:
        minutes = int((moment - epoch).total_seconds() // 60)
        return epoch + timedelta(minutes=minutes - minutes % size)

    counts: Counter[datetime] = Counter(bucket_of(_received(r)) for r in rows)
    buckets = []
    cursor = bucket_of(start)
    while cursor <= now:
        buckets.append({"bucket_start": _iso(cursor), "count": counts.get(cursor, 0)})
        cursor += timedelta(minutes=size)
    by_type = Counter(r["event_name"] for r in rows)
    return {
        "window_minutes": window_minutes,
        "from": _iso(start),
        "to": _iso(now),
        "total": len(rows),
        "counts_by_event_type": dict(sorted(by_type.items())),
        "bucket_minutes": size,
        "histogram": buckets,
    }
