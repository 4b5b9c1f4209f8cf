"""Small, hand-written lake tables for the quality tests (real Delta tables in a tmp lake)."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from pyspark.sql import SparkSession

from eventlake.lake import Lake
from eventlake.schemas import BRONZE_EVENTS, SILVER_COLUMNS, SILVER_EVENTS
from eventlake.spark import CONCURRENT_SMALL_JOBS

INGESTED_AT = datetime(2024, 3, 12, 6, 0, 0)
DAY = date(2024, 3, 11)
FILE = "file:/lake/landing/events/event_date=2024-03-11/event_hour=10/a.jsonl.gz"


def key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def write(spark: SparkSession, frame_rows: list, schema, path: str, partition: str | None = None) -> None:
    writer = spark.createDataFrame(frame_rows, schema).write.format("delta").mode("append")
    if partition:
        writer = writer.partitionBy(partition)
    writer.save(path)


def bronze_rows(lines: list[str], source_file: str = FILE) -> list[tuple]:
    return [(line, source_file, n, INGESTED_AT, INGESTED_AT.date()) for n, line in enumerate(lines, 1)]


def write_bronze(spark: SparkSession, lake: Lake, lines: list[str]) -> dict:
    """Bronze holding `lines` from one file; returns the run's BronzeRun-like summary."""
    write(spark, bronze_rows(lines), BRONZE_EVENTS, lake.bronze_events.path, "ingest_date")
    return {
        "run_id": "r1", "files_found": 1, "files_ingested": 1,
        "lines_ingested": len(lines), "bronze_version": 0,
    }


def silver_event(n: int, **changes) -> tuple:
    at = datetime(2024, 3, 11, 10, 0, n)
    row = {
        "event_id": f"e{n}",
        "event_name": "playback.started",
        "event_domain": "playback",
        "event_timestamp": at,
        "event_date": at.date(),
        "event_hour": at.replace(minute=0, second=0),
        "client_timestamp": None,
        "client_ts_skewed": False,
        "user_key": key(f"user-{n}"),
        "profile_key": None,
        "device_key": key(f"device-{n}"),
        "session_id": f"s{n}",
        "profile_kind": "standard",
        "device_type": "tv",
        "platform": "tizen",
        "app_version": "1.0",
        "os_version": "7",
        "market": "US",
        "connection_type": "wifi",
        "no_personalization": False,
        "no_ad_targeting": False,
        "schema_version": 1,
        "properties": json.dumps({"content_id": f"c{n % 2}", "content_type": "vod", "start_time_ms": 900}),
        "ip_truncated": "203.0.113.0",
        "user_agent": "tv/1.0",
        "collector_id": "c1",
        "source_file": FILE,
        "ingested_at": INGESTED_AT,
        "ua_browser": None,
        "ua_os": None,
        "ua_device": None,
    } | changes
    return tuple(row[c] for c in SILVER_COLUMNS)


def write_silver_run(spark: SparkSession, lake: Lake, events: list[tuple], *, quarantined: int = 0) -> dict:
    """Bronze lines for the events (plus quarantined ones) and the silver rows; the run summary."""
    write_bronze(spark, lake, [json.dumps({"n": i}) for i in range(len(events) + quarantined)])
    write(spark, events, SILVER_EVENTS, lake.silver_events.path, "event_date")
    dates = sorted(row[SILVER_COLUMNS.index("event_date")] for row in events)
    return {
        "run_id": "r1", "lines_read": len(events) + quarantined, "silver_rows": len(events),
        "quarantined": quarantined, "consent_dropped": 0, "duplicates": 0,
        "quarantine_by_reason": {"MALFORMED_JSON": quarantined} if quarantined else {},
        "bronze_versions": [None, 0], "reconciles": True,
        "min_event_date": str(dates[0]), "max_event_date": str(dates[-1]),
    }


GOLD_SCHEMAS = {
    "daily_active_users": "event_date DATE, market STRING, platform STRING, active_users LONG, sessions LONG, events LONG",
    "daily_kpis": "event_date DATE, dau LONG, mau_30d LONG, engagement_rate DOUBLE, content_hours DOUBLE",
    "content_engagement": (
        "event_date DATE, content_id STRING, content_type STRING, views LONG, unique_viewers LONG, "
        "stops LONG, completions LONG, completion_rate DOUBLE, avg_watch_time_ms DOUBLE"
    ),
    "qoe_summary": (
        "event_hour TIMESTAMP, platform STRING, market STRING, playback_starts LONG, start_time_p95_ms DOUBLE, "
        "rebuffer_events LONG, rebuffer_ms DOUBLE, playback_errors LONG, error_rate DOUBLE"
    ),
    "search_performance": (
        "event_date DATE, market STRING, queries LONG, zero_result_queries LONG, result_clicks LONG, "
        "successful_queries LONG, success_rate DOUBLE"
    ),
    "track_hourly": (
        "event_hour TIMESTAMP, track_id STRING, play_start_count LONG, play_complete_count LONG, "
        "total_seconds_played DOUBLE, unique_sessions LONG"
    ),
    "track_daily": (
        "event_date DATE, track_id STRING, total_plays LONG, completed_plays LONG, total_seconds_played DOUBLE, "
        "unique_listeners LONG, unique_sessions LONG"
    ),
    "user_activity_daily": (
        "event_date DATE, user_key STRING, tracks_played LONG, total_plays LONG, total_seconds_played DOUBLE, "
        "last_activity_at TIMESTAMP"
    ),
    "event_metrics_daily": "event_date DATE, event_name STRING, events LONG, distinct_users LONG, distinct_sessions LONG",
    "event_metrics_weekly": "week_start DATE, event_name STRING, events LONG, distinct_users LONG, distinct_sessions LONG",
    "channel_performance": (
        "event_hour TIMESTAMP, channel_id STRING, market STRING, viewers LONG, tune_ins LONG, tune_aways LONG, "
        "avg_view_duration_ms DOUBLE, tune_time_p95_ms DOUBLE"
    ),
    "recommendation_performance": (
        "event_date DATE, rail_type STRING, algorithm_variant STRING, impressions LONG, "
        "personalized_impressions LONG, clicks LONG, ctr DOUBLE, resulting_plays LONG, resulting_play_rate DOUBLE"
    ),
    "recording_activity": (
        "event_date DATE, market STRING, recording_type STRING, scheduled LONG, ai_suggested_scheduled LONG, "
        "cancelled LONG, completed LONG, played LONG, deleted LONG, distinct_users LONG, "
        "avg_quota_utilization_percent DOUBLE, max_quota_utilization_percent DOUBLE"
    ),
    "monetization_funnel": (
        "event_date DATE, market STRING, paywall_type STRING, paywall_views LONG, actions LONG, dismissals LONG, "
        "conversions LONG, conversion_rate DOUBLE, revenue DOUBLE, revenue_currency STRING"
    ),
    "metric_rollups_daily": (
        "event_date DATE, event_name STRING, metric STRING, events LONG, distinct_users LONG, min_value DOUBLE, "
        "max_value DOUBLE, avg_value DOUBLE, stddev_value DOUBLE"
    ),
    "metric_rollups_weekly": (
        "week_start DATE, event_name STRING, metric STRING, events LONG, distinct_users LONG, min_value DOUBLE, "
        "max_value DOUBLE, avg_value DOUBLE, stddev_value DOUBLE"
    ),
    "top_tracks_daily": (
        "event_date DATE, track_rank LONG, track_id STRING, total_plays LONG, total_seconds_played DOUBLE, "
        "unique_listeners LONG"
    ),
}

TRACK = "01HXK5V3Q8Z9R2M4N6P7T0W1YA"


def clean_gold_rows(*, users: int, newest_day_events: int = 100) -> dict[str, list[tuple]]:
    """One consistent row per table for DAY, plus last week's volume baseline (100 events)."""
    hour = datetime(2024, 3, 11, 10)
    week_before = DAY - timedelta(days=7)
    return {
        "daily_active_users": [(DAY, "US", "tizen", users, users, 3 * users)],
        "daily_kpis": [(DAY, users, users + 1, users / (users + 1), 0.5)],
        "content_engagement": [(DAY, "c0", "vod", 2, 2, 1, 1, 1.0, 1800.0)],
        "qoe_summary": [(hour, "tizen", "US", 3, 950.0, 1, 300.0, 0, 0.0)],
        "search_performance": [(DAY, "US", 2, 0, 1, 1, 0.5)],
        "track_hourly": [(hour, TRACK, 1, 1, 180.0, 1)],
        "track_daily": [(DAY, TRACK, 1, 1, 180.0, 1, 1)],
        "user_activity_daily": [(DAY, key("user-1"), 1, 1, 180.0, hour)],
        "event_metrics_daily": [
            (week_before, "playback.started", 100, 10, 10),
            (DAY, "playback.started", newest_day_events, 10, 10),
        ],
        "event_metrics_weekly": [(date(2024, 3, 4), "playback.started", 200, 10, 20)],
        "channel_performance": [(hour, "ch-1", "US", 1, 2, 1, 60000.0, 800.0)],
        "recommendation_performance": [(DAY, "editorial", "v1", 4, 2, 1, 0.25, 1, 1.0)],
        "recording_activity": [(DAY, "US", "single", 2, 1, 0, 1, 1, 0, 1, 40.0, 55.0)],
        "monetization_funnel": [(DAY, "US", "subscribe", 2, 1, 0, 1, 0.5, 9.99, "EUR")],
        "metric_rollups_daily": [(DAY, "playback.started", "start_time_ms", 3, 2, 500.0, 1500.0, 900.0, 400.0)],
        "metric_rollups_weekly": [
            (date(2024, 3, 11), "playback.started", "start_time_ms", 3, 2, 500.0, 1500.0, 900.0, 400.0),
        ],
        "top_tracks_daily": [(DAY, 1, TRACK, 1, 180.0, 1)],
    }


def write_gold(spark: SparkSession, lake: Lake, rows: dict[str, list[tuple]]) -> None:
    # Independent tables, a few at once, as gold's build writes them.
    with ThreadPoolExecutor(max_workers=CONCURRENT_SMALL_JOBS) as pool:
        list(pool.map(
            lambda item: write(spark, item[1], GOLD_SCHEMAS[item[0]], lake.gold(item[0]).path), rows.items()
        ))
