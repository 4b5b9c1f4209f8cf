"""Property values: realistic pools, and a generator for any registry entry from its specs.

The explicit flows (sessions.py) build the properties they care about; every event then
passes through `PropertyFactory.conform`, which keeps what fits the entry's schema and fills
in what the entry requires from the property specs (type, enum, minimum/maximum, format).
So a registry entry added tomorrow appears in the traffic with valid properties, without
code here knowing about it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from eventlake.generate.population import random_id, ulid
from eventlake.taxonomy import EventSpec, PropertySpec, Taxonomy

CONTENT_TYPES = ("live", "vod", "catchup", "startover", "pvr")

SEARCH_QUERIES = (
    "the crown", "champions league", "football highlights", "peppa pig", "bluey", "dune",
    "oppenheimer", "news", "formula 1", "cooking shows", "true crime documentaries",
    "something funny for tonight", "films like interstellar", "nature documentary", "jazz",
    "lo-fi beats", "succession", "the bear", "tennis live", "weather", "kids cartoons",
    "horror movies 2024", "marvel", "taylor swift", "the office", "bake off", "cricket",
    "late night comedy", "anime", "spanish series", "zzzqqq", "the wire", "euro 2028",
)
# Strings a user or a client bug put personal data into; silver must redact them.
PII_STRINGS = (
    "contact me at jane.doe@example.com", "call +44 20 7946 0958", "max.mustermann@example.de",
    "my number is (555) 010-4477", "support request from j.smith@example.org",
    "+1 202 555 0143", "whatsapp +49 30 901820",
)
SCREENS = ("home", "search", "epg", "detail", "player", "settings", "profile_picker", "library",
           "kids_home", "music_home", "downloads")
ERROR_CODES = ("DRM_LICENSE_EXPIRED", "NETWORK_TIMEOUT", "MANIFEST_404", "DECODER_INIT_FAILED",
               "CDN_5XX", "GEO_BLOCKED", "CONCURRENCY_LIMIT")
CDNS = ("akamai", "cloudfront", "fastly", "edge-own")
RESOLUTIONS = ("480p", "720p", "1080p", "2160p")
CURRENCIES = ("EUR", "GBP", "USD", "BRL", "INR", "JPY")


class Catalog:
    """Content, channels, programmes, tracks: pools drawn once per seed."""

    def __init__(self, seed: int):
        rng = random.Random(f"eventlake-generate:{seed}:catalog")
        self.vod = [(f"vod_{rng.randrange(10_000, 99_999)}", rng.choice((22, 45, 55, 95, 120, 150)) * 60_000)
                    for _ in range(3000)]
        self.channels = [f"ch_{n:03d}" for n in range(1, 121)]
        self.programs = [f"prg_{random_id(rng, 8)}" for _ in range(1500)]
        self.recordings = [f"rec_{random_id(rng, 10)}" for _ in range(800)]
        # Tracks: ULIDs minted when they were uploaded (2023-2025), with their lengths.
        self.tracks = [
            (ulid(rng, rng.randrange(1_672_531_200_000, 1_767_225_600_000)), rng.randrange(95, 420))
            for _ in range(2500)
        ]

    def content(self, rng: random.Random, content_type: str) -> tuple[str, int]:
        """(content_id, duration in ms) of one item of that type."""
        if content_type == "vod":
            return rng.choice(self.vod)
        channel = rng.choice(self.channels)
        if content_type == "live":
            return f"live_{channel}", rng.choice((30, 60, 90, 120)) * 60_000
        program = rng.choice(self.programs)
        prefix = {"catchup": "cu", "startover": "so", "pvr": "pvr"}[content_type]
        return f"{prefix}_{program[4:]}", rng.choice((30, 45, 60, 90)) * 60_000


def _hint(name: str, catalog: Catalog) -> Callable[[random.Random], Any] | None:
    """A realistic value for a property known by name (any event), or None."""
    exact: dict[str, Callable[[random.Random], Any]] = {
        "content_id": lambda r: r.choice(catalog.vod)[0],
        "channel_id": lambda r: r.choice(catalog.channels),
        "previous_channel_id": lambda r: r.choice(catalog.channels),
        "program_id": lambda r: r.choice(catalog.programs),
        "recording_id": lambda r: r.choice(catalog.recordings),
        "track_id": lambda r: r.choice(catalog.tracks)[0],
        "query_text": lambda r: r.choice(SEARCH_QUERIES),
        "screen_name": lambda r: r.choice(SCREENS),
        "referrer_screen": lambda r: r.choice(SCREENS),
        "active_screen": lambda r: r.choice(SCREENS),
        "error_code": lambda r: r.choice(ERROR_CODES),
        "cdn": lambda r: r.choice(CDNS),
        "resolution": lambda r: r.choice(RESOLUTIONS),
        "initial_resolution": lambda r: r.choice(RESOLUTIONS),
        "currency": lambda r: r.choice(CURRENCIES),
        "price": lambda r: r.choice((0.99, 2.99, 3.99, 4.99, 5.99, 9.99, 13.99)),
        "filter_value": lambda r: r.choice(("sports", "news", "kids", "hd", "favorites")),
        "rail_id": lambda r: f"rail_{r.randrange(1, 40):02d}",
        "creative_id": lambda r: f"cr_{r.randrange(1000, 9999)}",
        "notification_id": lambda r: f"ntf_{r.getrandbits(40):010x}",
        "campaign_id": lambda r: f"cmp_{r.randrange(1, 60):03d}",
        "debate_id": lambda r: f"dbt_{r.randrange(1, 500):04d}",
        "policy_id": lambda r: f"pol_{r.randrange(1, 200):03d}",
        "company_id": lambda r: f"co_{r.randrange(1, 300):04d}",
    }
    if name in exact:
        return exact[name]
    if name.endswith("_ms"):
        return lambda r: r.randrange(50, 120_000)
    if name.endswith("_percent"):
        return lambda r: round(r.uniform(0, 100), 1)
    if name.endswith(("_seconds", "_hours")):
        return lambda r: round(r.uniform(0, 600), 1)
    if name.endswith(("_count", "_scrolled", "_position")) or name.startswith(("items_", "days_")):
        return lambda r: r.randrange(1, 25)
    if name.endswith("_kbps"):
        return lambda r: r.choice((800, 1800, 3200, 4500, 7800, 12_000))
    if name.endswith("_id"):
        prefix = name[:-3][:6]
        return lambda r: f"{prefix}_{r.randrange(1, 100_000)}"
    if name.startswith(("is_", "was_", "ai_", "has_")):
        return lambda r: r.random() < 0.3
    return None


def _coerce(value: Any, spec: PropertySpec, rng: random.Random) -> Any:
    """`value` made to fit `spec` (type, range, length); None when it cannot."""
    kind = spec.type
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            value = rng.randrange(0, 1000)
        low = spec.minimum if spec.minimum is not None else None
        high = spec.maximum if spec.maximum is not None else None
        if low is not None and value < low:
            value = low + (value % 10 if isinstance(value, int) else 0)
        if high is not None and value > high:
            value = high if low is None else low + (high - low) * rng.random()
        if kind == "integer":
            value = int(value)
            if low is not None and value < low:
                value = int(-(-low // 1))
            if high is not None and value > high:
                return None
        return value
    if kind == "string":
        if not isinstance(value, str):
            value = f"{spec.name}_{value}" if value is not None else f"{spec.name}_{rng.randrange(100)}"
        if spec.format == "ulid":
            return None
        if spec.max_length is not None:
            value = value[: spec.max_length]
        return value
    if kind == "boolean":
        return value if isinstance(value, bool) else rng.random() < 0.5
    if kind == "array":
        return value if isinstance(value, list) else [f"{spec.name}_{rng.randrange(10)}" for _ in range(rng.randrange(0, 4))]
    if kind == "object":
        return value if isinstance(value, dict) else {}
    return None


def _value_maker(spec: PropertySpec, catalog: Catalog) -> Callable[[random.Random], Any]:
    if spec.enum:
        choices = spec.enum
        return lambda r: r.choice(choices)
    if spec.format == "ulid":
        return lambda r: r.choice(catalog.tracks)[0]
    hint = _hint(spec.name, catalog)
    if spec.type == "integer" and spec.minimum is not None and spec.maximum is not None:
        low, high = int(-(-spec.minimum // 1)), int(spec.maximum // 1)
        if hint is None:
            return lambda r: r.randint(low, high)

    def make(r: random.Random) -> Any:
        value = _coerce(hint(r) if hint else None, spec, r)
        return value if value is not None else _fallback(spec, r)

    return make


def _fallback(spec: PropertySpec, rng: random.Random) -> Any:
    low = spec.minimum if spec.minimum is not None else 0
    high = spec.maximum if spec.maximum is not None else low + 1000
    if spec.type == "integer":
        return rng.randint(int(-(-low // 1)), int(high // 1))
    if spec.type == "number":
        return round(rng.uniform(low, high), 2) if high - low > 0.01 else low
    return _coerce(None, spec, rng)


def _fits(spec: PropertySpec) -> Callable[[Any], bool]:
    """A fast `spec.violation(value) is None` for the common cases (this runs per event)."""
    low, high = spec.minimum, spec.maximum
    if spec.type == "string" and spec.format is None and spec.max_length is None:
        if spec.enum is not None:
            allowed = frozenset(v for v in spec.enum if isinstance(v, str))
            return lambda v: type(v) is str and v in allowed
        return lambda v: type(v) is str
    lo = -math.inf if low is None else low
    hi = math.inf if high is None else high
    if spec.type == "number" and spec.enum is None:
        return lambda v: (type(v) is int or (type(v) is float and math.isfinite(v))) and lo <= v <= hi
    if spec.type == "integer" and spec.enum is None:
        return lambda v: type(v) is int and lo <= v <= hi
    return lambda v: spec.violation(v) is None


# Per property of an entry: name, required, does a value fit, a maker of a fitting value.
_Plan = tuple[tuple[str, bool, Callable[[Any], bool], Callable[[random.Random], Any]], ...]


class PropertyFactory:
    """Per registry entry: which properties to fill and how (compiled once per entry)."""

    def __init__(self, taxonomy: Taxonomy, catalog: Catalog):
        self.taxonomy = taxonomy
        self.catalog = catalog
        self._plans: dict[str, _Plan] = {}

    def _plan(self, spec: EventSpec) -> _Plan:
        plan = self._plans.get(spec.name)
        if plan is None:
            plan = tuple((p.name, p.required, _fits(p), _value_maker(p, self.catalog)) for p in spec.properties)
            self._plans[spec.name] = plan
        return plan

    def conform(self, spec: EventSpec, properties: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """Keep what fits the entry, replace what does not, fill what it requires.

        Optional properties the flow did not set are filled at random (70%), so every
        property of the registry shows up in the data.
        """
        for name, required, fits, make in self._plan(spec):
            value = properties.get(name)
            if value is None:
                if required or rng.random() < 0.7:
                    properties[name] = make(rng)
            elif not fits(value):
                properties[name] = make(rng)
        return properties

    def generic(self, spec: EventSpec, rng: random.Random) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        if rng.random() < 0.02:  # free text a user typed personal data into
            properties["note"] = rng.choice(PII_STRINGS)
        return self.conform(spec, properties, rng)
