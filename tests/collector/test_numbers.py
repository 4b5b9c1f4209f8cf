"""Numbers are kept exactly or the event is rejected: an integer outside ±(2**53 - 1) or a
number beyond a double's range is INVALID_FIELD in the 202 body, never a rounded float in
the lake (orjson used to read 2**70 as 1.1805916207174113e+21)."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlake.collector.body import MAX_SAFE_INTEGER

from .helpers import TRACK, T0, bearer, collector_settings, event, serve

pytestmark = pytest.mark.collector

JSON = {"content-type": "application/json"}


def post_text(client, path: str, text: str):
    return client.post(path, content=text.encode(), headers={**JSON, **bearer()})


def landed_lines(lake) -> list[bytes]:
    """The landed lines as bytes, so that the numbers are read exactly as written."""
    return [line for path in sorted((lake / "landing" / "events").rglob("*.jsonl.gz"))
            for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_unsafe_numbers_are_rejected_per_event_and_safe_ones_land_exactly(tmp_path):
    def heartbeat(event_id: str, position: str, extra: str = "") -> str:
        return (f'{{"event_id": "{event_id}", "event_name": "playback.heartbeat", "session_id": "s",'
                f' "properties": {{"content_id": "c", "position_ms": {position}{extra}}}}}')

    events = [
        heartbeat("big", str(2**70)),
        heartbeat("max-safe", str(MAX_SAFE_INTEGER)),
        heartbeat("past-safe", str(MAX_SAFE_INTEGER + 2)),
        heartbeat("min-safe", "5", f', "offset": {-MAX_SAFE_INTEGER}'),
        heartbeat("u64", str(2**64 - 1)),  # orjson reads this one as an int: still unsafe
        heartbeat("huge", "5", ', "note": 1e400'),  # (as position_ms the taxonomy refuses it first)
        heartbeat("long", "9" * 5000),
        heartbeat("extra", "5", ', "note": {"counts": [1, ' + str(-(2**63)) + "]}"),
        heartbeat("digits-in-text", "7", ', "note": "12345678901234567890"'),
        heartbeat("float", "1.5e300"),
    ]
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post_text(client, "/v1/events", '{"events": [' + ", ".join(events) + "]}")
    assert response.status_code == 202
    answer = response.json()
    assert (answer["accepted"], answer["rejected"]) == (4, 6)
    messages = {e["index"]: e["message"] for e in answer["errors"] if e["code"] == "INVALID_FIELD"}
    assert sorted(messages) == [0, 2, 4, 5, 6, 7]
    assert messages[0] == (f"properties.position_ms: the integer {2**70} is outside ±(2**53 - 1) "
                           "and cannot be kept exactly")
    assert messages[2].startswith(f"properties.position_ms: the integer {MAX_SAFE_INTEGER + 2} ")
    assert messages[5] == "properties.note: the number is beyond the range of a double"
    assert messages[6].startswith("properties.position_ms: the integer 99999999999999999999… (5000 digits) ")
    assert messages[7].startswith("properties.note.counts[1]: the integer -9223372036854775808 ")
    kept = {json.loads(line)["event_id"]: line for line in landed_lines(running.lake)}
    assert sorted(kept) == ["digits-in-text", "float", "max-safe", "min-safe"]
    assert f'"position_ms":{MAX_SAFE_INTEGER}'.encode() in kept["max-safe"]
    assert f'"offset":{-MAX_SAFE_INTEGER}'.encode() in kept["min-safe"]
    assert b'"note":"12345678901234567890"' in kept["digits-in-text"]
    assert json.loads(kept["float"])["properties"]["position_ms"] == 1.5e300


def test_an_unsafe_playback_position_is_a_400_with_invalid_field(collector):
    body = (f'{{"eventType": "play_progress", "trackId": "{TRACK}", "clientTimestamp": "{T0.isoformat()}",'
            f' "positionSeconds": {2**70}}}')
    with collector.client() as client:
        single = post_text(client, "/telemetry/playback", body)
        batch = post_text(client, "/telemetry/playback/batch", f'{{"events": [{body}, {body.replace(str(2**70), "12")}]}}')
    assert single.status_code == 400
    assert single.json()["code"] == "INVALID_FIELD"
    assert single.json()["detail"].startswith("properties.position_seconds: the integer 1180591620717411303424 ")
    assert (batch.status_code, batch.json()["accepted"], batch.json()["rejected"]) == (202, 1, 1)
    assert batch.json()["errors"][0]["index"] == 0


@pytest.fixture(scope="module")
def numbers_collector(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("numbers")
    with serve(collector_settings(tmp, EVENTLAKE_RATE_LIMIT_PER_MINUTE="0",
                                  EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE="0")) as running:
        with running.client() as client:
            yield running, client


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.one_of(st.integers(), st.integers(-(2**80), 2**80),
                        st.sampled_from([MAX_SAFE_INTEGER, MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1,
                                         2**63 - 1, 2**63, 2**64 - 1, 2**64])))
def test_any_integer_is_kept_exactly_or_rejected(numbers_collector, number):
    running, client = numbers_collector
    body = json.dumps({"events": [event(event_id="n", properties={"content_id": "c", "position_ms": 1,
                                                                     "count": number})]})
    answer = post_text(client, "/v1/events", body).json()
    if abs(number) > MAX_SAFE_INTEGER:
        assert (answer["accepted"], answer["errors"][0]["code"]) == (0, "INVALID_FIELD")
    else:
        assert answer == {"accepted": 1, "rejected": 0, "dropped": 0, "errors": []}
