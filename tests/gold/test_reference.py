"""Each gold table equals an independent DuckDB (or plain Python) computation, row by row.

The references below are written from the contract's words (§6) and docs/gold.md, not
from the Spark code, over the same edge-case silver rows (conftest.edge_case_rows).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta

import duckdb
import pytest
from pyspark.sql.types import StructField, StructType
from pyspark.testing import assertDataFrameEqual

from eventlake.gold.tables import CONTRACT_TABLES, GOLD_TABLES
from eventlake.lake import Lake
from goldrows import to_duckdb, utc

pytestmark = pytest.mark.unit

P = "json_extract_string(properties, '$.{}')"
N = "CAST(json_extract(properties, '$.{}') AS DOUBLE)"

REFERENCE_SQL = {
    "daily_active_users": """
        SELECT event_date, coalesce(market, 'unknown'), coalesce(platform, 'unknown'),
               count(DISTINCT user_key) FILTER (WHERE event_name = 'playback.started'),
               count(DISTINCT session_id), count(*)
        FROM silver GROUP BY ALL
    """,
    "daily_kpis": f"""
        WITH days AS (SELECT DISTINCT event_date FROM silver),
        watched AS (SELECT DISTINCT event_date, user_key FROM silver
                    WHERE event_name = 'playback.started' AND user_key IS NOT NULL),
        figures AS (
            SELECT d.event_date,
              (SELECT count(DISTINCT user_key) FROM watched w WHERE w.event_date = d.event_date) AS dau,
              (SELECT count(DISTINCT user_key) FROM watched w
                WHERE w.event_date BETWEEN d.event_date - 29 AND d.event_date) AS mau,
              (SELECT coalesce(sum({N.format('total_duration_ms')}), 0) FROM silver s
                WHERE s.event_name = 'playback.stopped' AND s.event_date = d.event_date) AS ms
            FROM days d)
        SELECT event_date, dau, mau, CASE WHEN mau = 0 THEN NULL ELSE dau / mau END, ms / 3600000.0
        FROM figures
    """,
    "content_engagement": f"""
        SELECT event_date, {P.format('content_id')}, {P.format('content_type')},
          count(*) FILTER (WHERE event_name = 'playback.started'),
          count(DISTINCT user_key) FILTER (WHERE event_name = 'playback.started'),
          count(*) FILTER (WHERE event_name = 'playback.stopped'),
          count(*) FILTER (WHERE event_name = 'playback.stopped' AND {N.format('completion_percent')} > 90),
          count(*) FILTER (WHERE event_name = 'playback.stopped' AND {N.format('completion_percent')} > 90)
            / nullif(count(*) FILTER (WHERE event_name = 'playback.stopped'), 0),
          avg({N.format('total_duration_ms')}) FILTER (WHERE event_name = 'playback.stopped')
        FROM silver WHERE event_name IN ('playback.started', 'playback.stopped') GROUP BY ALL
    """,
    "qoe_summary": f"""
        SELECT event_hour, coalesce(platform, 'unknown'), coalesce(market, 'unknown'),
          count(*) FILTER (WHERE event_name = 'playback.started'),
          quantile_cont({N.format('start_time_ms')}, 0.95) FILTER (WHERE event_name = 'playback.started'),
          count(*) FILTER (WHERE event_name = 'playback.rebuffer'),
          coalesce(sum({N.format('rebuffer_duration_ms')}) FILTER (WHERE event_name = 'playback.rebuffer'), 0),
          count(*) FILTER (WHERE event_name = 'playback.error'),
          count(*) FILTER (WHERE event_name = 'playback.error')
            / nullif(count(*) FILTER (WHERE event_name = 'playback.started'), 0)
        FROM silver WHERE event_name IN ('playback.started', 'playback.rebuffer', 'playback.error')
        GROUP BY ALL
    """,
    "search_performance": f"""
        WITH s AS (
          SELECT *, event_name = 'search.query' AND EXISTS (
              SELECT 1 FROM silver p WHERE p.event_name = 'playback.started'
                AND p.user_key = q.user_key AND p.event_timestamp > q.event_timestamp
                AND p.event_timestamp <= q.event_timestamp + INTERVAL 300 SECOND) AS ok
          FROM silver q
          WHERE event_name IN ('search.query', 'search.results', 'search.result.click'))
        SELECT event_date, coalesce(market, 'unknown'),
          count(*) FILTER (WHERE event_name = 'search.query'),
          count(*) FILTER (WHERE event_name = 'search.results' AND {N.format('result_count')} = 0),
          count(*) FILTER (WHERE event_name = 'search.result.click'),
          count(*) FILTER (WHERE ok),
          count(*) FILTER (WHERE ok) / nullif(count(*) FILTER (WHERE event_name = 'search.query'), 0)
        FROM s GROUP BY ALL
    """,
    "track_hourly": f"""
        SELECT event_hour, {P.format('track_id')},
          count(*) FILTER (WHERE event_name = 'track.play_start'),
          count(*) FILTER (WHERE event_name = 'track.play_complete'),
          coalesce(sum({N.format('duration_played_seconds')}), 0),
          count(DISTINCT session_id)
        FROM silver WHERE event_name LIKE 'track.%' GROUP BY ALL
    """,
    "track_daily": f"""
        SELECT event_date, {P.format('track_id')},
          count(*) FILTER (WHERE event_name = 'track.play_start'),
          count(*) FILTER (WHERE event_name = 'track.play_complete'),
          coalesce(sum({N.format('duration_played_seconds')}), 0),
          count(DISTINCT user_key), count(DISTINCT session_id)
        FROM silver WHERE event_name LIKE 'track.%' GROUP BY ALL
    """,
    "user_activity_daily": f"""
        SELECT event_date, user_key,
          count(DISTINCT {P.format('track_id')}) FILTER (WHERE event_name = 'track.play_start'),
          count(*) FILTER (WHERE event_name = 'track.play_start'),
          coalesce(sum({N.format('duration_played_seconds')}), 0),
          max(event_timestamp)
        FROM silver WHERE event_name LIKE 'track.%' AND user_key IS NOT NULL GROUP BY ALL
    """,
    "event_metrics_daily": """
        SELECT event_date, event_name, count(*), count(DISTINCT user_key), count(DISTINCT session_id)
        FROM silver GROUP BY ALL
    """,
    "event_metrics_weekly": """
        SELECT CAST(date_trunc('week', event_date) AS DATE), event_name, count(*),
               count(DISTINCT user_key), count(DISTINCT session_id)
        FROM silver GROUP BY ALL
    """,
    "channel_performance": f"""
        SELECT event_hour, {P.format('channel_id')}, coalesce(market, 'unknown'),
          count(DISTINCT user_key) FILTER (WHERE event_name = 'channel.tune'),
          count(*) FILTER (WHERE event_name = 'channel.tune'),
          count(*) FILTER (WHERE event_name = 'channel.tune_away'),
          avg({N.format('view_duration_ms')}) FILTER (WHERE event_name = 'channel.tune_away'),
          quantile_cont({N.format('tune_time_ms')}, 0.95) FILTER (WHERE event_name = 'channel.tune')
        FROM silver WHERE event_name IN ('channel.tune', 'channel.tune_away') GROUP BY ALL
    """,
    "recommendation_performance": f"""
        WITH rails AS (
          SELECT event_date, {P.format('rail_id')} AS rail_id, max({P.format('rail_type')}) AS rail_type,
                 max({P.format('algorithm_variant')}) AS variant
          FROM silver WHERE event_name = 'rail.impression' GROUP BY ALL),
        tiles AS (
          SELECT t.*,
            coalesce({P.format('rail_type').replace('properties', 't.properties')}, r.rail_type, 'unknown') AS rt,
            coalesce({P.format('algorithm_variant').replace('properties', 't.properties')}, r.variant, 'unknown') AS av,
            t.event_name = 'tile.click' AND EXISTS (
              SELECT 1 FROM silver p WHERE p.event_name = 'playback.started'
                AND p.session_id = t.session_id
                AND {P.format('content_id').replace('properties', 'p.properties')}
                  = {P.format('content_id').replace('properties', 't.properties')}
                AND p.event_timestamp > t.event_timestamp
                AND p.event_timestamp <= t.event_timestamp + INTERVAL 300 SECOND) AS played
          FROM silver t LEFT JOIN rails r
            ON r.event_date = t.event_date AND r.rail_id = {P.format('rail_id').replace('properties', 't.properties')}
          WHERE t.event_name IN ('tile.impression', 'tile.click'))
        SELECT event_date, rt, av,
          count(*) FILTER (WHERE event_name = 'tile.impression'),
          count(*) FILTER (WHERE event_name = 'tile.impression'
                           AND CAST(json_extract(properties, '$.is_personalized') AS BOOLEAN)),
          count(*) FILTER (WHERE event_name = 'tile.click'),
          count(*) FILTER (WHERE event_name = 'tile.click')
            / nullif(count(*) FILTER (WHERE event_name = 'tile.impression'), 0),
          count(*) FILTER (WHERE played),
          count(*) FILTER (WHERE played) / nullif(count(*) FILTER (WHERE event_name = 'tile.click'), 0)
        FROM tiles GROUP BY ALL
    """,
    "recording_activity": f"""
        SELECT event_date, coalesce(market, 'unknown'), coalesce({P.format('recording_type')}, 'unknown'),
          count(*) FILTER (WHERE event_name = 'recording.scheduled'),
          count(*) FILTER (WHERE event_name = 'recording.scheduled'
                           AND CAST(json_extract(properties, '$.is_ai_suggested') AS BOOLEAN)),
          count(*) FILTER (WHERE event_name = 'recording.cancelled'),
          count(*) FILTER (WHERE event_name = 'recording.completed'),
          count(*) FILTER (WHERE event_name = 'recording.played'),
          count(*) FILTER (WHERE event_name = 'recording.deleted'),
          count(DISTINCT user_key),
          avg({N.format('quota_utilization_percent')}), max({N.format('quota_utilization_percent')})
        FROM silver WHERE event_name LIKE 'recording.%' GROUP BY ALL
    """,
    "monetization_funnel": f"""
        WITH f AS (
          SELECT *, {P.format('content_id')} AS cid, {P.format('paywall_type')} AS ptype
          FROM silver WHERE event_name IN ('paywall.shown', 'paywall.action', 'purchase.completed')),
        credited AS (
          SELECT a.*, coalesce(a.ptype, (
              SELECT s.ptype FROM f s WHERE s.event_name = 'paywall.shown'
                AND s.session_id = a.session_id AND s.cid = a.cid AND s.event_date = a.event_date
                AND s.event_timestamp <= a.event_timestamp
              ORDER BY s.event_timestamp DESC, s.ptype DESC LIMIT 1), 'unknown') AS paywall_type
          FROM f a),
        grouped AS (
          SELECT event_date, coalesce(market, 'unknown') AS market, paywall_type,
            count(*) FILTER (WHERE event_name = 'paywall.shown') AS views,
            count(*) FILTER (WHERE event_name = 'paywall.action') AS actions,
            count(*) FILTER (WHERE event_name = 'paywall.action' AND {P.format('action')} = 'dismiss') AS dismissals,
            count(*) FILTER (WHERE event_name = 'purchase.completed') AS conversions,
            coalesce(sum({N.format('price')}) FILTER (WHERE event_name = 'purchase.completed'), 0) AS revenue,
            count(DISTINCT {P.format('currency')}) FILTER (WHERE event_name = 'purchase.completed') AS currencies,
            min({P.format('currency')}) FILTER (WHERE event_name = 'purchase.completed') AS currency
          FROM credited GROUP BY ALL)
        SELECT event_date, market, paywall_type, views, actions, dismissals, conversions,
          conversions / nullif(views, 0),
          CASE WHEN currencies > 1 THEN NULL ELSE revenue END,
          CASE WHEN currencies > 1 THEN 'mixed' ELSE currency END
        FROM grouped
    """,
    "top_tracks_daily": f"""
        WITH t AS (
          SELECT event_date, {P.format('track_id')} AS track_id,
            count(*) FILTER (WHERE event_name = 'track.play_start') AS plays,
            coalesce(sum({N.format('duration_played_seconds')}), 0) AS seconds,
            count(DISTINCT user_key) AS listeners
          FROM silver WHERE event_name LIKE 'track.%' GROUP BY ALL HAVING plays > 0)
        SELECT event_date,
          row_number() OVER (PARTITION BY event_date ORDER BY plays DESC, seconds DESC, track_id),
          track_id, plays, seconds, listeners
        FROM t QUALIFY row_number() OVER (PARTITION BY event_date ORDER BY plays DESC, seconds DESC, track_id) <= 100
    """,
}


def _python_metric_rollups(rows: list[dict], weekly: bool) -> list[tuple]:
    """001's rollups from the taxonomy's numeric properties, in plain Python."""
    import json

    from eventlake.taxonomy import load_taxonomy

    numeric = {
        (e.name, p.name) for e in load_taxonomy() for p in e.properties
        if p.type in ("number", "integer")
    }
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows:
        properties = json.loads(row["properties"])
        for (event, metric) in numeric:
            value = properties.get(metric)
            if event == row["event_name"] and isinstance(value, (int, float)) and not isinstance(value, bool):
                day = row["event_date"]
                period = day - timedelta(days=day.weekday()) if weekly else day
                groups[(period, event, metric)].append((float(value), row["user_key"]))
    return [
        (
            *key, len(values), len({u for _, u in values if u is not None}),
            min(v for v, _ in values), max(v for v, _ in values),
            statistics.fmean(v for v, _ in values),
            statistics.stdev([v for v, _ in values]) if len(values) > 1 else None,
        )
        for key, values in groups.items()
    ]


def _expected(spark, table, rows):
    schema = StructType([StructField(f.name, f.dataType, True) for f in table.schema.fields])
    return spark.createDataFrame([tuple(utc(v) for v in row) for row in rows], schema)


def _gold(spark, settings, name):
    return spark.read.format("delta").load(Lake.from_settings(settings).gold(name).path)


@pytest.fixture(scope="module")
def duck(edge_rows):
    connection = duckdb.connect()
    to_duckdb(connection, edge_rows)
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(REFERENCE_SQL))
def test_table_equals_duckdb_reference(spark, built, duck, name):
    settings, _ = built
    actual = _gold(spark, settings, name)
    expected_rows = duck.execute(REFERENCE_SQL[name]).fetchall()
    assert expected_rows, f"the edge cases give {name} no rows: the test would prove nothing"
    assertDataFrameEqual(actual, _expected(spark, actual, expected_rows), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name,weekly", [("metric_rollups_daily", False), ("metric_rollups_weekly", True)])
def test_metric_rollups_equal_python_reference(spark, built, edge_rows, name, weekly):
    settings, _ = built
    actual = _gold(spark, settings, name)
    expected_rows = _python_metric_rollups(edge_rows, weekly)
    assert expected_rows
    assertDataFrameEqual(actual, _expected(spark, actual, expected_rows), rtol=1e-9, atol=1e-9)


def test_every_table_has_a_reference():
    assert set(REFERENCE_SQL) | {"metric_rollups_daily", "metric_rollups_weekly"} == set(GOLD_TABLES)
    assert set(CONTRACT_TABLES) <= set(REFERENCE_SQL)
