"""Segment's HTTP Tracking API on the collector: the mapping, and the real Segment and
RudderStack SDKs sending unchanged to a collector on loopback (docs/segment.md)."""

from __future__ import annotations

import gzip
import hashlib
import threading
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from eventlake.collector.segment_api import UnmappableMessage, client_timestamp, to_envelope
from eventlake.envelope import check_event, parse_timestamp
from eventlake.taxonomy import load_taxonomy

from .helpers import API_KEY, T0, collector_settings, free_port, landed_events, serve

pytestmark = pytest.mark.collector

SALT = "segment-test-salt"
SEARCH = {"query_text": "news", "search_type": "text"}


def basic(key: str) -> dict[str, str]:
    import base64

    return {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the mapping ----------------------------------------------------------------------------


@pytest.mark.unit
def test_a_track_message_maps_field_by_field():
    message = {
        "type": "track", "event": "search.query", "messageId": "m-1", "userId": "viewer-1",
        "anonymousId": "anon-1", "timestamp": "2026-02-08T14:00:00Z", "sentAt": "2026-02-08T14:00:10Z",
        "properties": SEARCH, "integrations": {"All": False}, "version": 2,
        "context": {
            "ip": "203.0.113.77", "os": {"name": "iOS", "version": "17.4"}, "app": {"version": "5.1"},
            "device": {"type": "ios", "id": "device-9"}, "network": {"wifi": True, "cellular": False},
            "location": {"country": "gb"}, "userAgent": "Mozilla/5.0",
            "consent": {"categoryPreferences": {"Analytics": True, "Advertising": False}},
        },
    }
    received = datetime(2026, 2, 8, 14, 30, tzinfo=timezone.utc)
    day_session = "derived-" + sha256_hex(f"d:device-9|2026-02-08|{SALT}")[:40]
    assert to_envelope(message, call_type=None, received_at=received, salt=SALT) == {
        "event_id": "m-1",
        "event_name": "search.query",
        "client_timestamp": "2026-02-08T14:29:50.000000Z",  # 10 s before receipt, as before sending
        "session_id": day_session,
        "user_id": "viewer-1",
        "device_id": "device-9",
        "device_type": "ios",
        "platform": "ios",
        "app_version": "5.1",
        "os_version": "17.4",
        "connection_type": "wifi",
        "market": "GB",
        "consent": {"analytics": True, "ad_targeting": False},
        "schema_version": 1,
        "properties": SEARCH,
    }


@pytest.mark.unit
def test_each_call_type_records_its_event_name_and_never_a_trait_value():
    received = datetime(2026, 2, 8, 14, 30, tzinfo=timezone.utc)
    traits = {"email": "ann@example.com", "name": "Ann", "plan": "premium"}

    def mapped(call_type: str, **message):
        return to_envelope({"userId": "viewer-1", **message}, call_type=call_type, received_at=received, salt=SALT)

    identify = mapped("identify", traits=traits)
    assert (identify["event_name"], identify["properties"]) == ("user.identified", {"trait_names": ["email", "name", "plan"]})
    rudder_identify = mapped("identify", context={"traits": traits})  # RudderStack puts them here
    assert rudder_identify["properties"] == {"trait_names": ["email", "name", "plan"]}
    group = mapped("group", groupId="acme", traits={"employees": 12})
    assert (group["event_name"], group["properties"]) == ("user.grouped", {"group_id": "acme", "trait_names": ["employees"]})
    alias = mapped("alias", previousId="anon-7")
    assert (alias["event_name"], alias["properties"]) == ("user.aliased", {"previous_user_key": sha256_hex("anon-7" + SALT)})
    page = mapped("page", name="Pricing", category="Docs", properties={"path": "/pricing"})
    assert (page["event_name"], page["properties"]) == (
        "page.view", {"path": "/pricing", "page_name": "Pricing", "page_category": "Docs"})
    screen = mapped("screen", name="Home")
    assert (screen["event_name"], screen["properties"]) == ("screen.view", {"screen_name": "Home"})
    # Segment's properties are optional and may be null: an envelope's are an object.
    assert mapped("screen", name="Home", properties=None)["properties"] == {"screen_name": "Home"}
    assert mapped("track", event="search.query", properties=None)["properties"] == {}
    for envelope in (identify, rudder_identify, group, alias, page, screen):
        text = orjson.dumps(envelope).decode()
        assert "ann@example.com" not in text and "Ann" not in text and "anon-7" not in text
        assert check_event(envelope, load_taxonomy(), server_side=True) is None


@pytest.mark.unit
def test_context_eventlake_carries_what_segment_has_no_field_for():
    envelope = to_envelope(
        {"type": "track", "event": "search.query", "userId": "u", "properties": SEARCH,
         "context": {"eventlake": {"session_id": "s-1", "profile_id": "p-1", "profile_kind": "kids",
                                   "market": "DE", "consent": {"analytics": True}},
                     "location": {"country": "United States"}}},
        call_type=None, received_at=T0, salt=SALT)
    assert {k: envelope[k] for k in ("session_id", "profile_id", "profile_kind", "market", "consent")} == {
        "session_id": "s-1", "profile_id": "p-1", "profile_kind": "kids", "market": "DE", "consent": {"analytics": True}}
    # A country name is no market: none is set, so the market default decides.
    named = to_envelope({"type": "track", "event": "x.y", "context": {"location": {"country": "United States"}}},
                        call_type=None, received_at=T0, salt=SALT)
    assert "market" not in named


@pytest.mark.unit
@pytest.mark.parametrize("message, code", [
    ([1, 2], "MALFORMED_JSON"), ("track", "MALFORMED_JSON"), ({"event": "search.query"}, "INVALID_FIELD"),
    ({"type": "purchase"}, "INVALID_FIELD"), ({"type": 7}, "INVALID_FIELD"),
])
def test_what_is_no_segment_call_is_refused_with_a_reason(message, code):
    with pytest.raises(UnmappableMessage) as refused:
        to_envelope(message, call_type=None, received_at=T0, salt=SALT)
    assert refused.value.code == code


# Any code point, lone surrogates too: a JSON "\ud800" escape decodes to one.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=20)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
SEGMENT_KEYS = st.sampled_from(["type", "event", "userId", "anonymousId", "messageId", "timestamp", "sentAt",
                                "properties", "traits", "context", "groupId", "previousId", "name", "category"])
MESSAGES = st.dictionaries(SEGMENT_KEYS, JSON, max_size=10) | JSON


@pytest.mark.unit
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=MESSAGES, call_type=st.sampled_from([None, "track", "identify", "page", "screen", "group", "alias"]),
       sent_at=JSON)
# An anonymousId no UTF-8 can hold, without a session to take: the derived session id raised.
@example(message={"event": "search.query", "anonymousId": "anon\ud800"}, call_type="track", sent_at=None)
def test_any_json_maps_to_an_envelope_the_judge_can_read_or_is_refused(message, call_type, sent_at):
    try:
        envelope = to_envelope(message, call_type=call_type, received_at=T0, batch_sent_at=sent_at, salt=SALT)
    except UnmappableMessage as refused:
        assert refused.code in ("MALFORMED_JSON", "INVALID_FIELD")
        return
    assert isinstance(envelope, dict) and None not in envelope.values()
    # judged, whatever it says, without raising
    rejection = check_event(dict(envelope), load_taxonomy(), server_side=True)
    if rejection is None or rejection.reason != "MALFORMED_JSON":
        orjson.dumps(envelope)  # every value the judge does not refuse as unwritable can be landed


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(ip=st.ip_addresses().map(str), secret=st.text(min_size=1, max_size=30).map(lambda t: "secret:" + t),
       call_type=st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]))
def test_no_full_ip_and_no_trait_value_reaches_an_envelope(ip, secret, call_type):
    message = {"event": "search.query", "userId": "u-1", "traits": {"email": secret},
               "context": {"ip": ip, "traits": {"phone": secret}}, "properties": SEARCH}
    text = orjson.dumps(to_envelope(message, call_type=call_type, received_at=T0, salt=SALT)).decode()
    assert ip not in text and secret not in text


INSTANTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))


@pytest.mark.unit
@given(happened=INSTANTS, delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)), received=INSTANTS,
       offset_hours=st.integers(-12, 14))
def test_clock_skew_correction_keeps_the_delay_the_client_measured(happened, delay, received, offset_hours):
    zone = timezone(timedelta(hours=offset_hours))
    sent = happened + delay
    corrected = client_timestamp(happened.astimezone(zone).isoformat(), sent.astimezone(zone).isoformat(), received)
    assert parse_timestamp(corrected) == received - delay
    # Without a readable sentAt the client's timestamp is kept as sent.
    assert client_timestamp("2026-02-08T14:00:00+02:00", None, received) == "2026-02-08T14:00:00+02:00"
    assert client_timestamp("yesterday", sent.isoformat(), received) == "yesterday"


# --- the real SDKs against the collector ----------------------------------------------------


def segment_client(url: str, key: str = API_KEY, **options):
    from segment.analytics import Client

    return Client(write_key=key, host=url, gzip=True, upload_size=4, **options)


def rudder_client(url: str, key: str = API_KEY, **options):
    from rudderstack.analytics.client import Client

    return Client(write_key=key, host=url, gzip=True, upload_size=4, **options)


def send_every_call(client, prefix: str) -> None:
    """One message of every Segment call type, with the SDK's own batching (4 a request)."""
    client.track(user_id="viewer-1", event="search.query", properties=SEARCH, message_id=f"{prefix}-track",
                 context={"location": {"country": "US"}, "ip": "198.51.100.23"})
    client.track(anonymous_id="anon-2", event="Order Completed", message_id=f"{prefix}-unknown")
    client.track(user_id="viewer-3", event="search.query", properties=SEARCH, message_id=f"{prefix}-consent-off",
                 context={"location": {"country": "FR"}})  # the EU default: analytics off, dropped
    client.identify("viewer-1", {"email": "ann@example.com", "plan": "premium"}, message_id=f"{prefix}-identify")
    client.page("viewer-1", category="Docs", name="Pricing", properties={"path": "/pricing"}, message_id=f"{prefix}-page")
    client.screen("viewer-1", name="Home", message_id=f"{prefix}-screen")
    client.group("viewer-1", "acme", {"employees": 12}, message_id=f"{prefix}-group")
    client.alias("anon-2", "viewer-1", message_id=f"{prefix}-alias")
    client.flush()


def expected_landing(prefix: str, salt: str) -> dict[str, tuple]:
    """event_id -> (event_name, user_id, device_id, properties), written from docs/segment.md."""
    return {
        f"{prefix}-track": ("search.query", "viewer-1", None, SEARCH),
        f"{prefix}-unknown": ("Order Completed", None, "anon-2", {}),
        f"{prefix}-identify": ("user.identified", "viewer-1", None, {"trait_names": ["email", "plan"]}),
        f"{prefix}-page": ("page.view", "viewer-1", None,
                           {"path": "/pricing", "page_name": "Pricing", "page_category": "Docs"}),
        f"{prefix}-screen": ("screen.view", "viewer-1", None, {"screen_name": "Home"}),
        f"{prefix}-group": ("user.grouped", "viewer-1", None, {"group_id": "acme", "trait_names": ["employees"]}),
        f"{prefix}-alias": ("user.aliased", "viewer-1", None, {"previous_user_key": sha256_hex("anon-2" + salt)}),
    }


@pytest.mark.parametrize("make_client", [segment_client, rudder_client], ids=["segment", "rudderstack"])
def test_an_sdk_sends_every_call_unchanged_and_each_lands_as_an_envelope(tmp_path, make_client):
    settings = collector_settings(tmp_path)
    failures: list = []
    with serve(settings) as running:
        client = make_client(running.url, on_error=lambda error, batch: failures.append(error))
        send_every_call(client, "m")
        client.shutdown()
    assert failures == []
    landed = landed_events(running.lake)
    by_id = {e["event_id"]: e for e in landed}
    assert len(by_id) == len(landed)
    assert {i: (e["event_name"], e.get("user_id"), e.get("device_id"), e["properties"]) for i, e in by_id.items()} \
        == expected_landing("m", settings.pseudonym_salt)
    raw = orjson.dumps(landed).decode()
    assert "ann@example.com" not in raw and "198.51.100.23" not in raw and "premium" not in raw
    for envelope in landed:
        assert envelope["ip_truncated"] == "127.0.0.0" and envelope["collector_id"] == "test-collector"
        assert envelope["event_timestamp"] == "2026-02-08T14:30:00.123Z"  # the collector's clock
        # The SDK stamped real time and sent it at once: corrected, it is receipt time.
        assert abs(parse_timestamp(envelope["client_timestamp"]) - T0) < timedelta(seconds=5)
        assert envelope["session_id"].startswith("derived-")


@pytest.mark.parametrize("make_client", [segment_client, rudder_client], ids=["segment", "rudderstack"])
def test_an_sdk_retries_until_the_collector_is_up(tmp_path, make_client):
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}", max_retries=8)
    client.track(user_id="viewer-1", event="search.query", properties=SEARCH, message_id="early-1")
    flushing = threading.Thread(target=client.flush, daemon=True)
    flushing.start()
    flushing.join(1.5)
    assert flushing.is_alive(), "the SDK should still be retrying: nothing listens yet"
    with serve(collector_settings(tmp_path), port=port) as running:
        flushing.join(60)
        assert not flushing.is_alive()
        client.shutdown()
    assert [e["event_id"] for e in landed_events(running.lake)] == ["early-1"]


@pytest.mark.parametrize("make_client", [segment_client, rudder_client], ids=["segment", "rudderstack"])
def test_a_wrong_write_key_is_refused_with_a_problem_the_sdk_reads(tmp_path, make_client):
    failures: list = []
    with serve(collector_settings(tmp_path)) as running:
        client = make_client(running.url, key="not-a-key", max_retries=0,
                             on_error=lambda error, batch: failures.append(error))
        client.track(user_id="viewer-1", event="search.query", properties=SEARCH)
        client.shutdown()
    assert [(f.status, f.code, f.message) for f in failures] == [(401, "unauthorized", "unknown API key")]
    assert landed_events(running.lake) == []


def test_the_segment_routes_answer_like_segment_and_refuse_like_the_collector(tmp_path):
    with serve(collector_settings(tmp_path)) as running, running.client() as http:
        track = {"event": "search.query", "userId": "u", "messageId": "t-1", "properties": SEARCH}
        answer = http.post("/v1/track", json=track, headers=basic(API_KEY))
        assert (answer.status_code, answer.json()) == (200, {
            "success": True, "accepted": 1, "quarantined": 0, "rejected": 0, "dropped": 0, "errors": []})
        # X-API-Key works as on /v1/events, and a gzip body as Segment's SDKs send it.
        body = gzip.compress(orjson.dumps({"batch": [
            {**track, "type": "track", "messageId": "t-2"},
            {"type": "track", "event": "search.query", "userId": "u", "messageId": "t-3", "properties": {}},
            ["not", "a", "message"],
            {"type": "purchase", "userId": "u"},
            # 2**70 cannot be kept exactly: refused, not landed (silver would keep it rounded)
            {"type": "track", "event": "search.query", "userId": "u", "messageId": "t-5",
             "properties": {**SEARCH, "n": "BIG"}},
        ]}).replace(b'"BIG"', str(2**70).encode()))
        answer = http.post("/v1/batch", content=body, headers={
            "x-api-key": API_KEY, "content-type": "application/json", "content-encoding": "gzip"})
        assert answer.status_code == 200
        assert {k: answer.json()[k] for k in ("accepted", "quarantined", "rejected", "dropped")} == {
            "accepted": 1, "quarantined": 1, "rejected": 3, "dropped": 0}
        assert [(e["index"], e["code"]) for e in answer.json()["errors"]] == [
            (1, "INVALID_PROPERTY"), (2, "MALFORMED_JSON"), (3, "INVALID_FIELD"), (4, "INVALID_FIELD")]
        # Whole-request failures: RFC 7807 documents that also carry Segment's code and message.
        for headers, status in ((basic("wrong"), 401), ({"authorization": "Basic %%%"}, 401), ({}, 401)):
            refused = http.post("/v1/batch", json={"batch": []}, headers=headers)
            assert refused.status_code == status
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["www-authenticate"] == 'Basic realm="eventlake"'
            assert {"type", "title", "status", "detail", "code", "message"} <= refused.json().keys()
        assert http.post("/v1/batch", json={"events": []}, headers=basic(API_KEY)).status_code == 400
        assert http.post("/v1/identify", json=[1], headers=basic(API_KEY)).status_code == 400
        too_big = {"batch": [{"type": "track", "event": "x", "properties": {"pad": "x" * 1024}}] * 500}
        assert http.post("/v1/batch", json=too_big, headers=basic(API_KEY)).status_code == 413
        assert http.post("/v1/track", json={**track, "properties": {"pad": "x" * 40_000}},
                         headers=basic(API_KEY)).status_code == 413
        # Basic is for Segment's routes: /v1/events still wants a token or an API key header.
        assert http.post("/v1/events", json={"events": []}, headers=basic(API_KEY)).status_code == 401
    landed = {e["event_id"]: e["event_name"] for e in landed_events(running.lake)}
    assert landed == {"t-1": "search.query", "t-2": "search.query", "t-3": "search.query"}


@pytest.mark.e2e
def test_sdk_events_become_silver_rows_and_a_rejection_a_quarantine_row(spark, tmp_path):
    from pyspark.testing import assertDataFrameEqual

    from eventlake.lake import Lake
    from eventlake.pipeline import run_layer

    settings = collector_settings(tmp_path)
    with serve(settings) as running:
        for make_client, prefix in ((segment_client, "s"), (rudder_client, "r")):
            client = make_client(running.url)
            send_every_call(client, prefix)
            client.shutdown()
    run_layer(spark, settings, "bronze", run_id="r1", quality=False)
    run_layer(spark, settings, "silver", run_id="r1", quality=False)
    lake = Lake.from_settings(settings)
    viewer = sha256_hex("viewer-1" + settings.pseudonym_salt)
    rows = []
    for prefix in ("s", "r"):
        for event_id, (name, _, _, properties) in expected_landing(prefix, settings.pseudonym_salt).items():
            if name != "Order Completed":
                rows.append((event_id, name, viewer, orjson.loads(orjson.dumps(properties))))
    silver = spark.read.format("delta").load(lake.silver_events.path)
    # properties is a JSON string whose key order is silver's: compared as parsed objects.
    got = {r.event_id: (r.event_name, r.user_key, orjson.loads(r.properties)) for r in
           silver.select("event_id", "event_name", "user_key", "properties").collect()}
    assert got == {i: (n, k, p) for i, n, k, p in rows}
    quarantine = spark.read.format("delta").load(lake.silver_quarantine.path)
    assertDataFrameEqual(
        quarantine.select("event_id", "event_name", "reason"),
        spark.createDataFrame([("s-unknown", "Order Completed", "UNKNOWN_EVENT_NAME"),
                               ("r-unknown", "Order Completed", "UNKNOWN_EVENT_NAME")],
                              "event_id string, event_name string, reason string"),
    )
