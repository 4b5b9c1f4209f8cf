"""Retention vs gold (contract §6): silver's retention keeps gold history, an erasure does not."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F

from eventlake.gold.build import build_gold
from eventlake.gold.tables import GOLD_TABLES
from eventlake.maintenance.erasure import erase_user
from eventlake.maintenance.retention import RetentionPolicy, apply_retention
from eventlake.privacy import pseudonymous_key
from eventlake.schemas import SILVER_EVENTS

pytestmark = pytest.mark.unit

OLD, NEW = date(2023, 1, 5), date(2024, 4, 9)  # retention as of 2024-04-10 keeps from 2023-04-11
AS_OF = date(2024, 4, 10)


def event(event_id: str, name: str, day: date, user_key: str, hour: int, **props) -> tuple:
    import json

    values = {c: None for c in SILVER_EVENTS.fieldNames()}
    ts = datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)
    values.update(
        event_id=event_id, event_name=name, event_domain=name.split(".")[0],
        event_timestamp=ts, event_date=day, event_hour=ts.replace(minute=0), user_key=user_key,
        session_id=f"s-{user_key[:6]}-{day}", schema_version=1, market="US", platform="web",
        properties=json.dumps(props), client_ts_skewed=False,
    )
    return tuple(values[c] for c in SILVER_EVENTS.fieldNames())


def gold_rows(spark, lake) -> dict[str, set[tuple]]:
    return {
        name: {tuple(r) for r in spark.read.format("delta").load(lake.gold(name).path).collect()}
        for name in GOLD_TABLES
    }


def test_retention_keeps_gold_history_and_an_erasure_changes_gold(spark, settings, lake):
    keys = {raw: pseudonymous_key(raw, settings.pseudonym_salt) for raw in ("user-a", "user-b")}
    rows = []
    for i, (day, raw) in enumerate([(d, u) for d in (OLD, NEW) for u in keys]):
        k = keys[raw]
        rows += [
            event(f"p{i}", "playback.started", day, k, 10, content_id="c1", content_type="vod",
                  start_time_ms=900 + i),
            event(f"t{i}", "track.play_start", day, k, 11, track_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
                  duration_played_seconds=30.0),
        ]
    (spark.createDataFrame(rows, SILVER_EVENTS).write.format("delta")
     .option("delta.enableChangeDataFeed", "true").partitionBy("event_date")
     .save(lake.silver_events.path))
    build_gold(spark, settings)
    before = gold_rows(spark, lake)
    assert any(r[0] == OLD for r in before["daily_kpis"])
    assert {r[1] for r in before["user_activity_daily"] if r[0] == OLD} == set(keys.values())

    removed = apply_retention(spark, lake, AS_OF, RetentionPolicy())
    assert removed.rows_removed["silver.events"] == 4
    assert spark.read.format("delta").load(lake.silver_events.path).where(
        F.col("event_date") == OLD).count() == 0
    build_gold(spark, settings)

    assert gold_rows(spark, lake) == before  # every gold row kept, OLD included
    # An explicit recompute (an Airflow backfill) over the retained day keeps it as well: it
    # rebuilds only what silver still holds.
    build_gold(spark, settings, from_date=OLD, to_date=NEW)
    assert gold_rows(spark, lake) == before

    erase_user(spark, settings, "user-a", request_id="r-1",
               erased_at=datetime(2024, 4, 10, 12, tzinfo=UTC))
    build_gold(spark, settings)
    after = gold_rows(spark, lake)

    # The per-user table lost the user everywhere, the retained OLD day included...
    assert {(r[0], r[1]) for r in after["user_activity_daily"]} == {
        (OLD, keys["user-b"]), (NEW, keys["user-b"])}
    # ...the periods silver holds equal a recomputation from silver without the user...
    silver = spark.read.format("delta").load(lake.silver_events.path)
    for name, table in GOLD_TABLES.items():
        recomputed = {tuple(r) for r in table.compute(silver).collect()}
        held = {r for r in after[name] if _period_day(r) >= date(2023, 4, 11)}
        assert held == recomputed, name
    # ...and the aggregates of the OLD day are the history gold kept.
    kpis = {r[0]: r for r in after["daily_kpis"]}
    assert kpis[OLD] == next(r for r in before["daily_kpis"] if r[0] == OLD)
    assert kpis[NEW] != next(r for r in before["daily_kpis"] if r[0] == NEW)


def _period_day(row: tuple) -> date:
    first = row[0]
    return first.date() if isinstance(first, datetime) else first
