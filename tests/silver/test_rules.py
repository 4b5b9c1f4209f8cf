"""Contract §5, rule by rule, on tiny in-memory bronze tables through the real Spark code."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from eventlake.schemas import BRONZE_EVENTS, SILVER_COLUMNS
from eventlake.silver.clean import (
    consented_events,
    dedupe_events,
    judge_lines,
    to_silver_events,
    valid_events,
)

pytestmark = pytest.mark.unit
INGESTED = datetime(2026, 11, 2, 3, 0, 0)
SALT = "test-salt"


def event(**overrides) -> dict:
    base = {
        "event_id": "e1",
        "event_name": "playback.started",
        "event_timestamp": "2026-11-01T10:00:00Z",
        "session_id": "s1",
        "user_id": "u1",
        "market": "US",
        "properties": {"content_id": "c1", "content_type": "vod", "start_time_ms": 800},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def bronze(spark, *raws: str | dict):
    rows = [
        (raw if isinstance(raw, str) else json.dumps(raw), "file:/landing/a.jsonl.gz", n, INGESTED, INGESTED.date())
        for n, raw in enumerate(raws, start=1)
    ]
    return spark.createDataFrame(rows, BRONZE_EVENTS)


def reasons(spark, *raws):
    return judge_lines(bronze(spark, *raws)).select("line_number", "reason")


def test_each_rule_gives_its_reason_in_contract_order(spark):
    lines = [
        '{"event_id": "e1", "event_name": "playback.started"',  # truncated JSON
        "[1, 2]",  # JSON, but not an object
        "",
        event(event_id=...),
        event(session_id=""),
        event(event_timestamp=...),
        event(event_timestamp="yesterday at noon"),
        event(event_name="playback.teleported"),
        event(properties="not an object"),
        event(properties={"content_id": "c1", "content_type": "vod", "start_time_ms": "12"}),
        event(properties={"content_id": "c1", "content_type": "vod", "start_time_ms": True}),
        event(event_name="search.results", properties={"query_text": "q", "result_count": 1.5}),
        event(event_name="search.results", properties={"query_text": "q", "result_count": 2.0}),
        event(properties={"content_id": "c1", "content_type": "dvd", "start_time_ms": 1}),
        event(event_name=...),  # missing name outranks the missing timestamp below
        event(),
        event(event_name="playback.stopped", properties={
            "content_id": "c1", "content_type": "vod", "position_ms": 1,
            "total_duration_ms": 5, "completion_percent": 100.5}),
        event(market="DEU"),
    ]
    expected = [
        (1, "MALFORMED_JSON"), (2, "MALFORMED_JSON"), (3, "MALFORMED_JSON"),
        (4, "MISSING_REQUIRED_FIELD"), (5, "MISSING_REQUIRED_FIELD"),
        (6, "INVALID_TIMESTAMP"), (7, "INVALID_TIMESTAMP"),
        (8, "UNKNOWN_EVENT_NAME"),
        (9, "INVALID_PROPERTY"), (10, "INVALID_PROPERTY"), (11, "INVALID_PROPERTY"),
        (12, "INVALID_PROPERTY"), (13, None), (14, "INVALID_PROPERTY"),
        (15, "MISSING_REQUIRED_FIELD"), (16, None), (17, "INVALID_PROPERTY"),
        (18, "INVALID_FIELD"),
    ]
    assertDataFrameEqual(
        reasons(spark, *lines),
        spark.createDataFrame(expected, "line_number LONG, reason STRING"),
    )


def test_quarantine_keeps_readable_identity_and_detail(spark):
    judged = judge_lines(bronze(spark, event(event_id="e9", properties={"content_id": 3})))
    assertDataFrameEqual(
        judged.select("event_id", "event_name", "reason", "detail"),
        spark.createDataFrame(
            [("e9", "playback.started", "INVALID_PROPERTY", "content_id: expected string, got integer")],
            "event_id STRING, event_name STRING, reason STRING, detail STRING",
        ),
    )


def silver_of(spark, *raws):
    judged = judge_lines(bronze(spark, *raws))
    return to_silver_events(dedupe_events(consented_events(valid_events(judged))), SALT)


def test_offsets_are_normalised_to_utc_dates_and_hours(spark):
    rows = silver_of(
        spark,
        event(event_id="a", event_timestamp="2026-11-02T01:30:00+02:00"),  # 2026-11-01 23:30 UTC
        event(event_id="b", event_timestamp="2026-11-01T19:15:00-05:00"),  # 2026-11-02 00:15 UTC
        event(event_id="c", event_timestamp="2026-11-01T10:00:00"),  # naive means UTC
    ).select("event_id", "event_timestamp", "event_date", "event_hour")
    assertDataFrameEqual(
        rows,
        spark.createDataFrame(
            [
                ("a", datetime(2026, 11, 1, 23, 30), date(2026, 11, 1), datetime(2026, 11, 1, 23)),
                ("b", datetime(2026, 11, 2, 0, 15), date(2026, 11, 2), datetime(2026, 11, 2, 0)),
                ("c", datetime(2026, 11, 1, 10, 0), date(2026, 11, 1), datetime(2026, 11, 1, 10)),
            ],
            "event_id STRING, event_timestamp TIMESTAMP, event_date DATE, event_hour TIMESTAMP",
        ),
    )


def test_consent_defaults_by_market_and_explicit_flags(spark):
    rows = silver_of(
        spark,
        event(event_id="us-default", market="US"),
        event(event_id="null-market", market=None),
        event(event_id="de-default", market="DE"),
        event(event_id="gb-default", market="gb"),
        event(event_id="de-opt-in", market="DE", consent={"analytics": True}),
        event(event_id="us-opt-out", market="US", consent={"analytics": False}),
        event(event_id="us-partial", market="US", consent={"personalization": False}),
        event(event_id="fr-partial", market="FR", consent={"analytics": True, "ad_targeting": True}),
    ).select("event_id", "no_personalization", "no_ad_targeting")
    assertDataFrameEqual(
        rows,
        spark.createDataFrame(
            [
                ("us-default", False, False),
                ("null-market", False, False),
                ("de-opt-in", True, True),
                ("us-partial", True, False),
                ("fr-partial", True, False),
            ],
            "event_id STRING, no_personalization BOOLEAN, no_ad_targeting BOOLEAN",
        ),
    )


def sha(raw: str) -> str:
    return hashlib.sha256((raw + SALT).encode()).hexdigest()


def test_pseudonymous_keys_and_kids_profiles(spark):
    rows = silver_of(
        spark,
        event(event_id="adult", user_id="u1", profile_id="p1", device_id="d1", profile_kind="standard"),
        event(event_id="kid", user_id="u1", profile_id="p2", device_id="d1", profile_kind="kids"),
        event(event_id="anon", user_id=None, device_id="d2"),
    ).select("event_id", "user_key", "profile_key", "device_key", "no_personalization", "no_ad_targeting")
    assertDataFrameEqual(
        rows,
        spark.createDataFrame(
            [
                ("adult", sha("u1"), sha("p1"), sha("d1"), False, False),
                ("kid", None, None, None, True, True),
                ("anon", None, None, sha("d2"), False, False),
            ],
            "event_id STRING, user_key STRING, profile_key STRING, device_key STRING, "
            "no_personalization BOOLEAN, no_ad_targeting BOOLEAN",
        ),
    )


def test_no_raw_identifier_reaches_silver(spark):
    silver = silver_of(spark, event(user_id="raw-user-42", profile_id="raw-profile", device_id="raw-device"))
    assert silver.columns == SILVER_COLUMNS
    text = " ".join(str(v) for v in silver.first())
    assert "raw-user-42" not in text and "raw-profile" not in text and "raw-device" not in text


def test_pii_in_string_properties_is_redacted(spark):
    props = {
        "query_text": "mail me at jane.doe@example.com",
        "search_type": "text",
        "nested": {"phone": "+44 20 7946 0958", "note": "call (212) 555-0100", "list": ["ok", "x@y.io"]},
        "date_like": "2026-11-01",
        "count": 3,
    }
    silver = silver_of(spark, event(event_name="search.query", properties=props))
    assert json.loads(silver.first()["properties"]) == {
        "query_text": "[REDACTED]",
        "search_type": "text",
        "nested": {"phone": "[REDACTED]", "note": "[REDACTED]", "list": ["ok", "[REDACTED]"]},
        "date_like": "2026-11-01",
        "count": 3,
    }


def test_client_clock_skew_flag(spark):
    rows = silver_of(
        spark,
        event(event_id="close", client_timestamp="2026-11-01T09:56:00Z"),
        event(event_id="skewed", client_timestamp="2026-11-01T09:54:59Z"),
        event(event_id="offset", client_timestamp="2026-11-01T12:04:00+02:00"),
        event(event_id="none", client_timestamp=None),
    ).select("event_id", "client_ts_skewed")
    assertDataFrameEqual(
        rows,
        spark.createDataFrame(
            [("close", False), ("skewed", True), ("offset", False), ("none", False)],
            "event_id STRING, client_ts_skewed BOOLEAN",
        ),
    )


def test_duplicates_within_a_run_keep_the_earliest(spark):
    rows = silver_of(
        spark,
        event(event_id="d", event_timestamp="2026-11-01T10:00:05Z", session_id="late"),
        event(event_id="d", event_timestamp="2026-11-01T10:00:01Z", session_id="early"),
        event(event_id="d", event_timestamp="2026-11-01T10:00:01Z", session_id="early-but-second-line"),
    ).select("event_id", "session_id")
    assertDataFrameEqual(rows, spark.createDataFrame([("d", "early")], "event_id STRING, session_id STRING"))


def test_silver_columns_are_the_contract_columns(spark):
    silver = silver_of(spark, event())
    assert silver.columns == SILVER_COLUMNS
    assert dict(silver.dtypes)["event_hour"] == "timestamp"
    assert silver.select(F.col("event_domain")).first()[0] == "playback"


def test_consent_keeps_essential_events_and_reads_odd_flags_as_off(spark):
    """Rule 5 as the collector applies it: essential events need no analytics consent; a
    flag that is not a JSON boolean is off; UK and EL are GB and GR (default off)."""
    auth = {"event_name": "auth.login", "properties": {"method": "password"}}
    rows = silver_of(
        spark,
        event(event_id="de-playback", market="DE"),
        event(event_id="de-login", market="DE", **auth),
        event(event_id="uk-playback", market="UK"),
        event(event_id="el-login", market="el", consent={"analytics": False}, **auth),
        event(event_id="us-text-flag", market="US", consent={"analytics": "true"}),
        event(event_id="us-zero-flag", market="US", consent={"analytics": 0}),
        event(event_id="us-null-object", market="US", consent=None),
        event(event_id="us-login-odd-flag", market="US", consent={"analytics": "false"}, **auth),
    ).select("event_id", "market")
    assertDataFrameEqual(
        rows,
        spark.createDataFrame(
            [("de-login", "DE"), ("el-login", "GR"), ("us-null-object", "US"), ("us-login-odd-flag", "US")],
            "event_id STRING, market STRING",
        ),
    )
