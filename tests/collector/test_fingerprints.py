"""Source 003's fingerprint window: an id-less event repeated within 60 s keeps its first id."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.collector.fingerprints import FingerprintWindow, fingerprint

from .helpers import API_KEY, collector_settings, event, landed_events, post_events, serve

pytestmark = pytest.mark.collector

PLAY = {"event_name": "playback.started", "user_id": "u-1", "session_id": "s-1", "device_id": "d-1",
        "client_timestamp": "2026-02-08T14:29:59.250Z", "properties": {"content_id": "vod_1", "content_type": "vod"}}


def ids(prefix: str = "id"):
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter)}"


@pytest.mark.unit
def test_a_repeat_within_the_window_gets_the_first_id_and_later_a_new_one():
    window = FingerprintWindow(60)
    new = ids()
    assert window.event_id(PLAY, 1000.0, new) == ("id-1", False)
    # Same second on the client's clock, other key order: the same event.
    again = {**PLAY, "client_timestamp": "2026-02-08T14:29:59.900Z",
             "properties": {"content_type": "vod", "content_id": "vod_1"}}
    assert window.event_id(again, 1059.9, new) == ("id-1", True)
    assert window.event_id(PLAY, 1060.0, new) == ("id-2", False)  # 60 s after the first sighting
    for changed in ({"client_timestamp": "2026-02-08T14:30:00.000Z"}, {"user_id": "u-2"}, {"session_id": "s-2"},
                    {"event_name": "playback.stopped"}, {"properties": {"content_id": "vod_2", "content_type": "vod"}}):
        assert window.event_id({**PLAY, **changed}, 1061.0, new)[1] is False, changed


@pytest.mark.unit
def test_the_window_holds_at_most_its_capacity_dropping_the_oldest():
    window = FingerprintWindow(60, capacity=2)
    new = ids()
    for n in range(3):
        window.event_id({**PLAY, "session_id": f"s-{n}"}, 1000.0 + n, new)
    assert len(window) == 2
    assert window.event_id({**PLAY, "session_id": "s-0"}, 1003.0, new) == ("id-4", False)  # evicted: new id
    assert window.event_id({**PLAY, "session_id": "s-2"}, 1003.0, new) == ("id-3", True)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
                    lambda inner: st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=10)


@pytest.mark.unit
@given(properties=st.dictionaries(st.text(max_size=6), JSON, max_size=6), client=st.none() | st.text(max_size=30))
def test_a_fingerprint_ignores_key_order_and_reads_any_value(properties, client):
    shuffled = dict(reversed(list(properties.items())))
    first = {**PLAY, "client_timestamp": client, "properties": properties}
    assert fingerprint(first) == fingerprint({**first, "properties": shuffled})
    assert len(fingerprint(first)) == 32


def test_a_retried_request_without_ids_lands_twice_under_one_id(tmp_path):
    retry = [event("playback.heartbeat", client_timestamp="2026-02-08T14:29:58Z")]
    with serve(collector_settings(tmp_path)) as running, running.client() as client:
        for _ in range(2):  # the client never saw the first answer, so it sends again
            assert post_events(client, retry, headers={"x-api-key": API_KEY}).status_code == 202
        running.clock.advance(seconds=61)
        post_events(client, retry, headers={"x-api-key": API_KEY})
        metrics = client.get("/metrics").text
    landed = [e["event_id"] for e in landed_events(running.lake)]
    assert len(landed) == 3 and landed[0] == landed[1] != landed[2]
    assert "eventlake_fingerprint_repeats_total 1.0" in metrics


def test_the_window_can_be_switched_off(tmp_path):
    retry = [event("playback.heartbeat", client_timestamp="2026-02-08T14:29:58Z")]
    with serve(collector_settings(tmp_path, EVENTLAKE_DEDUPE_WINDOW_SECONDS="0")) as running, \
            running.client() as client:
        for _ in range(2):
            post_events(client, retry, headers={"x-api-key": API_KEY})
    landed = [e["event_id"] for e in landed_events(running.lake)]
    assert len(set(landed)) == 2
