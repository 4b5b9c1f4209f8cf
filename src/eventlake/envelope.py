"""The event envelope (contract §2) and the per-event rules of contract §5, steps 1–4.

Pure Python so that exactly the same code judges an event at the collector (which rejects
it with an HTTP error entry) and in the silver job (which quarantines it with a reason).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from eventlake.useragent import ua_fields
from eventlake.privacy import canonical_market, consent_keeps, effective_consent, redact_pii, truncate_ip
from eventlake.taxonomy import Taxonomy, shown_value

# Quarantine reasons, in the order the rules are applied.
MALFORMED_JSON = "MALFORMED_JSON"
MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
INVALID_FIELD = "INVALID_FIELD"  # an envelope field of the wrong type or size (eventlake's own)
UNKNOWN_EVENT_NAME = "UNKNOWN_EVENT_NAME"
INVALID_PROPERTY = "INVALID_PROPERTY"
# Not a rule: the judge itself failed on the line (see judge_line); never expected.
JUDGE_FAILED = "JUDGE_FAILED"
REASONS = (
    MALFORMED_JSON,
    MISSING_REQUIRED_FIELD,
    INVALID_TIMESTAMP,
    INVALID_FIELD,
    UNKNOWN_EVENT_NAME,
    INVALID_PROPERTY,
    JUDGE_FAILED,
)

REQUIRED_FIELDS = ("event_id", "event_name", "session_id")
ID_FIELDS = ("event_id", "session_id", "user_id", "profile_id", "device_id")
MAX_ID_LENGTH = 64
OPTIONAL_TEXT_FIELDS = (
    "device_type",
    "platform",
    "app_version",
    "os_version",
    "connection_type",
    "user_agent",
    "collector_id",
    "ip_truncated",
)
MAX_TEXT_LENGTH = 512
PROFILE_KINDS = ("standard", "kids")
MAX_SCHEMA_VERSION = 2**31 - 1  # silver stores it as a 32-bit integer


@dataclass(frozen=True)
class Rejection:
    reason: str
    detail: str


# The deepest nesting the lake can write back: orjson (the writer of landing and silver
# lines) refuses deeper values. Its reader allows 1024 levels, the standard library's
# fewer: both are above this, so any deeper line is MALFORMED_JSON whichever parsed it.
MAX_NESTING = 254
# Integers orjson reads exactly; it reads larger ones as floats, and so does the fallback.
_INT_RANGE = (-(2**63), 2**64 - 1)


def _strict_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is beyond the range of a double")
    return value


def _orjson_int(text: str) -> int | float:
    value = int(text)
    return value if _INT_RANGE[0] <= value <= _INT_RANGE[1] else _strict_float(text)


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text opens more than `limit` arrays and objects inside each other."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def _reject_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def load_json(raw: str | bytes) -> Any:
    """Parse one JSON value strictly (no NaN/Infinity); raise ValueError when it is not JSON.

    orjson first; what it refuses goes to the standard parser, which reads lone surrogate
    escapes (`"\\ud800"`) that `unwritable` then names. Both read the same numbers the same
    way: integers beyond 64 bits as floats, and a number beyond a double (`1e400`) is refused.
    """
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    if isinstance(raw, (bytes, bytearray, memoryview)):
        # JSON is UTF-8 (RFC 8259 §8.1); json.loads would also guess UTF-16 and UTF-32.
        raw = bytes(raw).decode("utf-8")
    # The standard parser's depth depends on the caller's stack and recursion limit: count
    # first, so the same line gets the same answer in a test, a Spark worker or the collector.
    if _deeper_than(raw, MAX_NESTING):
        raise ValueError(f"nested deeper than {MAX_NESTING} levels")
    try:
        return json.loads(raw, parse_constant=_reject_constant, parse_float=_strict_float, parse_int=_orjson_int)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_NESTING} levels") from None


def _walk_problem(value: Any) -> str | None:
    """Which part of a decoded JSON value cannot be written as JSON text (iterative: no depth limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "not valid Unicode: a lone surrogate escape"
        elif isinstance(item, (dict, list)):
            if depth > MAX_NESTING:
                return f"nested deeper than {MAX_NESTING} levels"
            children = list(item.items()) if isinstance(item, dict) else item
            for child in children:
                if isinstance(child, tuple):
                    stack.append((child[0], depth))
                    stack.append((child[1], depth + 1))
                else:
                    stack.append((child, depth + 1))
        elif isinstance(item, int) and not isinstance(item, bool):
            if not _INT_RANGE[0] <= item <= _INT_RANGE[1]:
                return "an integer beyond 64 bits"
        elif isinstance(item, float) and not math.isfinite(item):
            return "a number beyond the range of a double"
    return None


def unwritable(value: Any) -> str | None:
    """Why a decoded JSON value could not be written back as JSON text, or None.

    Whatever orjson parsed is writable; only what the standard parser read can hold a lone
    surrogate or nest too deep. orjson writing it is the fast proof; only a refusal pays
    for the walk that names the cause.
    """
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _walk_problem(value) or "cannot be written as JSON"
    return None


# Spark and Python datetimes hold the same UTC range: 0001-01-01 .. 9999-12-31.
_RANGE_TEXT = "0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z"


# What an ISO-8601 date and time looks like: a calendar or week date (extended or basic),
# then `T` (RFC 3339 also allows `t` and a space) and a time to any precision, then `Z`/`z`
# or an offset of hours and minutes. Python's fromisoformat, which reads the value, is
# laxer: it takes any character between date and time (`2026-11-01X10:00:00`), an empty
# fraction (`10:00:00.Z`) and offsets with seconds (`+01:00:30.5`), none of them ISO-8601.
_ISO_8601 = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-?W\d{2}(?:-?\d)?)"
    r"(?:[Tt ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)


def _utc(value: Any) -> tuple[datetime | None, str]:
    """An ISO-8601 string with any UTC offset (naive means UTC) as an aware UTC datetime.

    On failure: (None, why) — missing, unreadable, or outside what a UTC timestamp holds
    once its offset is applied (year 1 at +01:00, year 9999 at -01:00).
    """
    if value is None:
        return None, "missing"
    if not isinstance(value, str) or not _ISO_8601.fullmatch(value):
        return None, "not an ISO-8601 timestamp"
    try:
        parsed = datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)
    except ValueError:
        return None, "not an ISO-8601 timestamp"
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc), ""
    try:
        return parsed.astimezone(timezone.utc), ""
    except OverflowError:
        return None, f"outside {_RANGE_TEXT} after applying its offset"


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string with any UTC offset (naive means UTC) as an aware UTC datetime, or None."""
    return _utc(value)[0]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _is_int32(value: Any) -> bool:
    """A positive 32-bit integer: 2.0 is one (JSON Schema), 1.5, true and 2**31 are not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return False
    return 1 <= value <= MAX_SCHEMA_VERSION


def _field_problem(event: Mapping[str, Any]) -> str | None:
    for name in ID_FIELDS:
        value = event.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{name}: expected string"
        if len(value) > MAX_ID_LENGTH:
            return f"{name}: longer than {MAX_ID_LENGTH} characters"
    if not isinstance(event.get("event_name"), str):
        return "event_name: expected string"
    for name in OPTIONAL_TEXT_FIELDS:
        value = event.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name}: expected string or null"
        if isinstance(value, str) and len(value) > MAX_TEXT_LENGTH:
            return f"{name}: longer than {MAX_TEXT_LENGTH} characters"
    kind = event.get("profile_kind")
    if kind is not None and kind not in PROFILE_KINDS:
        return f"profile_kind: {shown_value(kind)} is not one of standard, kids"
    market = event.get("market")
    if market is not None and canonical_market(market) is None:
        return f"market: {shown_value(market)} is not an ISO 3166-1 alpha-2 code"
    version = event.get("schema_version")
    if version is not None and not _is_int32(version):
        return f"schema_version: {shown_value(version)} is not a positive 32-bit integer"
    consent = event.get("consent")
    if consent is not None and not isinstance(consent, dict):
        return "consent: expected object or null"
    client_ts = event.get("client_timestamp")
    if client_ts is not None:
        parsed, why = _utc(client_ts)
        if parsed is None:
            return f"client_timestamp: {why}"
    return None


def check_event(
    event: Any, taxonomy: Taxonomy, *, server_side: bool = False
) -> Rejection | None:
    """Contract §5 rules 1–4 for one decoded event; None when the event passes.

    server_side=True is the collector's view: it sets `event_timestamp` itself and assigns
    an `event_id` when the client sent none, so neither is required from the client.
    """
    if not isinstance(event, dict):
        return Rejection(MALFORMED_JSON, "not a JSON object")
    problem = unwritable(event)
    if problem:
        return Rejection(MALFORMED_JSON, problem)
    for name in REQUIRED_FIELDS:
        if name == "event_id" and server_side and event.get(name) is None:
            continue
        if _is_blank(event.get(name)):
            return Rejection(MISSING_REQUIRED_FIELD, f"{name}: missing or empty")
    if not server_side:
        parsed, why = _utc(event.get("event_timestamp"))
        if parsed is None:
            return Rejection(INVALID_TIMESTAMP, f"event_timestamp: {why}")
    problem = _field_problem(event)
    if problem:
        return Rejection(INVALID_FIELD, problem)
    spec = taxonomy.get(event["event_name"])
    if spec is None:
        return Rejection(UNKNOWN_EVENT_NAME, f"{shown_value(event['event_name'], 100)} is not in the taxonomy")
    # Contract §2 types `properties` as an object, with no "or null" and no default (unlike
    # consent and schema_version): a null or missing one is "not an object" (rule 4).
    problem = spec.check_properties(event["properties"]) if "properties" in event else "properties: missing"
    if problem:
        return Rejection(INVALID_PROPERTY, problem)
    return None


def _readable(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    # A lone surrogate cannot be stored as text: it shows as `?` in the quarantine row.
    return value[:limit].encode("utf-8", "replace").decode("utf-8")


def readable_identity(event: Any) -> tuple[str | None, str | None]:
    """event_id and event_name where readable, for a quarantine row."""
    if not isinstance(event, dict):
        return None, None
    return _readable(event.get("event_id"), MAX_ID_LENGTH), _readable(event.get("event_name"), 200)


def normalise(event: dict[str, Any], consent_category: str) -> dict[str, Any]:
    """A valid event's fields, typed and cleaned for silver (before keys).

    Only call after check_event() returned None; `consent_category` is the taxonomy's for
    the event's name. `consent_analytics` carries rule 5's answer: the event may be kept
    (its analytics consent is on, or it is essential and needs none).
    """
    ip = event.get("ip_truncated")
    properties = event.get("properties") or {}
    consent = effective_consent(event)
    # Kids profiles are never used for profiling or ad targeting, whatever the consent says.
    kids = event.get("profile_kind") == "kids"
    return {
        "event_id": event["event_id"],
        "event_name": event["event_name"],
        "event_timestamp": parse_timestamp(event.get("event_timestamp")),
        "client_timestamp": parse_timestamp(event.get("client_timestamp")),
        "session_id": event["session_id"],
        "user_id": event.get("user_id") or None,
        "profile_id": event.get("profile_id") or None,
        "device_id": event.get("device_id") or None,
        "profile_kind": event.get("profile_kind"),
        "device_type": event.get("device_type"),
        "platform": event.get("platform"),
        "app_version": event.get("app_version"),
        "os_version": event.get("os_version"),
        "connection_type": event.get("connection_type"),
        "market": canonical_market(event.get("market")),
        "consent_analytics": consent_keeps(event, consent_category),
        "no_personalization": kids or not consent.personalization,
        "no_ad_targeting": kids or not consent.ad_targeting,
        "schema_version": int(event.get("schema_version") or 1),
        # A producer other than the collector may have sent a full address: truncate again.
        "ip_truncated": truncate_ip(ip) if isinstance(ip, str) else None,
        "user_agent": event.get("user_agent"),
        "collector_id": event.get("collector_id"),
        "properties": orjson.dumps(redact_pii(properties)).decode("utf-8"),
        **ua_fields(event.get("user_agent")),
    }


def _judge(raw: str | bytes | None, taxonomy: Taxonomy) -> dict[str, Any]:
    try:
        event = load_json(raw) if raw is not None else None
    except ValueError as error:
        return {"reason": MALFORMED_JSON, "detail": f"not valid JSON: {_readable(str(error), 200)}"}
    rejection = check_event(event, taxonomy)
    if rejection is not None:
        event_id, event_name = readable_identity(event)
        return {"reason": rejection.reason, "detail": rejection.detail,
                "event_id": event_id, "event_name": event_name}
    # check_event passed: a JSON object whose event_name the taxonomy holds.
    assert isinstance(event, dict)
    spec = taxonomy.get(event["event_name"])
    assert spec is not None
    row = normalise(event, spec.consent)
    row["reason"] = row["detail"] = None
    return row


def judge_line(raw: str | bytes | None, taxonomy: Taxonomy) -> dict[str, Any]:
    """Contract §5 rules 1–4 for one landed line: its quarantine reason, or its silver fields.

    Never raises (no line can stop a run). The rules above answer every input the property
    tests throw at them; the guard below is the last resort for a bug nobody has found yet,
    and sends that line to quarantine as JUDGE_FAILED (kept whole in `raw`, replayable with
    `--reprocess-from` once the bug is fixed) instead of stopping the run at it.
    """
    try:
        return _judge(raw, taxonomy)
    except Exception as error:  # noqa: BLE001 - see the docstring: the line must end somewhere
        return {"reason": JUDGE_FAILED, "detail": _readable(f"{type(error).__name__}: {error}", 200)}
