"""The traffic generator: sessions -> envelopes -> faults -> landing files, hour by hour.

Determinism: every random draw comes from `random.Random` streams seeded from the seed (and
the batch label for traffic), never from the clock or `uuid4`. The same seed and arguments
give the same bytes under the same file names, so re-running overwrites identical files.

Accounting: each line's fate under contract §5 is decided when the line is made (silver,
quarantine with a reason, consent drop, duplicate), and only lines that are written are
counted, so `lines == expected_silver + quarantine + consent drops + duplicates` holds for
every run, including one phase of a run. Duplicates are only made of lines that would
otherwise reach silver, and never earlier (in time or in writing order) than their original.

Memory: events are bucketed by the UTC hour of `event_timestamp`; an hour is written as soon
as no later session can add to it. Only the late lines wait for the end of the run.
"""

from __future__ import annotations

import calendar
import hashlib
import random
import re
import threading
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from typing import Any

import orjson

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.generate.population import COLLECTORS, User, build_population
from eventlake.generate.properties import Catalog, PropertyFactory
from eventlake.generate.sessions import FLOW_EVENTS, music_session, video_session
from eventlake.landing import LandingSink, encode_lines, landing_key, sink_for
from eventlake.privacy import consent_keeps
from eventlake.taxonomy import EventSpec, Taxonomy, load_taxonomy

QUARANTINE_REASONS = (
    "MALFORMED_JSON", "MISSING_REQUIRED_FIELD", "INVALID_TIMESTAMP", "UNKNOWN_EVENT_NAME", "INVALID_PROPERTY",
)
DUPLICATE_KINDS = (
    "duplicate_same_file",  # the same line twice in one file (a client retry inside a batch)
    "duplicate_other_file",  # the same line in another file of the same hour (two collectors)
    "duplicate_later_run",  # the same line again in a late file written after the run
    "duplicate_redelivered",  # re-sent hours later: same event_id, later event_timestamp
)
FAULT_KINDS = DUPLICATE_KINDS + QUARANTINE_REASONS
DEFAULT_FAULT_SHARE = 0.015
DEFAULT_LATE_SHARE = 0.02
DEFAULT_PLAIN_SHARE = 0.1
DEFAULT_START_DATE = date(2026, 11, 1)
DEFAULT_SEED = 42
DEFAULT_FAULT_WEIGHTS: dict[str, float] = {
    "duplicate_same_file": 0.12, "duplicate_other_file": 0.12, "duplicate_later_run": 0.08,
    "duplicate_redelivered": 0.08, "MALFORMED_JSON": 0.12, "MISSING_REQUIRED_FIELD": 0.14,
    "INVALID_TIMESTAMP": 0.08, "UNKNOWN_EVENT_NAME": 0.13, "INVALID_PROPERTY": 0.13,
}
PHASES = ("all", "main", "late")
PRODUCER = "gen"
LATE_PRODUCER = "late"
_BATCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
# Part of every file name: bump it when a change to this module changes the bytes generated
# for the same arguments, so old and new files never share a name.
GENERATOR_VERSION = 1

# A line's fate (index into _OUTCOME_NAMES).
_SILVER, _CONSENT, _DUPLICATE = 0, 1, 2
_QUARANTINE = {reason: 3 + i for i, reason in enumerate(QUARANTINE_REASONS)}
# Where a line goes within its hour.
_NORMAL, _OTHER_FILE, _LATE = 0, 1, 2
# One generated line: (receipt ms, sequence, line, outcome, placement, fault kind or None).
_Record = tuple[int, int, bytes, int, int, str | None]

_HOUR_MS = 3_600_000
# Relative traffic per UTC hour: Europe's and the Americas' evenings dominate.
_DIURNAL = (3.0, 2.0, 1.5, 1.2, 1.0, 1.0, 1.3, 2.0, 2.8, 3.2, 3.4, 3.6,
            3.8, 4.0, 4.2, 4.6, 5.2, 6.0, 7.2, 8.2, 8.6, 8.0, 6.4, 4.6)
_UNKNOWN_EVENT_NAMES = (
    "playback.start", "Playback.Started", "video.watched", "player.heartbeat_v2", "search.submit",
    "track.played", "app.crash_report", "legacy.page_view", "checkout.v2.completed", "debug.trace",
)
_BAD_TIMESTAMPS = ("yesterday", "2026-13-45T99:00:00Z", "", "11/01/2026 10:00", "not-a-timestamp",
                   "2026-11-01T25:61:00+01:00")


@dataclass(frozen=True)
class GenerationSummary:
    """What one generation wrote, and what the pipeline must make of it (contract §5)."""

    seed: int
    batch: str
    phase: str
    start_date: date
    days: int
    users: int
    destination: str
    files: tuple[str, ...]  # landing keys, in writing order
    late_files: tuple[str, ...]
    lines: int
    late_lines: int
    expected_silver: int
    expected_quarantine: dict[str, int] = field(hash=False)
    expected_consent_drops: int = 0
    expected_duplicates: int = 0
    faults: dict[str, int] = field(default_factory=dict, hash=False)  # lines per fault kind

    @property
    def expected_distinct_event_ids(self) -> int:
        """Distinct event_ids that reach silver: one per silver row."""
        return self.expected_silver

    @property
    def expected_quarantine_total(self) -> int:
        return sum(self.expected_quarantine.values())

    def describe(self) -> str:
        end = self.start_date + timedelta(days=self.days - 1)
        quarantine = ", ".join(f"{k} {v}" for k, v in self.expected_quarantine.items() if v) or "none"
        return (
            f"Wrote {self.lines} lines in {len(self.files)} files ({len(self.late_files)} late files, "
            f"{self.late_lines} late lines) to {self.destination} for {self.start_date}..{end} "
            f"(seed {self.seed}, batch {self.batch}, phase {self.phase}, {self.users} users). "
            f"Expected: {self.expected_silver} silver events (distinct event_ids), "
            f"{self.expected_quarantine_total} quarantined ({quarantine}), "
            f"{self.expected_consent_drops} consent drops, {self.expected_duplicates} duplicates."
        )


def default_users(events: int) -> int:
    # About three sessions per user over the range (a session makes ~40 lines).
    return max(20, min(events // 120, 200_000))


def generate_traffic(
    settings: Settings,
    *,
    events: int,
    days: int,
    start_date: date,
    seed: int,
    users: int | None = None,
    fault_share: float = DEFAULT_FAULT_SHARE,
    batch: str | None = None,
    sink: LandingSink | None = None,
    late_share: float = DEFAULT_LATE_SHARE,
    plain_share: float = DEFAULT_PLAIN_SHARE,
    fault_weights: dict[str, float] | None = None,
    phase: str = "all",
    taxonomy: Taxonomy | None = None,
) -> GenerationSummary:
    """Write `events` landing lines over `days` UTC days from `start_date`.

    `phase` "main" writes only the regular files and "late" only the late files (late
    events and re-sent duplicates for old hours) of the same generation: "main" then "late"
    with the same arguments writes exactly what "all" writes, in two runs.
    """
    sink = sink or sink_for(settings)
    # Compressing and storing a file overlaps generating the next one (zlib and file I/O
    # release the GIL). One worker keeps the writing order; a few files in flight bound memory.
    slots = threading.BoundedSemaphore(4)
    pending: list[Future[None]] = []

    def store(key: str, lines: list[bytes]) -> None:
        try:
            if key.endswith(".gz"):
                data = encode_lines(lines)
            else:
                data = b"".join(line + b"\n" for line in lines)
            sink.put(key, data)
        finally:
            slots.release()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventlake-generate-writer") as writer:

        def write(key: str, lines: list[bytes]) -> None:
            slots.acquire()
            pending.append(writer.submit(store, key, lines))
            while pending and pending[0].done():
                pending.pop(0).result()  # surface a failed write now, not at the end

        summary = run_traffic(
            write, destination=sink.describe(), phase=phase, events=events, days=days,
            start_date=start_date, seed=seed, users=users, fault_share=fault_share, batch=batch,
            late_share=late_share, plain_share=plain_share, fault_weights=fault_weights, taxonomy=taxonomy,
        )
        for future in pending:
            future.result()
    return summary


def run_traffic(
    write: Callable[[str, list[bytes]], None],
    *,
    destination: str,
    phase: str = "all",
    events: int,
    days: int,
    start_date: date,
    seed: int,
    users: int | None = None,
    fault_share: float = DEFAULT_FAULT_SHARE,
    batch: str | None = None,
    late_share: float = DEFAULT_LATE_SHARE,
    plain_share: float = DEFAULT_PLAIN_SHARE,
    fault_weights: dict[str, float] | None = None,
    taxonomy: Taxonomy | None = None,
) -> GenerationSummary:
    """Generate and hand each file's lines to `write(key, lines)`, in writing order."""
    engine = _Engine(
        events=events, days=days, start_date=start_date, seed=seed,
        users=default_users(events) if users is None else users, fault_share=fault_share,
        batch=batch or "b0", late_share=late_share, plain_share=plain_share,
        fault_weights=fault_weights, taxonomy=taxonomy or load_taxonomy(),
    )
    return engine.run(write, phase=phase, destination=destination)


def validate_arguments(*, events: int, days: int, users: int, fault_share: float, late_share: float,
                       plain_share: float, batch: str, phase: str,
                       fault_weights: dict[str, float] | None) -> None:
    if events < 1:
        raise UserError(f"--events must be at least 1, not {events}")
    if not 1 <= days <= 3660:
        raise UserError(f"--days must be between 1 and 3660, not {days}")
    if users < 1:
        raise UserError(f"--users must be at least 1, not {users}")
    for name, value, top in (("--fault-share", fault_share, 0.5), ("--late-share", late_share, 0.5),
                             ("--plain-share", plain_share, 1.0)):
        if not 0 <= value <= top:
            raise UserError(f"{name} must be between 0 and {top}, not {value}")
    if not _BATCH_RE.match(batch):
        raise UserError(f"--batch {batch!r}: use 1-32 letters, digits, '-' or '_'")
    if phase not in PHASES:
        raise UserError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
    if fault_weights is not None:
        unknown = set(fault_weights) - set(FAULT_KINDS)
        if unknown or any(w < 0 for w in fault_weights.values()) or not any(fault_weights.values()):
            raise UserError(f"fault weights need non-negative weights for {', '.join(FAULT_KINDS)}")


def _offset_suffix(minutes: int) -> str:
    if minutes == 0:
        return "Z"
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Clock:
    """ISO-8601 rendering of epoch milliseconds in a given offset, memoised per minute."""

    def __init__(self) -> None:
        self._prefixes: dict[tuple[int, int], str] = {}

    def format(self, millis: int, offset_minutes: int, suffix: str) -> str:
        local = millis + offset_minutes * 60_000
        minute, rest = divmod(local, 60_000)
        key = (minute, offset_minutes)
        prefix = self._prefixes.get(key)
        if prefix is None:
            if len(self._prefixes) > 100_000:
                self._prefixes.clear()
            prefix = time.strftime("%Y-%m-%dT%H:%M:", time.gmtime(minute * 60))
            self._prefixes[key] = prefix
        return f"{prefix}{rest // 1000:02d}.{rest % 1000:03d}{suffix}"


class _Engine:
    def __init__(self, *, events: int, days: int, start_date: date, seed: int, users: int,
                 fault_share: float, batch: str, late_share: float, plain_share: float,
                 fault_weights: dict[str, float] | None, taxonomy: Taxonomy):
        validate_arguments(events=events, days=days, users=users, fault_share=fault_share,
                           late_share=late_share, plain_share=plain_share, batch=batch, phase="all",
                           fault_weights=fault_weights)
        self.events, self.days, self.start_date, self.seed, self.batch = events, days, start_date, seed, batch
        self.fault_share, self.late_share, self.plain_share = fault_share, late_share, plain_share
        self.taxonomy = taxonomy
        self.population = build_population(seed, users)
        self.catalog = Catalog(seed)
        self.factory = PropertyFactory(taxonomy, self.catalog)
        # The source documents' apps; Segment's calls (source "Segment Spec") come from its SDKs.
        self.other_events = sorted(n for n in taxonomy.names
                                   if n not in FLOW_EVENTS and not taxonomy.events[n].source.startswith("Segment Spec"))
        self.other_deck: list[str] = []
        self.unknown_names = [n for n in _UNKNOWN_EVENT_NAMES if n not in taxonomy]
        weights = dict(DEFAULT_FAULT_WEIGHTS if fault_weights is None else fault_weights)
        self.fault_kinds = [k for k in FAULT_KINDS if weights.get(k, 0) > 0]
        self.fault_cum = list(accumulate(weights[k] for k in self.fault_kinds))

        tag = f"eventlake-generate:{seed}:{batch}"
        self.rng = random.Random(f"{tag}:traffic")
        self.frng = random.Random(f"{tag}:faults")
        self.idrng = random.Random(f"{tag}:ids")
        activity = [self.rng.lognormvariate(0, 1.0) for _ in self.population]  # some heavy users
        self.user_cum = list(accumulate(activity))
        self.start_ms = calendar.timegm(start_date.timetuple()) * 1000
        self.hours = days * 24
        self.end_ms = self.start_ms + self.hours * _HOUR_MS
        self.fingerprint = hashlib.sha256(
            repr((GENERATOR_VERSION, seed, batch, events, days, start_date.isoformat(), users,
                  fault_share, sorted(weights.items()), late_share, plain_share)).encode()
        ).hexdigest()[:8]
        self.clock = _Clock()
        self.buckets: dict[int, list[_Record]] = {}
        self.late: list[tuple[int, list[_Record]]] = []
        self.produced = 0
        self.seq = 0
        self.pending: Counter[str] = Counter()

    # -- the run ---------------------------------------------------------------------------

    def run(self, write: Callable[[str, list[bytes]], None], *, phase: str, destination: str) -> GenerationSummary:
        if phase not in PHASES:
            raise UserError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
        outcomes: Counter[int] = Counter()
        faults: Counter[str] = Counter()
        files: list[str] = []
        late_files: list[str] = []
        late_lines = 0

        def emit(key: str, records: list[_Record], is_late: bool) -> None:
            nonlocal late_lines
            if (phase == "main" and is_late) or (phase == "late" and not is_late):
                return
            write(key, [r[2] for r in records])
            for r in records:
                outcomes[r[3]] += 1
                if r[5]:
                    faults[r[5]] += 1
            files.append(key)
            if is_late:
                late_files.append(key)
                late_lines += len(records)

        weights = [_DIURNAL[h % 24] for h in range(self.hours)]
        targets = _allocate(self.events, weights)
        cumulative = 0
        for hour in range(self.hours):
            cumulative += targets[hour]
            idle = 0
            while self.produced < cumulative and self.produced < self.events and idle < 10_000:
                before = self.produced
                self._session(hour)
                idle = idle + 1 if self.produced == before else 0
            self._flush(hour, emit)
        for hour, records in self.late:
            emit(self._key(hour, 0, late=True), records, True)

        lines = sum(outcomes.values())
        return GenerationSummary(
            seed=self.seed, batch=self.batch, phase=phase, start_date=self.start_date, days=self.days,
            users=len(self.population), destination=destination, files=tuple(files),
            late_files=tuple(late_files), lines=lines, late_lines=late_lines,
            expected_silver=outcomes[_SILVER],
            expected_quarantine={r: outcomes[_QUARANTINE[r]] for r in QUARANTINE_REASONS},
            expected_consent_drops=outcomes[_CONSENT], expected_duplicates=outcomes[_DUPLICATE],
            faults={k: faults[k] for k in FAULT_KINDS},
        )

    def _key(self, hour: int, part: int, *, late: bool) -> str:
        moment = datetime.fromtimestamp((self.start_ms + hour * _HOUR_MS) / 1000, tz=timezone.utc)
        stem = f"{LATE_PRODUCER if late else PRODUCER}-{self.batch}-{moment:%Y%m%dT%H}-p{part:02d}-{self.fingerprint}"
        digest = hashlib.sha256(stem.encode()).digest()
        plain = int.from_bytes(digest[:4], "big") / 2**32 < self.plain_share
        return landing_key(moment, stem + (".jsonl" if plain else ".jsonl.gz"))

    def _flush(self, hour: int, emit: Callable[[str, list[_Record], bool], None]) -> None:
        records = self.buckets.pop(hour, [])
        records.sort(key=lambda r: (r[0], r[1]))
        late = [r for r in records if r[4] == _LATE]
        main = [r for r in records if r[4] != _LATE]
        # Collectors flush on a timer: each file holds a slice of the hour.
        parts_count = 1 if len(main) < 40 else min(12, max(2, -(-len(main) // 4000)))
        parts: list[list[_Record]] = [[] for _ in range(parts_count)]
        hour_start = self.start_ms + hour * _HOUR_MS
        for record in main:
            part = (record[0] - hour_start) * parts_count // _HOUR_MS
            if record[4] == _OTHER_FILE:
                if parts_count == 1:
                    late.append(record)
                    continue
                part = (part + 1) % parts_count
            parts[part].append(record)
        for number, lines in enumerate(parts):
            if lines:
                emit(self._key(hour, number, late=False), lines, False)
        if late:
            self.late.append((hour, late))

    # -- sessions and events ---------------------------------------------------------------

    def _session(self, hour: int) -> None:
        rng = self.rng
        user = self.population[bisect(self.user_cum, rng.random() * self.user_cum[-1])]
        device = rng.choice(user.devices)
        profile = rng.choice(user.profiles)
        collectors = COLLECTORS[user.region]
        collector_id, offset, suffix = collectors[rng.randrange(len(collectors))]
        suffix = suffix or _offset_suffix(offset)
        base: dict[str, Any] = {
            "session_id": f"sess_{rng.getrandbits(80):020x}",
            "user_id": user.user_id,
            "profile_id": profile.profile_id,
            "device_id": device.device_id,
            "profile_kind": profile.kind,
            "device_type": device.device_type,
            "platform": device.platform,
            "app_version": device.app_version,
            "os_version": device.os_version,
            "connection_type": device.connection_type,
            "market": user.market,
        }
        if user.consent_present:
            base["consent"] = user.consent
        base.update(schema_version=1, ip_truncated=device.ip_truncated, user_agent=device.user_agent,
                    collector_id=collector_id)
        skew = device.clock_skew_ms
        if rng.random() < 0.03:  # a clock set by hand, or drifting: minutes to days off, either way
            skew += rng.choice((-1, 1)) * rng.randint(6 * 60_000, 3 * 86_400_000)
        start = self.start_ms + hour * _HOUR_MS + rng.randrange(_HOUR_MS)
        kids = profile.kind == "kids"
        if rng.random() < device.music_share and not kids:
            flow = music_session(rng, self.catalog, start)
        else:
            flow = video_session(rng, self.catalog, start, kids, self._next_other if self.other_events else None)
        client_suffix = _offset_suffix(user.client_offset_minutes)
        for moment, name, properties in flow:
            if self.produced >= self.events:
                return
            spec = self.taxonomy.get(name)
            if spec is None:
                continue
            received = moment + 80 + int(rng.random() * 5_920)  # client batching + network
            if received >= self.end_ms:
                return  # the range ends: the rest of this session is another day's traffic
            self._event(user, skew, base, spec, moment, received, offset, suffix, client_suffix, properties)

    def _event(self, user: User, skew: int, base: dict[str, Any], spec: EventSpec, moment: int, received: int,
               offset: int, suffix: str, client_suffix: str, properties: dict[str, Any]) -> None:
        rng, frng = self.rng, self.frng
        properties = self.factory.conform(spec, properties, rng)
        device_time = moment + skew
        event = {
            "event_id": self._uuid7(device_time),
            "event_name": spec.name,
            "event_timestamp": self.clock.format(received, offset, suffix),
            "client_timestamp": self.clock.format(device_time, user.client_offset_minutes, client_suffix)
            if rng.random() >= 0.02 else None,
            **base,
            "properties": properties,
        }
        late = frng.random() < self.late_share
        kind = None
        if frng.random() < self.fault_share:
            kind = self.fault_kinds[bisect(self.fault_cum, frng.random() * self.fault_cum[-1])]
            if kind.startswith("duplicate"):
                self.pending[kind] += 1  # made from the next line that reaches silver
                kind = None
        # The envelope's market and consent decide, through the very function silver uses.
        outcome = _SILVER if consent_keeps(base, spec.consent) else _CONSENT
        if kind is not None:
            outcome = _QUARANTINE[kind]
            self._break(kind, event, spec)
        line = orjson.dumps(event)
        if kind == "MALFORMED_JSON":
            line = self._malform(line)
        self._place(received, line, outcome, _LATE if late else _NORMAL, kind)
        if outcome == _SILVER and not late and self.pending and self.produced < self.events:
            self._duplicate(event, line, received, offset, suffix)

    def _place(self, received: int, line: bytes, outcome: int, placement: int, kind: str | None) -> None:
        hour = (received - self.start_ms) // _HOUR_MS
        self.seq += 1
        self.buckets.setdefault(hour, []).append((received, self.seq, line, outcome, placement, kind))
        self.produced += 1

    def _duplicate(self, event: dict[str, Any], line: bytes, received: int, offset: int, suffix: str) -> None:
        kind = min(self.pending, key=lambda k: (-self.pending[k], k))
        self.pending[kind] -= 1
        if not self.pending[kind]:
            del self.pending[kind]
        if kind == "duplicate_redelivered":
            # A client that never saw the 202 re-sends from its offline buffer; the collector
            # stamps the new receipt time. Silver keeps the earliest.
            again = received + self.frng.randrange(600_000, 30 * _HOUR_MS)
            if again < self.end_ms:
                copy = dict(event, event_timestamp=self.clock.format(again, offset, suffix))
                self._place(again, orjson.dumps(copy), _DUPLICATE, _NORMAL, kind)
                return
            kind = "duplicate_later_run"
        placement = {"duplicate_same_file": _NORMAL, "duplicate_other_file": _OTHER_FILE,
                     "duplicate_later_run": _LATE}[kind]
        self._place(received, line, _DUPLICATE, placement, kind)

    def _next_other(self) -> str:
        """The next "other" registry entry: a shuffled deck, so every entry shows up early."""
        if not self.other_deck:
            self.other_deck = list(self.other_events)
            self.rng.shuffle(self.other_deck)
        return self.other_deck.pop()

    def _uuid7(self, millis: int) -> str:
        bits = self.idrng.getrandbits(74)
        value = (max(millis, 0) << 80) | (0x7 << 76) | ((bits >> 62) << 64) | (0b10 << 62) | (bits & ((1 << 62) - 1))
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # -- faults ----------------------------------------------------------------------------

    def _break(self, kind: str, event: dict[str, Any], spec: EventSpec) -> None:
        """Damage `event` in place so that contract §5 quarantines it for `kind`."""
        frng = self.frng
        if kind == "MISSING_REQUIRED_FIELD":
            name = frng.choice(("event_id", "event_name", "session_id"))
            how = frng.random()
            if how < 0.5:
                del event[name]
            else:
                event[name] = "" if how < 0.8 else None
        elif kind == "INVALID_TIMESTAMP":
            if frng.random() < 0.3:
                del event["event_timestamp"]
            else:
                event["event_timestamp"] = frng.choice(_BAD_TIMESTAMPS)
        elif kind == "UNKNOWN_EVENT_NAME":
            event["event_name"] = frng.choice(self.unknown_names) if self.unknown_names else "zz.unregistered"
        elif kind == "INVALID_PROPERTY":
            event["properties"] = _break_properties(spec, dict(event["properties"]), frng)

    def _malform(self, line: bytes) -> bytes:
        roll = self.frng.random()
        if roll < 0.6:  # a write cut short
            return line[: self.frng.randrange(1, len(line) - 1)]
        if roll < 0.85:  # valid JSON, but not an object
            return self.frng.choice((b"[1,2]", b'"playback.started"', b"42", b"null", b"true", b"[]"))
        return self.frng.choice((b"<html><body>502 Bad Gateway</body></html>", b"event_id=1&event_name=x",
                                 b"{'event_id': 'single-quoted'}", b"\\x00\\x00 garbage"))


def _break_properties(spec: EventSpec, properties: dict[str, Any], rng: random.Random) -> Any:
    """Properties that break the entry's schema in one of the ways real clients do."""
    candidates = [p for p in spec.properties if p.type in ("number", "integer", "string", "boolean")]
    roll = rng.random()
    if candidates and roll < 0.85:
        prop = rng.choice(candidates)
        if prop.type == "number":
            wrong: Any = rng.choice(("12", True, "1.5e3", [12]))
        elif prop.type == "integer":
            wrong = rng.choice((1.5, "3", False, 2.25))
        elif prop.type == "string":
            wrong = rng.choice((12, True, {"id": 1}, ["x"]))
        else:
            wrong = rng.choice(("true", 1, "yes"))
        properties[prop.name] = wrong
    elif spec.required and roll < 0.95:
        del_name = rng.choice(spec.required).name
        properties.pop(del_name, None)
    else:
        return rng.choice(("n/a", ["content_id", "vod_1"], 7))
    if spec.check_properties(properties) is None:  # cannot happen with a sane registry entry
        return "n/a"
    return properties


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` over `weights` in integers that add up exactly (largest remainder)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--start-date {text!r} is not a date (YYYY-MM-DD)") from None
