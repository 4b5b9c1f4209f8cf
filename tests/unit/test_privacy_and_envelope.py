"""The per-event rules and privacy helpers shared by the collector and silver (pure Python)."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.envelope import check_event, load_json, normalise, parse_timestamp
from eventlake.privacy import (
    Consent,
    contains_pii,
    effective_consent,
    pseudonymous_key,
    redact_pii,
    truncate_ip,
)
from eventlake.taxonomy import load_taxonomy

pytestmark = pytest.mark.unit
TAXONOMY = load_taxonomy()


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        # 6to4: the /48 would hold the whole IPv4 address (203.0.113.5) in bits 16-47.
        ("2002:cb00:7105:1::5", "203.0.113.0"),
        # A port, as some proxies write X-Forwarded-For hops.
        ("203.0.113.77:4711", "203.0.113.0"),
        ("[2001:db8:abcd:12::1]:443", "2001:db8:abcd::"),
        ("[2001:db8:abcd:12::1]", "2001:db8:abcd::"),
        ("203.0.113.77:port", None),
        ("[2001:db8::1]x", None),
        ("not an ip", None),
        ("", None),
    ],
)
def test_ip_truncation(ip, truncated):
    assert truncate_ip(ip) == truncated


@given(st.ip_addresses(v=4), st.integers(0, 65535), st.integers(0, 2**80 - 1))
def test_every_spelling_of_an_ipv4_address_keeps_only_its_24(v4, port, rest):
    """However an IPv4 client is written (with a port, IPv4-mapped, inside a 6to4 prefix with
    any subnet and interface bits), what is kept is its /24, never more."""
    network = str(ipaddress.ip_network(f"{v4}/24", strict=False).network_address)
    sixtofour = ipaddress.IPv6Address((0x2002 << 112) | (int(v4) << 80) | rest)
    for spelling in (str(v4), f"{v4}:{port}", f"::ffff:{v4}", str(sixtofour), f"[{sixtofour}]:{port}"):
        assert truncate_ip(spelling) == network, spelling


@given(st.ip_addresses(v=6))
def test_an_ipv6_address_keeps_at_most_its_48_or_an_ipv4_24(v6):
    kept = ipaddress.ip_address(truncate_ip(str(v6)))
    if kept.version == 6:
        assert int(kept) & ((1 << 80) - 1) == 0 and int(kept) >> 80 == int(v6) >> 80
    else:
        assert int(kept) & 0xFF == 0


@pytest.mark.parametrize(
    ("event", "consent"),
    [
        ({"market": "US"}, Consent(True, True, True)),
        ({"market": None}, Consent(True, True, True)),
        ({}, Consent(True, True, True)),
        ({"market": "DE"}, Consent(False, False, False)),
        ({"market": "no"}, Consent(False, False, False)),
        ({"market": "DE", "consent": {"analytics": True}}, Consent(True, False, False)),
        ({"market": "US", "consent": {"ad_targeting": False}}, Consent(True, True, False)),
        # Present but not a JSON boolean: off, never the (all-on) market default.
        ({"market": "US", "consent": {"analytics": "false"}}, Consent(False, True, True)),
    ],
)
def test_effective_consent_uses_market_defaults_for_missing_flags(event, consent):
    assert effective_consent(event) == consent


@pytest.mark.parametrize(
    ("text", "pii"),
    [
        ("write to a.b@example.co.uk", True),
        ("+1 415 555 2671", True),
        ("(212) 555-0100", True),
        # letters beyond ASCII in an address (RFC 6531)
        ("josé@example.com", True),
        ("mail zoë@beispiel.de", True),
        ("用户@例子.广告", True),
        ("über@", False),
        ("café.com", False),
        ("2026-11-01T10:00:00Z", False),
        ("content-123456789", False),
        ("01HXK3G6Z8V6Q2Y0M4N5P7R9ST", False),
    ],
)
def test_pii_patterns(text, pii):
    assert contains_pii(text) is pii


def test_redaction_reaches_nested_strings_only():
    assert redact_pii({"a": ["x@y.io", 5, {"b": "+44 20 7946 0958"}], "c": True}) == {
        "a": ["[REDACTED]", 5, {"b": "[REDACTED]"}],
        "c": True,
    }


def test_pseudonymous_key_is_sha256_of_id_then_salt():
    assert pseudonymous_key("u1", "s") == hashlib.sha256(b"u1s").hexdigest()


def test_timestamps_with_any_offset_become_utc():
    assert parse_timestamp("2026-11-02T01:30:00+02:00") == datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc)
    assert parse_timestamp("2026-11-01T10:00:00Z") == datetime(2026, 11, 1, 10, tzinfo=timezone.utc)
    assert parse_timestamp(1730000000) is None
    assert parse_timestamp("soon") is None


UTC_10 = datetime(2026, 11, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-11-01T10:00:00Z", UTC_10),
        ("2026-11-01t10:00:00z", UTC_10),  # RFC 3339 allows lower case T and Z alike
        ("2026-11-01 10:00:00", UTC_10),  # naive means UTC
        ("2026-11-01T11:00+01:00", UTC_10),
        ("2026-11-01T15:30:00+0530", UTC_10),
        ("2026-11-01T10:00:00,000Z", UTC_10),
        ("20261101T100000Z", UTC_10),
        ("2026-W44-7T10:00:00Z", UTC_10),
        # not ISO-8601, though Python's fromisoformat reads them
        ("2026-11-01X10:00:00Z", None),
        ("2026-11-01é10:00:00Z", None),
        ("2026-11-01T10:00:00.Z", None),
        ("2026-11-01T10:00:00+01:00:30.5", None),
        ("2026-11-01T10:00:00+01:00:30", None),
        ("2026-11-01T10:00:00Z ", None),
        ("2026-11-01T10:00:00+24:00", None),
    ],
)
def test_timestamps_are_iso_8601_and_nothing_laxer(text, instant):
    assert parse_timestamp(text) == instant


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
       st.sampled_from("Tt "), st.sampled_from(["", "Z", "z", "+02:00", "-0930", "+05"]),
       st.characters(codec="utf-8").filter(lambda c: c not in "Tt "))
def test_any_iso_date_time_is_read_and_any_other_separator_refused(moment, separator, offset, other):
    text = moment.isoformat(sep=separator) + offset
    expected = datetime.fromisoformat(moment.isoformat() + offset.upper())
    expected = expected.replace(tzinfo=timezone.utc) if expected.tzinfo is None else expected.astimezone(timezone.utc)
    assert parse_timestamp(text) == expected
    assert parse_timestamp(moment.isoformat(sep=other) + offset) is None


def test_load_json_is_strict_but_takes_big_numbers():
    assert load_json('{"n": 123456789012345678901234567890}')["n"] == pytest.approx(1.2345678901e29)
    with pytest.raises(ValueError):
        load_json('{"n": NaN}')


def valid(**overrides):
    event = {
        "event_id": "e1",
        "event_name": "search.query",
        "event_timestamp": "2026-11-01T10:00:00Z",
        "session_id": "s",
        "properties": {"query_text": "news", "search_type": "voice"},
    }
    event.update(overrides)
    return event


def test_server_side_check_does_not_require_what_the_collector_sets():
    event = valid()
    del event["event_id"], event["event_timestamp"]
    assert check_event(event, TAXONOMY, server_side=True) is None
    assert check_event(event, TAXONOMY).reason == "MISSING_REQUIRED_FIELD"


def test_envelope_fields_of_the_wrong_type_are_invalid_fields():
    assert check_event(valid(session_id="x" * 65), TAXONOMY).reason == "INVALID_FIELD"
    assert check_event(valid(profile_kind="teen"), TAXONOMY).reason == "INVALID_FIELD"
    assert check_event(valid(client_timestamp="later"), TAXONOMY).reason == "INVALID_FIELD"
    assert check_event(valid(market="us"), TAXONOMY) is None


@pytest.mark.parametrize("event_name", ["search.query", "app.launch"])  # required properties, or none
def test_properties_null_or_missing_is_no_object(event_name):
    """Contract §2 types properties as an object, with no "or null" and no default; rule 4:
    not an object -> INVALID_PROPERTY. An empty object is one."""
    without = valid(event_name=event_name)
    del without["properties"]
    rejections = [check_event(valid(event_name=event_name, properties=None), TAXONOMY), check_event(without, TAXONOMY)]
    assert [(r.reason, r.detail) for r in rejections] == [
        ("INVALID_PROPERTY", "properties: expected object, got null"), ("INVALID_PROPERTY", "properties: missing")]
    assert check_event(valid(event_name="app.launch", properties={}), TAXONOMY) is None


def test_normalise_truncates_a_full_ip_a_producer_sent_and_uppercases_market():
    row = normalise(valid(ip_truncated="198.51.100.23", market="fr", consent={"analytics": True}), "analytics")
    assert (row["ip_truncated"], row["market"], row["consent_analytics"]) == ("198.51.100.0", "FR", True)
    assert (row["no_personalization"], row["no_ad_targeting"]) == (True, True)
