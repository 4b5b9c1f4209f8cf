"""Source 000's playback telemetry endpoints: shapes, rules, error codes, responses, mapping."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from .helpers import T0, TRACK, bearer, collector_settings, landed_events, serve

pytestmark = pytest.mark.collector


def playback(**fields) -> dict:
    base = {
        "eventType": "play_start",
        "trackId": TRACK,
        "clientTimestamp": (T0 - timedelta(seconds=5)).isoformat(),
        "positionSeconds": 0.0,
        "sessionId": "sess_abc123",
        "deviceId": "dev_xyz789",
        "clientVersion": "1.2.0",
    }
    base.update(fields)
    return base


def post(client, path: str, body) -> object:
    return client.post(path, content=orjson.dumps(body), headers={"content-type": "application/json", **bearer("listener-1")})


def test_single_event_is_202_with_a_correlation_id_and_lands_as_track_event(tmp_path):
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post(client, "/telemetry/playback", playback(eventType="PLAY_STOP", durationPlayedSeconds=222.5))
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] is True and len(body["correlationId"]) == 26
    [landed] = landed_events(running.lake)
    event_id = landed.pop("event_id")
    assert len(event_id) == 36
    assert landed == {
        "event_name": "track.play_stop",
        "client_timestamp": "2026-02-08T14:29:55.123Z",
        "session_id": "sess_abc123",
        "user_id": "listener-1",
        "device_id": "dev_xyz789",
        "app_version": "1.2.0",
        "schema_version": 1,
        "properties": {"track_id": TRACK, "correlation_id": body["correlationId"],
                       "position_seconds": 0.0, "duration_played_seconds": 222.5},
        "event_timestamp": "2026-02-08T14:30:00.123Z",
        "collector_id": "test-collector",
        "ip_truncated": "127.0.0.0",
        "user_agent": landed["user_agent"],
    }


@pytest.mark.parametrize(
    "fields, code, slug",
    [
        ({"eventType": "pause"}, "INVALID_EVENT_TYPE", "invalid-event-type"),
        ({"eventType": None}, "INVALID_EVENT_TYPE", "invalid-event-type"),
        ({"trackId": "not-a-ulid"}, "INVALID_TRACK_ID", "invalid-track-id"),
        ({"trackId": "81HXK3ZJ8M9Q4W2E5R7T6Y1V0P"}, "INVALID_TRACK_ID", "invalid-track-id"),  # overflows 128 bits
        ({"clientTimestamp": "yesterday"}, "INVALID_TIMESTAMP", "invalid-timestamp"),
        ({"clientTimestamp": (T0 - timedelta(hours=24, seconds=1)).isoformat()}, "INVALID_TIMESTAMP", "invalid-timestamp"),
        ({"clientTimestamp": (T0 + timedelta(minutes=5, seconds=1)).isoformat()}, "INVALID_TIMESTAMP", "invalid-timestamp"),
        ({"positionSeconds": -1}, "INVALID_POSITION", "invalid-position"),
        ({"positionSeconds": "10"}, "INVALID_POSITION", "invalid-position"),
        ({"durationPlayedSeconds": -0.5}, "INVALID_DURATION", "invalid-duration"),
        ({"durationPlayedSeconds": True}, "INVALID_DURATION", "invalid-duration"),
        ({"sessionId": "s" * 65}, "INVALID_SESSION_ID", "invalid-session-id"),
        ({"deviceId": "d" * 65}, "INVALID_DEVICE_ID", "invalid-device-id"),
        ({"deviceId": 42}, "INVALID_DEVICE_ID", "invalid-device-id"),
        ({"clientVersion": "v" * 33}, "INVALID_FIELD", "validation-error"),
    ],
)
def test_each_000_rule_has_its_error_code(tmp_path, fields, code, slug):
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post(client, "/telemetry/playback", playback(**fields))
            metrics = client.get("/metrics").text
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["code"]) == (f"https://eventlake.dev/problems/{slug}", code)
    assert landed_events(running.lake) == []
    assert 'status="rejected"} 1.0' in metrics


def test_timestamps_at_the_edges_are_accepted(collector):
    with collector.client() as client:
        oldest = post(client, "/telemetry/playback", playback(clientTimestamp=(T0 - timedelta(hours=24)).isoformat()))
        newest = post(client, "/telemetry/playback", playback(clientTimestamp=(T0 + timedelta(minutes=5)).isoformat()))
    assert (oldest.status_code, newest.status_code) == (202, 202)


def test_batch_accepts_the_valid_events_and_counts_the_rest(tmp_path):
    events = [
        playback(eventType="play_start", clientTimestamp=(T0 - timedelta(days=6)).isoformat()),  # fine in a batch
        playback(eventType="seek", trackId="bad"),
        playback(eventType="play_complete", clientTimestamp=(T0 - timedelta(days=7, seconds=1)).isoformat()),
        playback(eventType="play_progress", sessionId=None, positionSeconds=61.0),
    ]
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post(client, "/telemetry/playback/batch", {"events": events})
    assert response.status_code == 202
    body = response.json()
    assert body == {
        "accepted": 2,
        "rejected": 2,
        "correlationId": body["correlationId"],
        "errors": [
            {"index": 1, "code": "INVALID_TRACK_ID", "message": "trackId must be a valid ULID"},
            {"index": 2, "code": "INVALID_TIMESTAMP",
             "message": "clientTimestamp must be at most 7 days in the past and 5 minutes in the future"},
        ],
    }
    landed = sorted(landed_events(running.lake), key=lambda e: e["event_name"])
    assert [e["event_name"] for e in landed] == ["track.play_progress", "track.play_start"]
    # without a sessionId, one derived per device and day; never the raw device id
    derived = landed[0]["session_id"]
    assert derived.startswith("derived-") and "dev_xyz789" not in derived


def test_batch_of_more_than_50_is_400(collector):
    with collector.client() as client:
        response = post(client, "/telemetry/playback/batch", {"events": [playback()] * 51})
    assert response.status_code == 400
    assert response.json()["type"] == "https://eventlake.dev/problems/batch-too-large"
    assert response.json()["detail"] == "Maximum 50 events per batch."


def test_telemetry_requires_credentials(collector):
    with collector.client() as client:
        response = client.post("/telemetry/playback", content=orjson.dumps(playback()),
                               headers={"content-type": "application/json"})
    assert response.status_code == 401


def test_a_device_id_no_utf_8_can_hold_is_refused_and_its_batch_neighbours_land(tmp_path):
    """A JSON escape of a lone surrogate decodes to a string no landing line can hold. Without
    a sessionId the collector derives one from the device id: that used to raise, a 500 that
    lost the valid events of the same batch."""
    lone = '"dev_\\ud800"'  # JSON text: the six characters \ud800 inside the string
    single = orjson.dumps(playback(sessionId=None, deviceId="LONE")).decode().replace('"LONE"', lone)
    batch = orjson.dumps({"events": [playback(), playback(sessionId=None, deviceId="LONE")]}).decode().replace('"LONE"', lone)
    assert single.count("ud800") == batch.count("ud800") == 1
    headers = {"content-type": "application/json", **bearer("listener-1")}
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            one = client.post("/telemetry/playback", content=single, headers=headers)
            many = client.post("/telemetry/playback/batch", content=batch, headers=headers)
    assert one.status_code == 400 and one.headers["content-type"] == "application/problem+json"
    assert many.status_code == 202
    assert (many.json()["accepted"], many.json()["rejected"]) == (1, 1)
    assert [e["session_id"] for e in landed_events(running.lake)] == ["sess_abc123"]

