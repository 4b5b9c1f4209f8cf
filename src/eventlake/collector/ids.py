"""Identifiers the collector mints: UUIDv7 event ids and ULID correlation ids.

Both are time-ordered (from the receipt time the caller passes) with random low bits; they
need to be unique, not secret, so the fast `random` generator is enough.
"""

from __future__ import annotations

import random
from collections.abc import Callable

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_getrandbits = random.getrandbits


def uuid7_maker(unix_ms: int) -> Callable[[], str]:
    """A fast uuid7() for many ids of the same millisecond (one request's events)."""
    t = f"{unix_ms & 0xFFFF_FFFF_FFFF:012x}"
    head = f"{t[:8]}-{t[8:]}-7"
    getrandbits = _getrandbits

    def make() -> str:
        rand = getrandbits(74)
        return f"{head}{rand >> 62:03x}-{0x8000 | (rand >> 48) & 0x3FFF:04x}-{rand & 0xFFFF_FFFF_FFFF:012x}"

    return make


def uuid7(unix_ms: int) -> str:
    """RFC 9562 UUID version 7 as the canonical 36-character string."""
    return uuid7_maker(unix_ms)()


def ulid(unix_ms: int) -> str:
    """A 26-character ULID (48-bit time, 80 random bits), as source 000 uses for correlation."""
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80 | _getrandbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))
