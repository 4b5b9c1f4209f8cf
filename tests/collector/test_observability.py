"""Health, readiness, Prometheus metrics with 000 §11's names, the OpenAPI document, and logs
that never carry raw ids or full addresses."""

from __future__ import annotations

import logging

import pytest

from .helpers import API_KEY, event, post_events

pytestmark = pytest.mark.collector


def test_health_and_readiness(collector):
    with collector.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {
        "spool_writable": True, "flusher_alive": True, "sink_reachable": True}}


def test_metrics_use_the_source_names(collector):
    with collector.client() as client:
        post_events(client, [event(client_timestamp="2026-02-08T14:29:30Z"), event(event_name="nope.x")])
        text = client.get("/metrics").text
    for line in [
        'telemetry_events_ingested_total{event_type="playback.heartbeat",status="accepted"} 1.0',
        'telemetry_events_ingested_total{event_type="unknown",status="rejected"} 1.0',
        "telemetry_batch_size_count 1.0",
        'telemetry_event_age_seconds_bucket{le="60.0"} 1.0',
        'telemetry_event_age_seconds_bucket{le="15.0"} 0.0',
        "eventlake_spool_commit_seconds_count 1.0",
        "eventlake_spool_bytes ",
        "eventlake_spool_segments 1.0",
        "eventlake_flush_duration_seconds_count 0.0",
        "eventlake_landed_bytes_total 0.0",
        'eventlake_collector_requests_total{code="202",route="/v1/events"} 1.0',
    ]:
        assert line in text, line


def test_openapi_documents_exactly_the_served_routes(collector):
    with collector.client() as client:
        document = client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    served = {path: method.lower() for path, (method, _) in collector.app._routes.items()}
    assert {path: list(ops) for path, ops in document["paths"].items()} == {p: [m] for p, m in served.items()}
    assert "playback.started" in document["components"]["schemas"]["Envelope"]["properties"]["event_name"]["enum"]


def test_logs_never_carry_raw_ids_or_addresses(collector, caplog):
    from eventlake.collector.logs import JsonFormatter

    caplog.set_level(logging.DEBUG, logger="eventlake")
    secret_ids = {"device_id": "dev-SECRET-1", "session_id": "sess-SECRET-2", "user_id": "user-SECRET-3"}
    with collector.client() as client:
        post_events(client, [event(**secret_ids)], headers={"x-api-key": API_KEY, "x-forwarded-for": "198.51.100.77"})
        for _ in range(3):  # also the rate-limit and rejection paths
            client.post("/telemetry/playback", json={"eventType": "bad", "deviceId": "dev-SECRET-1"},
                        headers={"x-api-key": API_KEY})
    formatted = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert formatted  # something was logged
    for value in [*secret_ids.values(), "198.51.100.77", "127.0.0.1"]:
        assert value not in formatted
