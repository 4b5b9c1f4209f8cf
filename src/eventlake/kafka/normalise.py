"""002's Kafka records as eventlake envelopes (docs/kafka.md has the table of shapes).

A record value is 002's canonical command (`eventType`, `source`, `occurredAt`, `tenantId`,
`payload`) or one of its six upstream shapes, each recognised by the fields it carries.
Every recognised record becomes one envelope, whatever its values: the envelope judge in
silver quarantines a bad value with its reason, as for any producer. What is not a 002
record at all (bytes that are not UTF-8 JSON, JSON that is not an object, an object of no
known shape) is a `RecordRejection` and goes to the consumer's own quarantine table with the
record's coordinates, so it never stops the consumer group.

Pure functions: bytes and coordinates in, an envelope or a rejection out.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from eventlake.collector.telemetry import derived_session_id
from eventlake.envelope import parse_timestamp

MAX_ID_LENGTH = 64
# Person ids in a record are the envelope's user_id (pseudonymised in silver), never properties.
PERSON_IDS = ("userId", "studentId")

# Reasons of the consumer's quarantine (bronze.kafka_quarantine).
UNDECODABLE = "UNDECODABLE"  # not UTF-8, or not JSON
NOT_AN_OBJECT = "NOT_AN_OBJECT"
UNKNOWN_SHAPE = "UNKNOWN_SHAPE"


@dataclass(frozen=True)
class Coordinates:
    """Where a record sits in Kafka: what makes it unique, and its broker timestamp."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, timezone.utc)

    def event_id(self) -> str:
        """A stable id for a record without its own: the same record read twice (a crash
        before the offsets were committed) gets the same id, so silver keeps one row."""
        digest = hashlib.sha256(f"{self.topic}\x00{self.partition}\x00{self.offset}".encode()).hexdigest()
        return f"kafka-{digest[:40]}"


@dataclass(frozen=True)
class RecordRejection:
    reason: str
    detail: str


def normalise(value: bytes | None, where: Coordinates, *, salt: str) -> dict[str, Any] | RecordRejection:
    """One record value as an envelope (the consumer adds event_timestamp and collector_id)."""
    if value is None:
        return RecordRejection(UNDECODABLE, "the record has no value (a tombstone)")
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        return RecordRejection(UNDECODABLE, f"not UTF-8 JSON: {str(error)[:200]}")
    if not isinstance(document, dict):
        return RecordRejection(NOT_AN_OBJECT, f"a JSON {type(document).__name__}, not an object")
    for shape in SHAPES:
        if shape.matches(document):
            return shape.envelope(document, where, salt)
    return RecordRejection(UNKNOWN_SHAPE, "matches neither 002's command nor a known upstream shape; fields: "
                           + ", ".join(sorted(str(k) for k in document)[:20]))


# --- timestamps: each upstream shape's own form, written as ISO-8601 UTC ---------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_from_string(text: Any) -> Any:
    """An ISO string with nanoseconds (002's execution analytics) truncated to microseconds,
    then as UTC; anything unreadable is returned as it came, for the judge to name."""
    if not isinstance(text, str):
        return text
    parsed = parse_timestamp(_FRACTION.sub(r"\1", text, count=1))
    return iso(parsed) if parsed is not None else text


def iso_from_epoch(seconds: Any) -> Any:
    """Epoch seconds as a float or integer (002's guides) as ISO UTC, to the microsecond."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return seconds
    try:
        return iso(datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=round(seconds * 1_000_000)))
    except OverflowError:
        return seconds


def iso_from_parts(parts: Any) -> Any:
    """A Java LocalDateTime serialised as an array, `[year, month, day, hour, minute, second,
    nanosecond]` (002's `registeredAt`; trailing parts may be left out), read as UTC."""
    if not isinstance(parts, list) or not 3 <= len(parts) <= 7:
        return parts
    if any(isinstance(p, bool) or not isinstance(p, int) for p in parts):
        return parts
    year, month, day, hour, minute, second, nano = (parts + [0, 0, 0, 0])[:7]
    try:
        return iso(datetime(year, month, day, hour, minute, second, nano // 1000, tzinfo=timezone.utc))
    except (ValueError, OverflowError):
        return parts


def iso_from_any(value: Any) -> Any:
    """002's `occurredAt` in whichever form a producer wrote it."""
    if isinstance(value, list):
        return iso_from_parts(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return iso_from_epoch(value)
    return iso_from_string(value)


# --- the shapes ------------------------------------------------------------------------------

def snake(name: str) -> str:
    """camelCase → snake_case (`challengeId` → `challenge_id`)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def canonical_event_name(event_type: str) -> str:
    """002's eventType as a taxonomy name: lower case, `-` written `_`, the plural
    `challenges` context folded into `challenge` (docs/taxonomy.md, source 002)."""
    name = event_type.strip().lower().replace("-", "_")
    return "challenge." + name[len("challenges."):] if name.startswith("challenges.") else name


def _person(document: Mapping[str, Any]) -> Any:
    return next((document[k] for k in PERSON_IDS if document.get(k) is not None), None)


def _properties(fields: Mapping[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {snake(str(k)): v for k, v in fields.items() if k not in PERSON_IDS and k not in drop}


def _event_id(document: Mapping[str, Any], where: Coordinates) -> str:
    """002 §6: a natural key `eventId` (top level or in the payload) when the producer sent
    one, else the record's coordinates."""
    payload = document.get("payload")
    for candidate in (document.get("eventId"), payload.get("eventId") if isinstance(payload, Mapping) else None):
        if isinstance(candidate, str) and 0 < len(candidate) <= MAX_ID_LENGTH:
            return candidate
    return where.event_id()


def _envelope(name: str, occurred: Any, user_id: Any, properties: dict[str, Any],
              document: Mapping[str, Any], where: Coordinates, salt: str) -> dict[str, Any]:
    envelope = {
        "event_id": _event_id(document, where),
        "event_name": name,
        "client_timestamp": occurred,
        # Server-side events carry no session: one per user (or none) and UTC day, as 000's.
        "session_id": derived_session_id(salt, user_id if isinstance(user_id, str) else None, None, where.timestamp),
        "user_id": user_id,
        "schema_version": 1,
        "properties": properties,
    }
    return {k: v for k, v in envelope.items() if v is not None}


def _canonical(document: Mapping[str, Any], where: Coordinates, salt: str) -> dict[str, Any]:
    payload = document.get("payload")
    fields = payload if isinstance(payload, Mapping) else {}
    properties = _properties(fields, drop=("eventId",))
    if not isinstance(payload, (Mapping, type(None))):
        properties["payload"] = payload  # kept as sent, never dropped
    for key, target in (("tenantId", "tenant_id"), ("source", "source")):
        if document.get(key) is not None:
            properties[target] = document[key]
    # 002: occurredAt "defaults to ingestion time if omitted".
    occurred = iso_from_any(document["occurredAt"]) if document.get("occurredAt") is not None else iso(where.timestamp)
    return _envelope(canonical_event_name(document["eventType"]), occurred, _person(fields) or _person(document),
                     properties, document, where, salt)


def _upstream(name: str | Callable[[Mapping[str, Any]], str], time_field: str, convert: Callable[[Any], Any],
              iso_property: str | None) -> Callable[[Mapping[str, Any], Coordinates, str], dict[str, Any]]:
    """An upstream shape's builder: its event name (fixed, or chosen from the record), the
    field holding its time and how that becomes UTC ISO, and the property keeping that ISO."""
    def build(document: Mapping[str, Any], where: Coordinates, salt: str) -> dict[str, Any]:
        occurred = convert(document.get(time_field)) if document.get(time_field) is not None else None
        properties = _properties(document, drop=("eventId", time_field))
        if iso_property is not None and occurred is not None:
            properties[iso_property] = occurred
        event_name = name if isinstance(name, str) else name(document)
        return _envelope(event_name, occurred, _person(document), properties, document, where, salt)
    return build


def _community_event(document: Mapping[str, Any]) -> str:
    # 002: profileUrl is null on registrations; an update requires one.
    return "community.user_registered" if document.get("profileUrl") is None else "community.profile_updated"


@dataclass(frozen=True)
class Shape:
    """A record shape: the fields that identify it and how it becomes an envelope."""

    name: str
    matches: Callable[[Mapping[str, Any]], bool]
    envelope: Callable[[Mapping[str, Any], Coordinates, str], dict[str, Any]]


def _has(document: Mapping[str, Any], *keys: str) -> bool:
    return all(key in document for key in keys)


# In this order: the first shape whose fields a record carries decides.
SHAPES: tuple[Shape, ...] = (
    Shape("canonical command", lambda d: isinstance(d.get("eventType"), str), _canonical),
    Shape("iam registered", lambda d: _has(d, "registeredAt", "userId"),
          _upstream("iam.user_registered", "registeredAt", iso_from_parts, "registered_at_iso")),
    Shape("guides.challenges", lambda d: _has(d, "guideId", "challengeId", "occurredAt"),
          _upstream("guides.challenge_linked", "occurredAt", iso_from_epoch, "occurred_at_iso")),
    Shape("excecution analytics", lambda d: _has(d, "executionId", "occurredAt"),
          _upstream("execution.analytics", "occurredAt", iso_from_string, "occurred_at_iso")),
    Shape("community registration / profile updated", lambda d: _has(d, "profileUrl", "userId"),
          _upstream(_community_event, "occurredAt", iso_from_any, None)),
    Shape("challenges completion analytics", lambda d: _has(d, "challengeId", "occurredOn"),
          _upstream("challenge.solution_completed", "occurredOn", iso_from_any, "occurred_on_iso")),
)
