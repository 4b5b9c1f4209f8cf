"""Property-based fuzzing over real HTTP: whatever the body, never a 5xx and never a crash."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import bearer, collector_settings, event, serve

pytestmark = pytest.mark.collector

def dumps(value) -> bytes:
    # the standard encoder: it also writes integers beyond 64 bits, which JSON allows
    return json.dumps(value, allow_nan=False).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=6),
    max_leaves=30,
)
# Events that look almost right: real field names with arbitrary values.
field_names = st.sampled_from(
    ["event_id", "event_name", "session_id", "user_id", "device_id", "profile_kind", "market", "consent",
     "client_timestamp", "schema_version", "properties", "platform", "event_timestamp", "ip_truncated"]
)
near_events = st.builds(
    lambda base, extra: {**base, **extra},
    st.sampled_from([event(), event("playback.started"), event("search.query"), {}]),
    st.dictionaries(field_names, json_values, max_size=5),
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(dumps),
    st.lists(near_events, max_size=8).map(lambda events: dumps({"events": events})),
    st.lists(json_values, max_size=5).map(lambda events: dumps({"events": events})),
)
paths = st.sampled_from(["/v1/events", "/telemetry/playback", "/telemetry/playback/batch"])
encodings = st.sampled_from([None, "gzip", "identity", "br"])
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", None])


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with serve(collector_settings(tmp, EVENTLAKE_RATE_LIMIT_PER_MINUTE="0",
                                  EVENTLAKE_RATE_LIMIT_USER_PER_MINUTE="0")) as server:
        with server.client() as client:
            yield server, client


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, path=paths, encoding=encodings, content_type=content_types, compress=st.booleans())
def test_no_body_yields_a_5xx(running, body, path, encoding, content_type, compress):
    _, client = running
    headers = dict(bearer())
    if content_type:
        headers["content-type"] = content_type
    if encoding:
        headers["content-encoding"] = encoding
        if encoding == "gzip" and compress:
            body = gzip.compress(body)
    response = client.post(path, content=body, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/healthz").status_code == 200
