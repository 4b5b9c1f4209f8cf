"""Read generated landing files back, and judge every line by contract §5, independently.

The judge below is written from the contract's text, not from the generator's code, so the
generator's expected counts are checked against a second reading of the rules.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from eventlake.taxonomy import Taxonomy

OFF_BY_DEFAULT = set(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB".split()
)


@dataclass
class Line:
    key: str  # landing key, relative to the lake root
    number: int
    raw: bytes


def read_landing(root: Path) -> list[Line]:
    lines = []
    for path in sorted((root / "landing" / "events").rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        assert data.endswith(b"\n"), path
        key = path.relative_to(root).as_posix()
        for number, raw in enumerate(data[:-1].split(b"\n"), start=1):
            lines.append(Line(key, number, raw))
    return lines


def parse_object(raw: bytes):
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None


def analytics_consent(event: dict) -> bool:
    """Contract §5 rule 5 as written: the `analytics` key when present (true only if it is
    the JSON boolean true), else the market default."""
    consent = event.get("consent")
    if isinstance(consent, dict) and "analytics" in consent:
        return consent["analytics"] is True
    return event.get("market") not in OFF_BY_DEFAULT


def consent_keeps(event: dict, category: str) -> bool:
    """Kept with analytics consent, and always when the taxonomy calls the event essential."""
    return category == "essential" or analytics_consent(event)


def judge(lines: list[Line], taxonomy: Taxonomy) -> Counter:
    """Contract §5, rules 1-6 in order, over lines in writing order (keys sort by run)."""
    outcome: Counter = Counter()
    first_seen: dict[str, datetime] = {}
    for line in lines:
        event = parse_object(line.raw)
        if event is None:
            outcome["MALFORMED_JSON"] += 1
            continue
        if any(not event.get(k) for k in ("event_id", "event_name", "session_id")):
            outcome["MISSING_REQUIRED_FIELD"] += 1
            continue
        moment = parse_timestamp(event.get("event_timestamp"))
        if moment is None:
            outcome["INVALID_TIMESTAMP"] += 1
            continue
        spec = taxonomy.get(event["event_name"])
        if spec is None:
            outcome["UNKNOWN_EVENT_NAME"] += 1
            continue
        if spec.check_properties(event.get("properties")) is not None:
            outcome["INVALID_PROPERTY"] += 1
            continue
        if not consent_keeps(event, spec.consent):
            outcome["consent"] += 1
            continue
        if event["event_id"] in first_seen:
            outcome["duplicate"] += 1
            first_seen[event["event_id"]] = min(first_seen[event["event_id"]], moment)
            continue
        first_seen[event["event_id"]] = moment
        outcome["silver"] += 1
    return outcome
