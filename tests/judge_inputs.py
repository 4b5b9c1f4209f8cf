"""Hypothesis strategies for what producers can land: any bytes, any JSON, envelopes at the edges.

Shared by the judge's property tests (tests/unit, tests/silver) and the collector's fuzzing.
"""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import strategies as st

# Text that also holds lone surrogates: json.dumps writes them as `\ud800` escapes, which is
# how they arrive in a landed line.
any_text = st.text(
    alphabet=st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=30
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.5, 2.0, 1e308, -1e308, 5e-324, -0.0]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=20,
)

_EDGES = [datetime(1, 1, 1), datetime(1, 1, 1, 23, 59), datetime(9999, 12, 31, 23, 59, 59, 999999),
          datetime(9999, 12, 31), datetime(1970, 1, 1), datetime(2026, 11, 1, 10)]


def _offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"


timestamps = st.one_of(
    st.builds(
        lambda moment, offset: moment.isoformat() + offset,
        st.one_of(st.datetimes(), st.sampled_from(_EDGES)),
        st.one_of(
            st.just(""), st.just("Z"),
            st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(_offset),
        ),
    ),
    st.sampled_from(["", "yesterday", "2026-13-45T99:00:00Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
                     "2026-11-01", "20261101T100000Z", "2026-W44-7", "2026-11-01T10:00:00+24:00"]),
)

FIELDS = ["event_id", "event_name", "event_timestamp", "client_timestamp", "session_id", "user_id",
          "profile_id", "device_id", "profile_kind", "device_type", "platform", "app_version", "os_version",
          "connection_type", "market", "consent", "schema_version", "properties", "ip_truncated",
          "user_agent", "collector_id"]
field_values = st.one_of(
    json_values, timestamps, numbers,
    st.sampled_from(["US", "us", "UK", "EL", "EU", "XK", "GB", "DE", "", "kids", "standard"]),
    st.dictionaries(st.sampled_from(["analytics", "personalization", "ad_targeting"]), json_values, max_size=3),
)

VALID = {
    "event_id": "e1",
    "event_name": "playback.started",
    "event_timestamp": "2026-11-01T10:00:00Z",
    "session_id": "s1",
    "user_id": "u1",
    "market": "US",
    "properties": {"content_id": "c1", "content_type": "vod", "start_time_ms": 800},
}
EVENT_NAMES = ["playback.started", "search.query", "track.play_start", "auth.login", "session.created",
               "ad.impression", "nope.nothing"]
near_events = st.builds(
    lambda name, changes, removed: {
        **{k: v for k, v in VALID.items() if k not in removed}, "event_name": name, **changes
    },
    st.sampled_from(EVENT_NAMES),
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=4),
    st.sets(st.sampled_from(list(VALID)), max_size=1),
)
# Valid events but for their clocks and version: the extremes of dates, offsets and integers.
timed_events = st.builds(
    lambda event_ts, client_ts, version, market: {
        **VALID, "event_timestamp": event_ts, "client_timestamp": client_ts, "schema_version": version,
        "market": market,
    },
    timestamps, st.none() | timestamps, st.none() | numbers,
    st.sampled_from([None, "US", "gb", "UK", "EL", "EU", "DE", "XX", "U"]),
)


def dumps(value) -> str:
    """The standard encoder: it writes big integers and lone surrogates (as escapes)."""
    return json.dumps(value, allow_nan=False)


def _nested(levels: int, inner: str) -> str:
    return "[" * levels + inner + "]" * levels


# A landed line as bronze holds it (a str: bronze reads text as UTF-8).
lines = st.one_of(
    st.text(max_size=60),
    json_values.map(dumps),
    near_events.map(dumps),
    timed_events.map(dumps),
    st.builds(  # deep nesting inside an otherwise valid event, around the parsers' limits
        lambda levels: dumps(VALID).replace('"vod"', '"vod","x":' + _nested(levels, "1"), 1),
        st.one_of(st.integers(min_value=1, max_value=1100), st.sampled_from([252, 253, 254, 255, 1023, 1024, 1025])),
    ),
    st.builds(lambda levels: _nested(levels, ""), st.integers(min_value=1, max_value=5000)),
    st.builds(  # a number token no double holds, or not JSON at all
        lambda token: dumps(VALID).replace("800", token, 1),
        st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "1" + "0" * 400, "1" + "0" * 5000, "0x10", "08"]),
    ),
)
# What a producer can send: the lines above as UTF-8, or any bytes at all.
raw_lines = st.one_of(lines.map(lambda text: text.encode("utf-8")), st.binary(max_size=80), lines)
