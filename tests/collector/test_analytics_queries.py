"""Source 002's two queries, answered from silver over HTTP (GET, authenticated)."""

from __future__ import annotations

from datetime import datetime

import pytest

from .helpers import API_KEY, collector_settings, serve

pytestmark = pytest.mark.collector

AUTH = {"x-api-key": API_KEY}
# (event_id, event_name, received (UTC, naive as Spark holds it), client time, collector, properties)
SILVER = [
    ("e1", "search.query", datetime(2026, 2, 8, 14, 29, 10), None, "c1", '{"query_text":"x","search_type":"text"}'),
    ("e2", "challenge.completed", datetime(2026, 2, 8, 14, 0, 0), datetime(2026, 2, 8, 13, 59, 0), "kafka-analytics.events",
     '{"tenant_id":"academy-123","source":"challenge-service","score":97}'),
    ("e3", "search.query", datetime(2026, 2, 8, 13, 20, 0), None, "c1", '{"query_text":"y","search_type":"voice"}'),
    ("e4", "playback.started", datetime(2026, 2, 7, 10, 0, 0), None, "c2", "{}"),
    ("e5", "search.query", datetime(2026, 2, 8, 14, 40, 0), None, "c1", "{}"),  # ahead of the collector's clock
]


@pytest.fixture
def lake_with_silver(spark, tmp_path):
    from pyspark.sql import functions as F

    from eventlake.lake import Lake
    from eventlake.schemas import SILVER_EVENTS

    settings = collector_settings(tmp_path)
    rows = [{**{f.name: None for f in SILVER_EVENTS.fields}, "event_id": i, "event_name": n, "event_timestamp": t,
             "event_date": t.date(), "client_timestamp": c, "collector_id": col, "properties": p,
             "ingested_at": datetime(2026, 2, 8, 14, 45), "session_id": "s"}
            for i, n, t, c, col, p in SILVER]
    frame = spark.createDataFrame(rows, SILVER_EVENTS).withColumn("event_date", F.to_date("event_timestamp"))
    frame.write.format("delta").partitionBy("event_date").save(Lake.from_settings(settings).silver_events.path)
    return settings


def test_recent_events_are_the_newest_first_in_002s_shape(lake_with_silver):
    with serve(lake_with_silver) as running, running.client() as client:
        newest = client.get("/v1/analytics/events/recent?limit=3", headers=AUTH).json()
        everything = client.get("/v1/analytics/events/recent", headers=AUTH).json()
    assert [e["id"] for e in newest["events"]] == ["e5", "e1", "e2"]
    assert (newest["limit"], newest["count"]) == (3, 3)
    assert newest["events"][2] == {
        "id": "e2", "event_type": "challenge.completed", "source": "challenge-service",
        "occurred_at": "2026-02-08T13:59:00.000000Z", "received_at": "2026-02-08T14:00:00.000000Z",
        "ingested_at": "2026-02-08T14:45:00.000000Z", "tenant_id": "academy-123", "user_key": None,
        "payload": {"tenant_id": "academy-123", "source": "challenge-service", "score": 97},
    }
    assert newest["events"][1]["source"] == "c1" and newest["events"][1]["occurred_at"] == "2026-02-08T14:29:10.000000Z"
    # The default limit (50) reaches back past the first day read (e4 is 28 hours old).
    assert [e["id"] for e in everything["events"]] == ["e5", "e1", "e2", "e3", "e4"]


def test_the_summary_counts_the_window_by_type_and_by_bucket(lake_with_silver):
    with serve(lake_with_silver) as running, running.client() as client:
        hour = client.get("/v1/analytics/metrics/summary", headers=AUTH).json()  # the default: 60 minutes
        two = client.get("/v1/analytics/metrics/summary?windowMinutes=120", headers=AUTH).json()
    assert {k: hour[k] for k in ("window_minutes", "from", "to", "total", "counts_by_event_type", "bucket_minutes")} == {
        "window_minutes": 60, "from": "2026-02-08T13:30:00.123000Z", "to": "2026-02-08T14:30:00.123000Z",
        "total": 2, "counts_by_event_type": {"challenge.completed": 1, "search.query": 1}, "bucket_minutes": 1}
    assert len(hour["histogram"]) == 61  # 13:30 … 14:30, one a minute
    assert {b["bucket_start"]: b["count"] for b in hour["histogram"] if b["count"]} == {
        "2026-02-08T14:00:00.000000Z": 1, "2026-02-08T14:29:00.000000Z": 1}
    assert (two["total"], two["bucket_minutes"], two["counts_by_event_type"]) == (
        3, 5, {"challenge.completed": 1, "search.query": 2})
    assert {b["bucket_start"]: b["count"] for b in two["histogram"] if b["count"]} == {
        "2026-02-08T13:20:00.000000Z": 1, "2026-02-08T14:00:00.000000Z": 1, "2026-02-08T14:25:00.000000Z": 1}


def test_the_window_default_is_002s_setting(tmp_path, lake_with_silver):
    settings = collector_settings(tmp_path, ANALYTICS_METRICS_WINDOW_MINUTES="120")
    with serve(settings) as running, running.client() as client:
        assert client.get("/v1/analytics/metrics/summary", headers=AUTH).json()["window_minutes"] == 120


def test_bad_parameters_and_missing_credentials_are_problems(tmp_path):
    with serve(collector_settings(tmp_path)) as running, running.client() as client:
        for query in ("/v1/analytics/events/recent?limit=0", "/v1/analytics/events/recent?limit=abc",
                      "/v1/analytics/events/recent?limit=1001", "/v1/analytics/metrics/summary?windowMinutes=99999",
                      # digits to str.isdigit(), not to int(): "²", "①", Arabic-Indic "٣"
                      "/v1/analytics/events/recent?limit=%C2%B2", "/v1/analytics/events/recent?limit=%E2%91%A0",
                      "/v1/analytics/metrics/summary?windowMinutes=%D9%A3"):
            answer = client.get(query, headers=AUTH)
            assert answer.status_code == 400 and answer.json()["code"] == "INVALID_FIELD", query
        assert client.get("/v1/analytics/events/recent").status_code == 401
        # A lake whose pipeline never ran: empty answers, not errors.
        assert client.get("/v1/analytics/events/recent", headers=AUTH).json()["events"] == []
        assert client.get("/v1/analytics/metrics/summary", headers=AUTH).json()["total"] == 0
