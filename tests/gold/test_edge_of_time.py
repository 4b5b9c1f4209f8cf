"""Events at the very first and last instant a UTC timestamp can hold reach silver (contract
§5 rule 2 only refuses what cannot be held), so gold must build them: no period arithmetic
may step past 0001-01-01 or 9999-12-31, and the tables still equal a full recomputation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pyspark.sql import functions as F

from eventlake.gold.tables import GOLD_TABLES
from goldcases import lake_settings
from goldrows import silver_row, write_silver

FIRST_DAY, LAST_DAY = date.min, date.max
EDGES = {FIRST_DAY, LAST_DAY}
# The contract's tables, which the rows below feed (the others see no event of theirs, and
# building them here would prove nothing).
FED = {
    "daily_active_users", "daily_kpis", "content_engagement", "qoe_summary", "search_performance",
    "track_hourly", "track_daily", "user_activity_daily", "event_metrics_daily", "event_metrics_weekly",
}


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(GOLD_TABLES))
def test_period_arithmetic_stays_within_the_calendar(name):
    table = GOLD_TABLES[name]
    periods = table.affected_periods(EDGES, LAST_DAY)
    assert {table.period_of(d) for d in EDGES} <= periods
    days = table.silver_days(periods)
    assert EDGES <= days and min(days) >= FIRST_DAY and max(days) <= LAST_DAY
    assert table.period_predicate(periods)  # renders without stepping past the calendar
    assert table.periods_between(LAST_DAY, LAST_DAY) == {table.period_of(LAST_DAY)}


def edge_rows(user: str, minute: int) -> list[dict]:
    first = datetime(1, 1, 1, 0, minute, tzinfo=UTC)
    last = datetime(9999, 12, 31, 23, minute, tzinfo=UTC)
    rows = []
    for when in (first, last):
        rows += [
            silver_row("playback.started", when, user=user, content_id="c", content_type="vod", start_time_ms=10),
            silver_row("playback.stopped", when, user=user, content_id="c", content_type="vod",
                       position_ms=5, total_duration_ms=60_000, completion_percent=95),
            silver_row("search.query", when, user=user, query_text="q", search_type="text"),
            silver_row("track.play_start", when, user=user, track_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
                       duration_played_seconds=3),
        ]
    return rows


@pytest.mark.e2e
def test_gold_builds_the_first_and_last_day_and_equals_a_recomputation(spark, tmp_path):
    from eventlake.gold.build import build_gold
    from eventlake.lake import Lake

    settings = lake_settings(tmp_path)
    lake = Lake.from_settings(settings)
    write_silver(spark, lake.silver_events.path, edge_rows("u1", 10))
    # The first build as before eventlake wrote TIMESTAMP_MICROS: Spark's INT96, which a
    # rebuild must leave to Spark (delta-rs reads INT96 as nanoseconds: rewriting such a
    # file, it kept its rows twice). Lakes written before that change hold such files.
    chosen = spark.conf.get("spark.sql.parquet.outputTimestampType")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "INT96")
    try:
        build_gold(spark, settings, tables=sorted(FED), run_id="full")
    finally:
        spark.conf.set("spark.sql.parquet.outputTimestampType", chosen)
    # Late rows on both edge days: the incremental run rebuilds exactly those periods.
    write_silver(spark, lake.silver_events.path, edge_rows("u2", 20))
    run = build_gold(spark, settings, tables=sorted(FED), run_id="late")
    assert {t.mode for t in run.tables} == {"incremental"}

    silver = spark.read.format("delta").load(lake.silver_events.path)
    for name in sorted(FED):
        gold = spark.read.format("delta").load(lake.gold(name).path)
        expected = GOLD_TABLES[name].compute(silver)
        # Compared in Spark: Python cannot hold every instant of year 1 in every zone.
        assert gold.count() == expected.count() > 0, name
        assert gold.exceptAll(expected).count() == 0 and expected.exceptAll(gold).count() == 0, name

    # Readers other than Spark see the same instants. Spark's default Parquet timestamp,
    # INT96, is read as nanoseconds elsewhere: delta-rs refused these tables and pyarrow
    # read year 9999 as 1816.
    from eventlake.gold.show import read_rows
    from eventlake.lake import open_delta

    stored = {"silver.events": lake.silver_events.path} | {f"gold.{name}": lake.gold(name).path for name in FED}
    for name, path in stored.items():
        spark_table = spark.read.format("delta").load(path)
        for column in (f.name for f in spark_table.schema if f.dataType.typeName() == "timestamp"):
            expected_instants = sorted(
                r[0] or "-" for r in spark_table.select(F.date_format(column, "yyyy-MM-dd HH:mm:ss.SSSSSS")).collect()
            )
            read = open_delta(settings, path).to_pyarrow_table(columns=[column]).column(column).to_pylist()
            assert sorted(map(utc_text, read)) == expected_instants, (name, column)
    hours, total = read_rows(settings, GOLD_TABLES["track_hourly"], limit=100)  # `eventlake show`
    assert total == len(hours) == 2 and {h["event_hour"].year for h in hours} == {1, 9999}


def utc_text(instant: datetime | None) -> str:
    if instant is None:
        return "-"
    instant = instant.astimezone(UTC)
    return f"{instant.year:04d}-{instant:%m-%d %H:%M:%S.%f}"
