"""Silver rows for gold tests: built from short dicts, written like the silver job writes.

`silver_row()` fills the contract §5 columns a test does not care about; `write_silver()`
appends (or MERGEs) them into a lake's `silver/events` Delta table, partitioned by
`event_date` with change data feed on (the session default). `to_duckdb()` hands the same
rows to an independent DuckDB reference computation.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pyarrow as pa

from eventlake.schemas import SILVER_COLUMNS, SILVER_EVENTS

_ids = count(1)


def at(day: date, clock: str) -> datetime:
    """A UTC timestamp on `day` at "HH:MM[:SS[.ffffff]]"."""
    parts = clock.split(":")
    hours, minutes = int(parts[0]), int(parts[1])
    seconds = float(parts[2]) if len(parts) > 2 else 0.0
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=hours, minutes=minutes, seconds=seconds
    )


def silver_row(
    event_name: str,
    when: datetime,
    *,
    user: str | None = None,
    session: str = "s-default",
    market: str | None = "DE",
    platform: str | None = "web",
    kids: bool = False,
    event_id: str | None = None,
    **properties: object,
) -> dict:
    """One silver row; `user` becomes user_key (a kids row never has one)."""
    return {
        "event_id": event_id or f"e{next(_ids):06d}",
        "event_name": event_name,
        "event_domain": event_name.split(".", 1)[0],
        "event_timestamp": when,
        "event_date": when.date(),
        "event_hour": when.replace(minute=0, second=0, microsecond=0),
        "client_timestamp": None,
        "client_ts_skewed": False,
        "user_key": None if kids or user is None else f"uk-{user}",
        "profile_key": None,
        "device_key": None,
        "session_id": session,
        "profile_kind": "kids" if kids else "standard",
        "device_type": platform,
        "platform": platform,
        "app_version": "1.0.0",
        "os_version": None,
        "market": market,
        "connection_type": None,
        "no_personalization": False,
        "no_ad_targeting": False,
        "schema_version": 1,
        "properties": json.dumps(properties),
        "ip_truncated": "203.0.113.0",
        "user_agent": None,
        "collector_id": "test",
        "source_file": "test.jsonl",
        "ingested_at": when,
        "ua_browser": None,
        "ua_os": None,
        "ua_device": None,
    }


def silver_frame(spark, rows: list[dict]):
    return spark.createDataFrame([tuple(r[c] for c in SILVER_COLUMNS) for r in rows], SILVER_EVENTS)


def write_silver(spark, path: str, rows: list[dict]) -> None:
    """Add rows to silver as the silver job does: append by event_date, or MERGE on event_id."""
    from delta.tables import DeltaTable

    frame = silver_frame(spark, rows)
    if not DeltaTable.isDeltaTable(spark, path):
        frame.write.format("delta").partitionBy("event_date").save(path)
        return
    (
        DeltaTable.forPath(spark, path).alias("s")
        .merge(frame.alias("n"), "s.event_id = n.event_id")
        .whenNotMatchedInsertAll()
        .execute()
    )


def to_duckdb(connection, rows: list[dict], name: str = "silver") -> None:
    """Register the rows as a DuckDB table; timestamps as naive UTC (DuckDB TIMESTAMP)."""
    columns = {c: [] for c in SILVER_COLUMNS}
    for row in rows:
        for c in SILVER_COLUMNS:
            value = row[c]
            if isinstance(value, datetime):
                value = value.astimezone(UTC).replace(tzinfo=None)
            columns[c].append(value)
    types = {f.name: f.dataType.simpleString() for f in SILVER_EVENTS.fields}
    arrow_types = {
        "string": pa.string(), "timestamp": pa.timestamp("us"), "date": pa.date32(),
        "boolean": pa.bool_(), "int": pa.int32(), "bigint": pa.int64(),
    }
    table = pa.table({c: pa.array(v, arrow_types[types[c]]) for c, v in columns.items()})
    connection.register(f"{name}_arrow", table)
    connection.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
    connection.unregister(f"{name}_arrow")


def utc(value: object) -> object:
    """DuckDB's naive UTC timestamps back to aware ones (what Spark's rows mean)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
