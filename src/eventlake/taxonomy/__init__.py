"""The event taxonomy: one machine-readable registry (`events.yaml`) and its loader.

The collector, the silver job, the generator and the tests all read the registry through
`load_taxonomy()`; nobody else opens the YAML.

Types are strict JSON types: a string "12" is not a number, `true` is not a number, and
1.5 is not an integer (2.0 is, as in JSON Schema).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array")
CONSENT_CATEGORIES = ("essential", "analytics", "personalization", "ad_targeting")
_ULID_ALPHABET = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


class TaxonomyError(ValueError):
    """The registry file itself is wrong (raised at load time, never for event data)."""


@dataclass(frozen=True)
class PropertySpec:
    name: str
    type: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[Any, ...] | None = None
    max_length: int | None = None
    format: str | None = None  # "ulid"
    description: str = ""

    def violation(self, value: Any) -> str | None:
        """Why `value` breaks this property's schema, or None when it is fine."""
        if not _has_json_type(value, self.type):
            return f"{self.name}: expected {self.type}, got {_json_type_name(value)}"
        if self.enum is not None and value not in self.enum:
            allowed = ", ".join(str(v) for v in self.enum)
            return f"{self.name}: {shown_value(value)} is not one of {allowed}"
        if self.type in ("number", "integer"):
            if self.minimum is not None and value < self.minimum:
                return f"{self.name}: {value} is below the minimum {self.minimum:g}"
            if self.maximum is not None and value > self.maximum:
                return f"{self.name}: {value} is above the maximum {self.maximum:g}"
        if self.type == "string":
            if self.max_length is not None and len(value) > self.max_length:
                return f"{self.name}: longer than {self.max_length} characters"
            if self.format == "ulid" and not is_ulid(value):
                return f"{self.name}: {shown_value(value)} is not a ULID"
        return None


@dataclass(frozen=True)
class EventSpec:
    name: str
    consent: str
    properties: tuple[PropertySpec, ...] = ()
    description: str = ""
    source: str = ""
    _by_name: Mapping[str, PropertySpec] = field(default_factory=dict, repr=False, compare=False)

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def required(self) -> tuple[PropertySpec, ...]:
        return tuple(p for p in self.properties if p.required)

    def property(self, name: str) -> PropertySpec | None:
        return self._by_name.get(name)

    def check_properties(self, properties: Any) -> str | None:
        """The first way `properties` breaks this entry's schema, or None.

        Required properties must be present and non-null; optional ones are type-checked
        when present and non-null; unknown extra keys are allowed and kept.
        """
        if not isinstance(properties, dict):
            return f"properties: expected object, got {_json_type_name(properties)}"
        for spec in self.properties:
            value = properties.get(spec.name)
            if value is None:
                if spec.required:
                    return f"{spec.name}: required"
                continue
            problem = spec.violation(value)
            if problem:
                return problem
        return None


@dataclass(frozen=True)
class Taxonomy:
    events: Mapping[str, EventSpec]
    version: int = 1

    def __contains__(self, name: object) -> bool:
        return name in self.events

    def __iter__(self) -> Iterator[EventSpec]:
        return iter(self.events.values())

    def __len__(self) -> int:
        return len(self.events)

    def get(self, name: str) -> EventSpec | None:
        return self.events.get(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.events)

    def in_domain(self, domain: str) -> list[EventSpec]:
        return [e for e in self.events.values() if e.domain == domain]


def is_ulid(value: str) -> bool:
    """26 Crockford base32 characters, the first 0–7 (128 bits); either case (contract §4).

    ASCII first: `str.upper` maps some non-ASCII letters into the alphabet (`ſ` → `S`).
    """
    return (
        len(value) == 26
        and value.isascii()
        and value[0] in "01234567"
        and set(value.upper()) <= _ULID_ALPHABET
    )


def shown_value(value: Any, limit: int = 40) -> str:
    """A client's value in a quarantine detail: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _has_json_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if json_type == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "array":
        return isinstance(value, list)
    raise TaxonomyError(f"unknown JSON type {json_type!r}")


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _parse_property(event: str, name: str, raw: Mapping[str, Any]) -> PropertySpec:
    json_type = raw.get("type")
    if json_type not in JSON_TYPES:
        raise TaxonomyError(f"{event}.{name}: type must be one of {JSON_TYPES}, not {json_type!r}")
    known = {"type", "required", "minimum", "maximum", "enum", "max_length", "format", "description"}
    unknown = set(raw) - known
    if unknown:
        raise TaxonomyError(f"{event}.{name}: unknown keys {sorted(unknown)}")
    enum = raw.get("enum")
    return PropertySpec(
        name=name,
        type=json_type,
        required=bool(raw.get("required", False)),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        enum=tuple(enum) if enum is not None else None,
        max_length=raw.get("max_length"),
        format=raw.get("format"),
        description=raw.get("description", ""),
    )


def parse_registry(document: Mapping[str, Any]) -> Taxonomy:
    events: dict[str, EventSpec] = {}
    for name, raw in (document.get("events") or {}).items():
        if name != name.lower() or "." not in name:
            raise TaxonomyError(f"{name!r}: event names are lower-case domain.action")
        consent = raw.get("consent", "analytics")
        if consent not in CONSENT_CATEGORIES:
            raise TaxonomyError(f"{name}: consent must be one of {CONSENT_CATEGORIES}")
        props = tuple(
            _parse_property(name, prop, spec or {})
            for prop, spec in (raw.get("properties") or {}).items()
        )
        events[name] = EventSpec(
            name=name,
            consent=consent,
            properties=props,
            description=raw.get("description", ""),
            source=raw.get("source", ""),
            _by_name={p.name: p for p in props},
        )
    if not events:
        raise TaxonomyError("the registry defines no events")
    return Taxonomy(events=events, version=int(document.get("version", 1)))


@functools.cache
def load_taxonomy() -> Taxonomy:
    """The registry shipped with the package (cached: it is read once per process)."""
    text = resources.files("eventlake.taxonomy").joinpath("events.yaml").read_text("utf-8")
    return parse_registry(yaml.safe_load(text))
