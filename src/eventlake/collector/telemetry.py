"""Source 000's playback telemetry (`POST /telemetry/playback[/batch]`) as `track.*` envelopes.

The request shape, the validation rules and their error codes are 000's; what comes out is
an ordinary envelope that then goes through the same checks, consent and enrichment as a
`/v1/events` event.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eventlake.envelope import parse_timestamp
from eventlake.taxonomy import is_ulid

EVENT_TYPES = ("play_start", "play_stop", "play_progress", "play_complete", "seek")
MAX_BATCH = 50
MAX_AGE_SINGLE = timedelta(hours=24)
MAX_AGE_BATCH = timedelta(days=7)
MAX_FUTURE = timedelta(minutes=5)
MAX_ID_LENGTH = 64
MAX_CLIENT_VERSION_LENGTH = 32

INVALID_EVENT_TYPE = "INVALID_EVENT_TYPE"
INVALID_TRACK_ID = "INVALID_TRACK_ID"
INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
INVALID_POSITION = "INVALID_POSITION"
INVALID_DURATION = "INVALID_DURATION"
INVALID_SESSION_ID = "INVALID_SESSION_ID"
INVALID_DEVICE_ID = "INVALID_DEVICE_ID"
INVALID_FIELD = "INVALID_FIELD"
MALFORMED_JSON = "MALFORMED_JSON"

# 000 names each failure by an RFC 7807 type slug and a title.
TITLES = {
    INVALID_EVENT_TYPE: ("invalid-event-type", "Invalid event type"),
    INVALID_TRACK_ID: ("invalid-track-id", "Invalid track ID"),
    INVALID_TIMESTAMP: ("invalid-timestamp", "Invalid timestamp"),
    INVALID_POSITION: ("invalid-position", "Invalid position"),
    INVALID_DURATION: ("invalid-duration", "Invalid duration"),
    INVALID_SESSION_ID: ("invalid-session-id", "Invalid session ID"),
    INVALID_DEVICE_ID: ("invalid-device-id", "Invalid device ID"),
    INVALID_FIELD: ("validation-error", "Invalid event data"),
    MALFORMED_JSON: ("validation-error", "Invalid event data"),
}


@dataclass(frozen=True)
class PlaybackRejection:
    code: str
    message: str


def _seconds_problem(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return True
    return value < 0


def check_playback(body: Any, now: datetime, *, max_age: timedelta) -> PlaybackRejection | None:
    """000's validation rules (Req 5.4) in 000's order; None when the event is fine."""
    if not isinstance(body, dict):
        return PlaybackRejection(MALFORMED_JSON, "a playback event must be a JSON object")
    event_type = body.get("eventType")
    if not isinstance(event_type, str) or event_type.lower() not in EVENT_TYPES:
        return PlaybackRejection(INVALID_EVENT_TYPE, f"eventType must be one of: {', '.join(EVENT_TYPES)}")
    track_id = body.get("trackId")
    if not isinstance(track_id, str) or not is_ulid(track_id):
        return PlaybackRejection(INVALID_TRACK_ID, "trackId must be a valid ULID")
    client_ts = parse_timestamp(body.get("clientTimestamp"))
    if client_ts is None:
        return PlaybackRejection(INVALID_TIMESTAMP, "clientTimestamp must be an ISO-8601 timestamp")
    if client_ts < now - max_age or client_ts > now + MAX_FUTURE:
        hours = max_age.total_seconds() / 3600
        limit = f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
        return PlaybackRejection(
            INVALID_TIMESTAMP, f"clientTimestamp must be at most {limit} in the past and 5 minutes in the future"
        )
    if _seconds_problem(body.get("positionSeconds")):
        return PlaybackRejection(INVALID_POSITION, "positionSeconds must be a number >= 0")
    if _seconds_problem(body.get("durationPlayedSeconds")):
        return PlaybackRejection(INVALID_DURATION, "durationPlayedSeconds must be a number >= 0")
    session_id = body.get("sessionId")
    if session_id is not None and (not isinstance(session_id, str) or len(session_id) > MAX_ID_LENGTH):
        return PlaybackRejection(INVALID_SESSION_ID, f"sessionId must be a string of at most {MAX_ID_LENGTH} characters")
    device_id = body.get("deviceId")
    if device_id is not None and (not isinstance(device_id, str) or len(device_id) > MAX_ID_LENGTH):
        return PlaybackRejection(INVALID_DEVICE_ID, f"deviceId must be a string of at most {MAX_ID_LENGTH} characters")
    version = body.get("clientVersion")
    if version is not None and (not isinstance(version, str) or len(version) > MAX_CLIENT_VERSION_LENGTH):
        return PlaybackRejection(
            INVALID_FIELD, f"clientVersion must be a string of at most {MAX_CLIENT_VERSION_LENGTH} characters"
        )
    return None


def derived_session_id(salt: str, user_id: str | None, device_id: str | None, day: datetime) -> str:
    """000 makes sessionId optional but the envelope requires one: a client that sends none
    gets one session per device (or user) and UTC day. Salted and hashed, so the raw ids
    never show through it."""
    owner = f"d:{device_id}" if device_id else f"u:{user_id or ''}"
    # "surrogatepass": a JSON "\ud800" escape decodes to a lone surrogate, which strict UTF-8
    # cannot encode; the id still gets its session here and is refused by the envelope's
    # checks, a 400 for that event rather than a 500 for the request.
    digest = hashlib.sha256(f"{owner}|{day:%Y-%m-%d}|{salt}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"derived-{digest[:40]}"


def to_envelope(body: dict[str, Any], *, user_id: str | None, correlation_id: str, now: datetime, salt: str) -> dict[str, Any]:
    """A checked playback request as an envelope (the collector's enrichment comes later)."""
    device_id = body.get("deviceId") or None
    properties: dict[str, Any] = {"track_id": body["trackId"], "correlation_id": correlation_id}
    for source, target in (("positionSeconds", "position_seconds"), ("durationPlayedSeconds", "duration_played_seconds")):
        if body.get(source) is not None:
            properties[target] = body[source]
    client_ts = parse_timestamp(body["clientTimestamp"])
    assert client_ts is not None  # the request was checked: its clientTimestamp parses
    return {
        "event_name": f"track.{body['eventType'].lower()}",
        "client_timestamp": client_ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "session_id": body.get("sessionId") or derived_session_id(salt, user_id, device_id, now),
        "user_id": user_id,
        "device_id": device_id,
        "app_version": body.get("clientVersion"),
        "schema_version": 1,
        "properties": properties,
    }
