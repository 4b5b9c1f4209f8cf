"""Render the event registry as Markdown: docs/taxonomy.md is this module's output.

    python -m eventlake.taxonomy.render > docs/taxonomy.md

A test compares the committed file with a fresh rendering, so the document cannot drift
from `events.yaml`.
"""

from __future__ import annotations

import sys

from eventlake.taxonomy import EventSpec, PropertySpec, Taxonomy, load_taxonomy

_HEADER = """\
# Event taxonomy

<!-- Generated from src/eventlake/taxonomy/events.yaml by
     `python -m eventlake.taxonomy.render > docs/taxonomy.md`; do not edit by hand. -->

Every event name the lake accepts, with its property schema and consent category. Events
whose name is not listed here are quarantined in silver as `UNKNOWN_EVENT_NAME`; events whose
`properties` break their entry are quarantined as `INVALID_PROPERTY`.

How to read the property column:

- **bold** names are required (present and not null); the others are checked only when
  present and not null. Extra properties not listed are always allowed and kept.
- Types are strict JSON types: the string `"12"` and `true` are not numbers, `1.5` is not an
  integer (`2.0` is).
- `≥ 0`, `0–100` are inclusive ranges; `one of` lists the only accepted values; `ULID` is 26
  Crockford base-32 characters (either case) encoding 128 bits, so the first is `0`–`7`.
- Durations (`*_ms`, `*_seconds`), counts and amounts are ≥ 0; percentages are 0–100;
  positions are 1-based.

Consent categories (004 §8.1): `essential` (authentication, entitlement, playback session
management, security: kept without analytics consent, contract §5 rule 5), `analytics`,
`personalization`, `ad_targeting`.
"""


def render_markdown(taxonomy: Taxonomy) -> str:
    """The whole of docs/taxonomy.md for `taxonomy`, grouped by domain in registry order."""
    domains: dict[str, list[EventSpec]] = {}
    for event in taxonomy:
        domains.setdefault(event.domain, []).append(event)

    lines = [_HEADER, f"{len(taxonomy)} events in {len(domains)} domains.", ""]
    lines += ["| domain | events |", "|---|---|"]
    for domain, events in domains.items():
        names = ", ".join(f"`{e.name}`" for e in events)
        lines.append(f"| [{domain}](#{domain}) | {names} |")
    for domain, events in domains.items():
        lines += ["", f"## {domain}", ""]
        lines += ["| event | consent | properties | description | source |", "|---|---|---|---|---|"]
        for event in events:
            props = "<br>".join(_describe(p) for p in event.properties) or "—"
            lines.append(
                f"| `{event.name}` | {event.consent} | {props} | "
                f"{_cell(event.description) or '—'} | {_cell(event.source)} |"
            )
    return "\n".join(lines) + "\n"


def _describe(prop: PropertySpec) -> str:
    name = f"**`{prop.name}`**" if prop.required else f"`{prop.name}`"
    parts = [prop.type]
    if prop.format == "ulid":
        parts.append("ULID")
    if prop.enum is not None:
        parts.append("one of " + "/".join(str(v) for v in prop.enum))
    if prop.minimum is not None and prop.maximum is not None:
        parts.append(f"{prop.minimum:g}–{prop.maximum:g}")
    elif prop.minimum is not None:
        parts.append(f"≥ {prop.minimum:g}")
    elif prop.maximum is not None:
        parts.append(f"≤ {prop.maximum:g}")
    if prop.max_length is not None:
        parts.append(f"≤ {prop.max_length} chars")
    text = f"{name} {', '.join(parts)}"
    if prop.description:
        text += f" ({_cell(prop.description)})"
    return text


def _cell(text: str) -> str:
    # A pipe would end the Markdown table cell early.
    return text.replace("|", "\\|").replace("\n", " ").strip()


def main() -> int:
    sys.stdout.write(render_markdown(load_taxonomy()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
