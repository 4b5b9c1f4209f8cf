"""Source 003's fingerprint deduplication, for events that arrive without an event_id.

A client that retries a request whose answer it never saw sends the same events again; with
an `event_id` silver keeps one of them (contract §5 rule 6), but an event without one got a
fresh id per attempt and was counted twice. 003 fingerprints such events (event type, actor,
session, entity, timestamp rounded to the second) and treats a second sighting within 60
seconds as a duplicate.

Here the second sighting is not dropped at the door: it gets the *same* event_id as the
first, so it lands, and silver removes it as a duplicate and counts it. Nothing is lost if
the "duplicate" was in fact a second event; nothing is double-counted if it was a retry.

The window lives in the collector's memory: bounded by `capacity` entries (the oldest go
first when full) and by its length in seconds. Each entry holds a 32-byte digest, an id and
an expiry: about 350 bytes, so the default 100,000 entries are about 35 MB. A retry that
reaches another replica, or comes after a restart, gets a new id (docs/collector.md).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from eventlake.envelope import parse_timestamp

DEFAULT_CAPACITY = 100_000


def fingerprint(event: Mapping[str, Any]) -> bytes:
    """003's fields: the event's type, its actor (user, profile, device), its session, what it
    is about (its whole `properties`: 003's entity id, and more) and the client's timestamp
    rounded down to the second."""
    client = event.get("client_timestamp")
    parsed = parse_timestamp(client)
    second = parsed.replace(microsecond=0).isoformat() if parsed is not None else client
    parts = [event.get(k) for k in ("event_name", "user_id", "profile_id", "device_id", "session_id")]
    text = orjson.dumps([*parts, second, event.get("properties")], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).digest()


class FingerprintWindow:
    """fingerprint -> the event_id given at its first sighting, for `seconds` after it."""

    def __init__(self, seconds: float, capacity: int = DEFAULT_CAPACITY):
        self.seconds = seconds
        self.capacity = capacity
        self._seen: OrderedDict[bytes, tuple[float, str]] = OrderedDict()  # in first-sighting order

    def __len__(self) -> int:
        return len(self._seen)

    def event_id(self, event: Mapping[str, Any], now: float, new_id: Callable[[], str]) -> tuple[str, bool]:
        """(the id for this id-less event, whether it repeats one seen within the window)."""
        seen = self._seen
        while seen:  # expired entries are the oldest: drop them from the front
            oldest = next(iter(seen.values()))
            if oldest[0] > now:
                break
            seen.popitem(last=False)
        key = fingerprint(event)
        found = seen.get(key)
        if found is not None:
            return found[1], True
        event_id = new_id()
        seen[key] = (now + self.seconds, event_id)
        if len(seen) > self.capacity:
            seen.popitem(last=False)
        return event_id, False
