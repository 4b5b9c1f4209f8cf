"""Collector -> landing -> bronze -> silver, with the real Spark jobs."""

from __future__ import annotations

from datetime import datetime

import pytest

from eventlake.privacy import pseudonymous_key

from .helpers import API_KEY, TRACK, bearer, collector_settings, event, post_events, serve

pytestmark = [pytest.mark.collector, pytest.mark.e2e]

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")


def test_posted_events_become_silver_rows(spark, tmp_path):
    from pyspark.testing import assertDataFrameEqual

    from eventlake.lake import Lake
    from eventlake.pipeline import run_layer

    settings = collector_settings(tmp_path)
    with serve(settings) as running:
        with running.client() as client:
            post_events(client, [
                event("playback.started", event_id="e-1", market="US"),
                event("playback.started", event_id="e-2", market="FR"),  # EU default: dropped at the edge
                event("search.query", event_id="e-3", market="FR", consent={"analytics": True}),
                event("nope.nothing", event_id="e-4"),  # rejected at the edge
            ], headers={**bearer("viewer-1"), "user-agent": IPHONE})
            client.post("/telemetry/playback", json={
                "eventType": "play_start", "trackId": TRACK, "clientTimestamp": "2026-02-08T14:29:00Z",
                "sessionId": "s-track"}, headers={"x-api-key": API_KEY, "user-agent": "tv-app/3.1 (server)"})

    run_layer(spark, settings, "bronze", run_id="r1", quality=False)
    run_layer(spark, settings, "silver", run_id="r1", quality=False)
    silver = spark.read.format("delta").load(Lake.from_settings(settings).silver_events.path)
    expected_key = pseudonymous_key("viewer-1", settings.pseudonym_salt)
    received = datetime(2026, 2, 8, 14, 30, 0, 123000)
    iphone = ("Mobile Safari 17.4", "iOS 17.4", "iPhone")  # source 003's enrichment, by hand
    assertDataFrameEqual(
        silver.select("event_name", "user_key", "session_id", "event_timestamp", "ip_truncated", "collector_id",
                      "ua_browser", "ua_os", "ua_device")
        .orderBy("event_name"),
        spark.createDataFrame(
            [
                ("playback.started", expected_key, "sess-1", received, "127.0.0.0", "test-collector", *iphone),
                ("search.query", expected_key, "sess-1", received, "127.0.0.0", "test-collector", *iphone),
                ("track.play_start", None, "s-track", received, "127.0.0.0", "test-collector", None, None, None),
            ],
            "event_name string, user_key string, session_id string, event_timestamp timestamp, "
            "ip_truncated string, collector_id string, ua_browser string, ua_os string, ua_device string",
        ),
    )
    assert spark.read.format("delta").load(Lake.from_settings(settings).silver_quarantine.path).count() == 0
