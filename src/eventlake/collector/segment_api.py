"""Segment's HTTP Tracking API, mapped onto eventlake envelopes (docs/segment.md).

Teams that already instrument with Segment's or RudderStack's SDKs (web, iOS, Android,
server) point them at the collector unchanged: `POST /v1/batch` and the six single-call
routes take Segment's message shapes, authenticated by a write key (HTTP Basic, the key as
user name). Each message becomes one envelope here; from then on it is judged, filtered by
consent, enriched and made durable exactly as an event posted to `/v1/events`.

The mapping is pure (message in, envelope out) so the docs' mapping table, the unit tests
and the collector share one definition. What Segment's spec has no field for (a profile,
its kind, an explicit eventlake consent object) may be sent under `context.eventlake`.

Privacy (004 §8, contract §2): `identify` and `group` keep the names of traits, never their
values (an events lake holds no profile data); `alias`'s `previousId` is a raw user id, so it
is pseudonymised here with the lake's salt before anything is written; `context.ip` is
ignored (the collector truncates the address it sees, as for every route).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from eventlake.envelope import parse_timestamp
from eventlake.privacy import pseudonymous_key

from .telemetry import derived_session_id

# Segment's documented limits: 32 KB per call, 500 KB per batch request.
MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2_500  # far above what 500 KB of real messages holds; bounds the work

# The event name each Segment call type records (`track` records the name it is given).
CALL_EVENT_NAMES: dict[str, str] = {
    "page": "page.view",
    "screen": "screen.view",
    "identify": "user.identified",
    "group": "user.grouped",
    "alias": "user.aliased",
}
CALL_TYPES = ("track", *CALL_EVENT_NAMES)

# eventlake's envelope fields a sender may set under context.eventlake (Segment has none).
EXTENSION_FIELDS = ("session_id", "profile_id", "profile_kind", "market", "consent")

# Segment Consent Management's category names, read case-insensitively, for each flag.
CONSENT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "analytics": ("analytics",),
    "personalization": ("personalization", "functional"),
    "ad_targeting": ("ad_targeting", "advertising"),
}


class UnmappableMessage(ValueError):
    """A message that is not a Segment call at all (not an object, or no known `type`)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code  # the contract's reason code


def to_envelope(
    message: Any, *, call_type: str | None, received_at: datetime, batch_sent_at: Any = None, salt: str,
) -> dict[str, Any]:
    """One Segment message as an eventlake envelope (the collector's enrichment comes later).

    `call_type` is the route's type (`/v1/track` → "track"); None for a batch item, whose
    own `type` decides. Values of the wrong JSON type are passed through unchanged, so the
    envelope judge names the field (`INVALID_FIELD`, `INVALID_PROPERTY`) instead of this
    mapping guessing.
    """
    if not isinstance(message, Mapping):
        raise UnmappableMessage("MALFORMED_JSON", "a message must be a JSON object")
    kind = call_type or message.get("type")
    if not isinstance(kind, str) or kind.lower() not in CALL_TYPES:
        raise UnmappableMessage("INVALID_FIELD", f"type must be one of {', '.join(CALL_TYPES)}")
    kind = kind.lower()
    context = _object(message.get("context"))
    extension = _object(context.get("eventlake"))
    device, os_, app, network = (_object(context.get(k)) for k in ("device", "os", "app", "network"))

    user_id = message.get("userId")
    device_id = device.get("id") or message.get("anonymousId")
    session_id = extension.get("session_id") or derived_session_id(
        salt, user_id if isinstance(user_id, str) else None, device_id if isinstance(device_id, str) else None,
        received_at,
    )
    envelope: dict[str, Any] = {
        "event_id": message.get("messageId"),
        "event_name": message.get("event") if kind == "track" else CALL_EVENT_NAMES[kind],
        "client_timestamp": client_timestamp(message.get("timestamp"), message.get("sentAt") or batch_sent_at,
                                             received_at),
        "session_id": session_id,
        "user_id": user_id,
        "profile_id": extension.get("profile_id"),
        "profile_kind": extension.get("profile_kind"),
        "device_id": device_id,
        "device_type": device.get("type"),
        "platform": _lower(os_.get("name")),
        "app_version": app.get("version"),
        "os_version": os_.get("version"),
        "connection_type": _connection_type(network),
        "market": extension.get("market") or _country(context.get("location")),
        "consent": extension["consent"] if "consent" in extension else _consent(context.get("consent")),
        "schema_version": 1,
        "properties": _properties(kind, message, salt),
    }
    # Absent stays absent (the judge reads a missing id the same as null, and the collector
    # assigns an event_id only when none was sent).
    return {name: value for name, value in envelope.items() if value is not None}


def client_timestamp(timestamp: Any, sent_at: Any, received_at: datetime) -> Any:
    """Segment's clock-skew correction: the event happened `sent_at - timestamp` before the
    client sent it, so it happened that long before the collector received it. Without a
    readable `sentAt` the client's `timestamp` is kept as it is (the judge reads it)."""
    when, sent = parse_timestamp(timestamp), parse_timestamp(sent_at)
    if when is None or sent is None:
        return timestamp
    try:
        corrected = received_at - (sent - when)
    except OverflowError:
        return timestamp
    return corrected.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _properties(kind: str, message: Mapping[str, Any], salt: str) -> Any:
    # Segment's properties are optional, and SDKs send null for none: an envelope's are an
    # object (contract §2), so none is {}. Anything else that is no object stays, for the
    # judge to refuse.
    given = message.get("properties")
    given = {} if given is None else given
    if kind == "track":
        return given
    if kind in ("page", "screen"):
        if not isinstance(given, Mapping):
            return given  # the judge says INVALID_PROPERTY
        named = {f"{kind}_name": message.get("name"), f"{kind}_category": message.get("category")}
        return {**given, **{k: v for k, v in named.items() if v is not None}}
    # RudderStack's identify sends its traits as context.traits, Segment's at the top level.
    traits = message.get("traits", _object(message.get("context")).get("traits"))
    if kind == "identify":
        return {"trait_names": _trait_names(traits)}
    if kind == "group":
        return {"group_id": message.get("groupId"), "trait_names": _trait_names(message.get("traits"))}
    previous = message.get("previousId")  # alias: silver's user_key of the earlier id
    return {"previous_user_key": pseudonymous_key(previous, salt) if isinstance(previous, str) else previous}


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _trait_names(traits: Any) -> list[str]:
    return sorted(str(name) for name in traits) if isinstance(traits, Mapping) else []


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _connection_type(network: Mapping[str, Any]) -> str | None:
    if network.get("wifi") is True:
        return "wifi"
    if network.get("cellular") is True:
        return "cellular"
    return None


def _country(location: Any) -> str | None:
    """`context.location.country` when it is a two-letter code; Segment often sends a country
    name there ("United States"), which is no market: then none (the market default)."""
    country = _object(location).get("country")
    if isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha():
        return country.upper()
    return None


def _consent(consent: Any) -> dict[str, Any] | None:
    """Segment Consent Management's `categoryPreferences` as eventlake's three flags; a flag
    whose category is absent is left out, so the market default decides it (contract §5)."""
    preferences = _object(_object(consent).get("categoryPreferences"))
    if not preferences:
        return None
    lowered = {str(k).lower(): v for k, v in preferences.items()}
    flags = {}
    for flag, categories in CONSENT_CATEGORIES.items():
        for category in categories:
            if category in lowered:
                flags[flag] = lowered[category]
                break
    return flags or None
