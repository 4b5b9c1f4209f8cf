"""POST /v1/events over real HTTP: per-event rules, partial acceptance, enrichment, consent,
landing paths."""

from __future__ import annotations

import uuid

import pytest

from .helpers import (
    API_KEY,
    T0,
    collector_settings,
    bearer,
    event,
    landed,
    landed_events,
    post_events,
    serve,
)

pytestmark = pytest.mark.collector


def test_partial_acceptance_lists_each_rejected_index_with_its_code(collector):
    events = [
        event(event_id="ok-1"),
        "not an object",
        event(session_id=None),
        event(event_name="nope.nothing"),
        event(properties={"content_id": "vod_1", "position_ms": "12"}),
        event(event_id="x" * 65),
        event(client_timestamp="yesterday"),
        event("search.query", event_id="ok-2"),
    ]
    with collector.client() as client:
        response = post_events(client, events)
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 2,
        "rejected": 6,
        "dropped": 0,
        "errors": [
            {"index": 1, "code": "MALFORMED_JSON", "message": "not a JSON object"},
            {"index": 2, "code": "MISSING_REQUIRED_FIELD", "message": "session_id: missing or empty"},
            {"index": 3, "code": "UNKNOWN_EVENT_NAME", "message": "'nope.nothing' is not in the taxonomy"},
            {"index": 4, "code": "INVALID_PROPERTY", "message": "position_ms: expected number, got string"},
            {"index": 5, "code": "INVALID_FIELD", "message": "event_id: longer than 64 characters"},
            {"index": 6, "code": "INVALID_FIELD", "message": "client_timestamp: not an ISO-8601 timestamp"},
        ],
    }


def test_accepted_events_land_enriched_under_their_receipt_hour(tmp_path):
    settings = collector_settings(tmp_path)
    with serve(settings) as running:
        with running.client() as client:
            response = post_events(
                client,
                [
                    event(event_id="e-1", user_id="client-says", event_timestamp="1999-01-01T00:00:00Z",
                          ip_truncated="1.2.3.4", collector_id="spoofed", client_timestamp="2026-02-08T16:29:59+02:00"),
                    event("playback.started"),
                ],
                headers={**bearer("user-42"), "user-agent": "tv-app/2.3"},
            )
        assert response.json()["accepted"] == 2
    # leaving `serve` shut the collector down, which lands the spool
    files = landed(running.lake)
    assert list(files) == [
        "landing/events/event_date=2026-02-08/event_hour=14/test-collector-"
        + next(iter(files)).rsplit("test-collector-", 1)[1]
    ]
    first, second = next(iter(files.values()))
    assert first == {
        "event_id": "e-1",
        "event_name": "playback.heartbeat",
        "session_id": "sess-1",
        "device_id": "dev-1",
        "user_id": "user-42",  # the token's sub wins over the client's claim
        "client_timestamp": "2026-02-08T16:29:59+02:00",
        "properties": {"content_id": "vod_1", "position_ms": 1000},
        "event_timestamp": "2026-02-08T14:30:00.123Z",  # the collector's clock, not the client's
        "collector_id": "test-collector",
        "ip_truncated": "127.0.0.0",
        "user_agent": "tv-app/2.3",
    }
    generated = uuid.UUID(second.pop("event_id"))
    assert generated.version == 7
    assert second["event_timestamp"] == "2026-02-08T14:30:00.123Z"
    assert second["event_name"] == "playback.started"


def test_analytics_off_events_are_dropped_counted_and_never_written(tmp_path):
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post_events(client, [
                event(event_id="kept-us", market="US"),
                event(event_id="gone-de", market="DE"),  # EU default: analytics off
                event(event_id="kept-de", market="DE", consent={"analytics": True}),
                event(event_id="gone-explicit", consent={"analytics": False}),
            ])
            metrics = client.get("/metrics").text
        assert response.json() == {"accepted": 4, "rejected": 0, "dropped": 2, "errors": []}
    assert sorted(e["event_id"] for e in landed_events(running.lake)) == ["kept-de", "kept-us"]
    assert 'telemetry_events_ingested_total{event_type="playback.heartbeat",status="dropped_consent"} 2.0' in metrics
    assert 'telemetry_events_ingested_total{event_type="playback.heartbeat",status="accepted"} 2.0' in metrics


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path):
    for trusted, expected in (("127.0.0.1/32", "203.0.113.0"), ("", "127.0.0.0")):
        lake = tmp_path / (trusted.replace("/", "_") or "untrusted")
        with serve(collector_settings(lake, EVENTLAKE_TRUSTED_PROXIES=trusted)) as running:
            with running.client() as client:
                post_events(client, [event()], headers={
                    "x-api-key": API_KEY, "x-forwarded-for": "198.51.100.7, 203.0.113.9"})
        # 127.0.0.1 (the proxy) says the client is 203.0.113.9, which is not a proxy of ours
        assert [e["ip_truncated"] for e in landed_events(running.lake)] == [expected]


def test_forwarded_hops_with_ports_and_6to4_clients_keep_only_a_24(tmp_path):
    # A proxy that writes ports (Azure's Application Gateway does) is still recognised as a
    # proxy; the client behind it, a 6to4 address, carries its whole IPv4 address in any /48.
    settings = collector_settings(tmp_path, EVENTLAKE_TRUSTED_PROXIES="127.0.0.1/32,10.0.0.0/8")
    with serve(settings) as running:
        with running.client() as client:
            post_events(client, [event()], headers={
                "x-api-key": API_KEY, "x-forwarded-for": "[2002:cb00:7105:1::5]:51000, 10.0.0.9:8080"})
    assert [e["ip_truncated"] for e in landed_events(running.lake)] == ["203.0.113.0"]


def test_api_key_producers_keep_the_user_id_they_send(collector):
    with collector.client() as client:
        response = post_events(client, [event(user_id="u-7", device_id=None)], headers={"x-api-key": API_KEY})
    assert response.status_code == 202
    assert response.json()["accepted"] == 1


def test_receipt_hour_change_starts_a_new_landing_file(tmp_path):
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            post_events(client, [event(event_id="a")])
            running.clock.advance(minutes=45)  # 15:15
            post_events(client, [event(event_id="b")])
    files = landed(running.lake)
    assert {path.split("/")[2] + "/" + path.split("/")[3]: [e["event_id"] for e in lines]
            for path, lines in files.items()} == {
        "event_date=2026-02-08/event_hour=14": ["a"],
        "event_date=2026-02-08/event_hour=15": ["b"],
    }
    assert T0.hour == 14


def test_too_many_events_is_413_and_empty_batch_is_fine(collector):
    with collector.client() as client:
        too_many = post_events(client, [event()] * 501)
        empty = post_events(client, [])
    assert too_many.status_code == 413
    assert too_many.headers["content-type"] == "application/problem+json"
    assert empty.json() == {"accepted": 0, "rejected": 0, "dropped": 0, "errors": []}
