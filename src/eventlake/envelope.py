"""The event envelope (contract §2) and the per-event rules of contract §5, steps 1–4.

Pure Python so that exactly the same code judges an event at the collector (which rejects
it with an HTTP error entry) and in the silver job (which quarantines it with a reason).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from eventlake.privacy import effective_consent, redact_pii, truncate_ip
from eventlake.taxonomy import Taxonomy

# Quarantine reasons, in the order the rules are applied.
MALFORMED_JSON = "MALFORMED_JSON"
MISSING_REQUIRED_FIELD = "MISSING_REQUIRED_FIELD"
INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
INVALID_FIELD = "INVALID_FIELD"  # an envelope field of the wrong type or size (eventlake's own)
UNKNOWN_EVENT_NAME = "UNKNOWN_EVENT_NAME"
INVALID_PROPERTY = "INVALID_PROPERTY"
REASONS = (
    MALFORMED_JSON,
    MISSING_REQUIRED_FIELD,
    INVALID_TIMESTAMP,
    INVALID_FIELD,
    UNKNOWN_EVENT_NAME,
    INVALID_PROPERTY,
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


@dataclass(frozen=True)
class Rejection:
    reason: str
    detail: str


def load_json(raw: str | bytes) -> Any:
    """Parse one JSON value strictly (no NaN/Infinity); raise ValueError when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson stops at 64-bit integers; the standard parser takes any size, still strictly.
        def reject(constant: str) -> Any:
            raise ValueError(f"{constant} is not JSON")

        return json.loads(raw, parse_constant=reject)


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO-8601 string with any UTC offset (naive means UTC) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


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
        return f"profile_kind: {kind!r} is not one of standard, kids"
    market = event.get("market")
    if market is not None and not (
        isinstance(market, str) and len(market) == 2 and market.isascii() and market.isalpha()
    ):
        return f"market: {market!r} is not an ISO 3166-1 alpha-2 code"
    version = event.get("schema_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        return "schema_version: expected a positive integer"
    consent = event.get("consent")
    if consent is not None and not isinstance(consent, dict):
        return "consent: expected object or null"
    client_ts = event.get("client_timestamp")
    if client_ts is not None and parse_timestamp(client_ts) is None:
        return "client_timestamp: not an ISO-8601 timestamp"
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
    for name in REQUIRED_FIELDS:
        if name == "event_id" and server_side and event.get(name) is None:
            continue
        if _is_blank(event.get(name)):
            return Rejection(MISSING_REQUIRED_FIELD, f"{name}: missing or empty")
    if not server_side and parse_timestamp(event.get("event_timestamp")) is None:
        if event.get("event_timestamp") is None:
            return Rejection(INVALID_TIMESTAMP, "event_timestamp: missing")
        return Rejection(INVALID_TIMESTAMP, "event_timestamp: not an ISO-8601 timestamp")
    problem = _field_problem(event)
    if problem:
        return Rejection(INVALID_FIELD, problem)
    spec = taxonomy.get(event["event_name"])
    if spec is None:
        return Rejection(UNKNOWN_EVENT_NAME, f"{event['event_name'][:100]!r} is not in the taxonomy")
    properties = event.get("properties")
    problem = spec.check_properties({} if properties is None else properties)
    if problem:
        return Rejection(INVALID_PROPERTY, problem)
    return None


def readable_identity(event: Any) -> tuple[str | None, str | None]:
    """event_id and event_name where readable, for a quarantine row."""
    if not isinstance(event, dict):
        return None, None
    event_id, name = event.get("event_id"), event.get("event_name")
    return (
        event_id[:MAX_ID_LENGTH] if isinstance(event_id, str) else None,
        name[:200] if isinstance(name, str) else None,
    )


def normalise(event: dict[str, Any]) -> dict[str, Any]:
    """A valid event's fields, typed and cleaned for silver (before consent and keys).

    Only call after check_event() returned None.
    """
    market = event.get("market")
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
        "market": market.upper() if isinstance(market, str) else None,
        "consent_analytics": consent.analytics,
        "no_personalization": kids or not consent.personalization,
        "no_ad_targeting": kids or not consent.ad_targeting,
        "schema_version": event.get("schema_version") or 1,
        # A producer other than the collector may have sent a full address: truncate again.
        "ip_truncated": truncate_ip(ip) if isinstance(ip, str) else None,
        "user_agent": event.get("user_agent"),
        "collector_id": event.get("collector_id"),
        "properties": orjson.dumps(redact_pii(properties)).decode("utf-8"),
    }
