from __future__ import annotations

import gzip
import re
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.generate import DUPLICATE_KINDS, QUARANTINE_REASONS, generate_traffic
from eventlake.landing import LocalSink
from eventlake.taxonomy import is_ulid, load_taxonomy, parse_registry

from generated_lines import analytics_consent, judge, parse_object, parse_timestamp, read_landing

pytestmark = pytest.mark.unit

START = date(2026, 11, 1)
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PATH = re.compile(r"^landing/events/event_date=(\d{4}-\d{2}-\d{2})/event_hour=(\d{2})/[A-Za-z0-9_.-]+\.jsonl(\.gz)?$")


def generate(root: Path, **overrides):
    args = dict(events=15000, days=2, start_date=START, seed=7, users=250)
    args.update(overrides)
    return generate_traffic(Settings.from_env({"EVENTLAKE_LAKE_URI": str(root)}), **args)


@pytest.fixture(scope="module")
def run(tmp_module):
    root = tmp_module / "lake"
    summary = generate(root)
    return root, summary, read_landing(root)


def events_of(lines):
    return [e for e in (parse_object(line.raw) for line in lines) if e is not None]


def file_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_and_names_other_seed_differs(run, tmp_path):
    root, summary, _ = run
    again = generate(tmp_path / "again")
    assert replace(again, destination=summary.destination) == summary
    assert file_bytes(tmp_path / "again") == file_bytes(root)
    other = generate(tmp_path / "other", seed=8)
    assert not set(file_bytes(tmp_path / "other")) & set(file_bytes(root))
    ids = {e.get("event_id") for e in events_of(read_landing(root))}
    other_ids = {e.get("event_id") for e in events_of(read_landing(tmp_path / "other"))}
    assert not (ids & other_ids) - {None, ""}
    assert other.lines == summary.lines == 15000


def test_rerun_overwrites_identical_files_and_a_new_batch_adds_new_ones(run, tmp_path):
    root = tmp_path / "lake"
    first = generate(root, events=600, days=1)
    before = file_bytes(root)
    generate(root, events=600, days=1)
    assert file_bytes(root) == before
    later = generate(root, events=600, days=1, batch="run2")
    after = file_bytes(root)
    assert set(before) < set(after) and len(after) == len(before) + len(later.files)
    assert all(after[k] == v for k, v in before.items())
    new_ids = {e.get("event_id") for k in later.files for e in events_of(_read_key(root, k))}
    old_ids = {e.get("event_id") for k in first.files for e in events_of(_read_key(root, k))}
    assert not (new_ids & old_ids) - {None, ""}


def _read_key(root: Path, key: str):
    return [line for line in read_landing(root) if line.key == key]


def test_every_line_is_one_json_object_or_a_counted_malformed_line(run):
    _, summary, lines = run
    assert len(lines) == summary.lines == 15000
    unreadable = [line for line in lines if parse_object(line.raw) is None]
    assert len(unreadable) == summary.expected_quarantine["MALFORMED_JSON"] > 0
    assert all(b"\n" not in line.raw for line in lines)


def test_expected_outcomes_match_an_independent_reading_of_the_contract(run):
    _, summary, lines = run
    outcome = judge(lines, load_taxonomy())
    assert {r: outcome[r] for r in QUARANTINE_REASONS} == summary.expected_quarantine
    assert outcome["consent"] == summary.expected_consent_drops
    assert outcome["duplicate"] == summary.expected_duplicates
    assert outcome["silver"] == summary.expected_silver == summary.expected_distinct_event_ids
    assert summary.lines == (summary.expected_silver + summary.expected_quarantine_total
                             + summary.expected_consent_drops + summary.expected_duplicates)
    assert sum(summary.faults[k] for k in DUPLICATE_KINDS) == summary.expected_duplicates
    assert {r: summary.faults[r] for r in QUARANTINE_REASONS} == summary.expected_quarantine


def test_essential_events_without_analytics_consent_are_expected_in_silver(run):
    """The case rule 5 keeps (auth.*, session.*, ...) occurs, so the count above covers it."""
    _, _, lines = run
    taxonomy = load_taxonomy()
    kept = [e for e in events_of(lines)
            if not analytics_consent(e) and getattr(taxonomy.get(e.get("event_name")), "consent", None) == "essential"]
    assert kept


def test_landing_paths_are_the_utc_date_and_hour_of_event_timestamp(run):
    _, summary, lines = run
    checked = 0
    for line in lines:
        match = PATH.match(line.key)
        assert match, line.key
        event = parse_object(line.raw)
        moment = parse_timestamp(event.get("event_timestamp")) if event else None
        if moment is None:
            continue
        assert (match[1], match[2]) == (f"{moment:%Y-%m-%d}", f"{moment:%H}"), (line.key, event["event_timestamp"])
        assert START <= moment.date() < START + timedelta(days=2)
        checked += 1
    assert checked > 14000
    assert set(summary.files) == {line.key for line in lines}
    assert any(k.endswith(".jsonl") for k in summary.files) and any(k.endswith(".jsonl.gz") for k in summary.files)


def test_fault_shares_are_near_the_requested_share(run):
    _, summary, _ = run
    total = sum(summary.faults.values())
    assert 0.010 * 15000 <= total <= 0.020 * 15000, summary.faults
    assert all(summary.faults[k] > 0 for k in summary.faults), summary.faults
    assert summary.late_files and 0.01 * 15000 <= summary.late_lines <= 0.04 * 15000


def test_duplicates_come_in_every_kind(run):
    _, _, lines = run
    places: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        event = parse_object(line.raw)
        if event and event.get("event_id") and event.get("session_id") and event.get("event_name"):
            places.setdefault(event["event_id"], []).append((line.key, event.get("event_timestamp")))
    repeated = [p for p in places.values() if len(p) > 1]
    assert any(len({k for k, _ in p}) == 1 for p in repeated)  # same file
    assert any(len({k for k, _ in p}) > 1 and len({t for _, t in p}) == 1 for p in repeated)  # other file
    assert any(any("/late-" in k for k, _ in p) for p in repeated)  # a later run's file
    later = [p for p in repeated if len({parse_timestamp(t) for _, t in p}) > 1]
    assert later  # re-delivered with a later receipt time: the earliest must win in silver
    assert all("/gen-" in p[0][0] for p in later)


def test_envelope_realism(run):
    _, _, lines = run
    events = [e for e in events_of(lines) if isinstance(e.get("event_timestamp"), str)
              and parse_timestamp(e["event_timestamp"]) and e.get("session_id")]
    offsets = Counter(re.search(r"(Z|[+-]\d\d:\d\d)$", e["event_timestamp"])[1] for e in events)
    assert offsets["Z"] and len(offsets) >= 4, offsets
    # near midnight: the local date in the offset differs from the UTC date
    assert any(e["event_timestamp"][:10] != f"{parse_timestamp(e['event_timestamp']):%Y-%m-%d}" for e in events)
    assert any(e.get("profile_kind") == "kids" for e in events)
    assert any(e.get("profile_kind") is None for e in events)
    markets = Counter(e.get("market") for e in events)
    assert markets["DE"] and markets["GB"] and markets["US"] and markets[None], markets
    assert any(e.get("user_id") is None for e in events) and any(e.get("platform") is None for e in events)
    consent = Counter(
        "absent" if "consent" not in e else "null" if e["consent"] is None
        else "full" if len(e["consent"]) == 3 else "partial" for e in events
    )
    assert all(consent[k] for k in ("absent", "null", "full", "partial")), consent
    assert any(e["consent"] and e["consent"].get("analytics") is False for e in events if e.get("consent"))
    ids = [e["event_id"] for e in events if e.get("event_id")]
    assert all(UUID7.match(i) for i in ids)
    assert all(e["schema_version"] == 1 and e["collector_id"] and e["ip_truncated"] for e in events)
    assert all(e["ip_truncated"].endswith((".0", "::")) for e in events)
    assert any(":" in e["ip_truncated"] for e in events)
    platforms = {e.get("platform") for e in events}
    assert {"android_tv", "ios", "android", "web", "tvos", "roku"} <= platforms
    # client clocks: usually seconds apart, about 3% of lines more than 5 minutes off, some null
    skews = []
    for e in events:
        client = parse_timestamp(e.get("client_timestamp"))
        if client is not None:
            skews.append(abs((client - parse_timestamp(e["event_timestamp"])).total_seconds()))
    assert sum(e.get("client_timestamp") is None for e in events) > 0
    skewed = sum(s > 300 for s in skews) / len(skews)
    assert 0.002 < skewed < 0.12, skewed
    assert sorted(skews)[len(skews) // 2] < 10
    # personal data in free text, for silver to redact
    text = b"\n".join(line.raw for line in lines)
    assert re.search(rb"[\w.]+@example\.(com|org|de)", text) and re.search(rb"\+44 20 7946|\(555\)|\+1 202", text)


def test_flows_are_realistic(run):
    _, _, lines = run
    events = sorted(
        (e for e in events_of(lines) if e.get("session_id") and parse_timestamp(e.get("event_timestamp"))),
        key=lambda e: parse_timestamp(e["event_timestamp"]),
    )
    taxonomy = load_taxonomy()
    valid = [e for e in events if e.get("event_name") in taxonomy
             and taxonomy.get(e["event_name"]).check_properties(e.get("properties")) is None]
    names = Counter(e["event_name"] for e in valid)
    for spec in taxonomy:  # every app event of the source documents; Segment's calls come from its SDKs
        assert (names[spec.name] > 0) != spec.source.startswith("Segment Spec"), spec.name
    results = [e["properties"]["result_count"] for e in valid if e["event_name"] == "search.results"]
    assert 0 in results and max(results) > 0
    types = {e["properties"]["content_type"] for e in valid if e["event_name"] == "playback.stopped"}
    assert types == {"live", "vod", "catchup", "startover", "pvr"}
    completion = [e["properties"]["completion_percent"] for e in valid if e["event_name"] == "playback.stopped"]
    assert min(completion) >= 0 and max(completion) <= 100 and any(c > 90 for c in completion)
    assert all(is_ulid(e["properties"]["track_id"]) for e in valid if e["event_name"].startswith("track."))
    assert names["playback.heartbeat"] > names["playback.started"] > names["playback.rebuffer"] > 0
    assert names["track.play_complete"] and names["track.play_stop"] and names["track.seek"]
    # searches followed by a play of the same user within 300 s, and some not
    plays: dict[str, list] = {}
    for e in valid:
        if e["event_name"] == "playback.started" and e.get("user_id"):
            plays.setdefault(e["user_id"], []).append(parse_timestamp(e["event_timestamp"]))
    outcomes = Counter()
    for e in valid:
        if e["event_name"] == "search.query" and e.get("user_id"):
            at = parse_timestamp(e["event_timestamp"])
            outcomes[any(0 < (p - at).total_seconds() <= 300 for p in plays.get(e["user_id"], []))] += 1
    assert outcomes[True] > outcomes[False] > 0, outcomes


def test_clean_run_has_no_faults(tmp_path):
    summary = generate(tmp_path, events=3000, days=1, fault_share=0.0)
    lines = read_landing(tmp_path)
    outcome = judge(lines, load_taxonomy())
    assert not any(summary.faults.values())
    assert summary.expected_quarantine_total == 0 and summary.expected_duplicates == 0
    assert outcome["silver"] == summary.expected_silver and outcome["consent"] == summary.expected_consent_drops
    assert outcome["silver"] + outcome["consent"] == len(lines) == 3000


def test_main_then_late_phase_writes_what_all_writes(run, tmp_path):
    root, summary, _ = run
    main = generate(tmp_path, phase="main")
    assert not main.late_files and all("/gen-" in k for k in main.files)
    late = generate(tmp_path, phase="late")
    assert late.files == late.late_files == summary.late_files
    assert file_bytes(tmp_path) == file_bytes(root)
    assert main.lines + late.lines == summary.lines
    for field in ("expected_silver", "expected_consent_drops", "expected_duplicates"):
        assert getattr(main, field) + getattr(late, field) == getattr(summary, field)
    # each phase adds up on its own, as a pipeline run between them would count it
    for part in (main, late):
        assert part.lines == (part.expected_silver + part.expected_quarantine_total
                              + part.expected_consent_drops + part.expected_duplicates)


def test_any_registry_entry_gets_valid_properties_from_its_specs(tmp_path):
    document = yaml.safe_load(
        (Path(__file__).parents[2] / "src/eventlake/taxonomy/events.yaml").read_text()
    )
    document["events"].update({
        "epg.program.select": {"consent": "analytics", "properties": {
            "channel_id": {"type": "string", "required": True},
            "action": {"type": "string", "required": True, "enum": ["watch", "record", "remind", "details"]},
            "is_live": {"type": "boolean"}}},
        "purchase.completed": {"consent": "analytics", "properties": {
            "price": {"type": "number", "required": True, "minimum": 0, "maximum": 500},
            "currency": {"type": "string", "required": True, "max_length": 3},
            "quantity": {"type": "integer", "required": True, "minimum": 1, "maximum": 3}}},
        "politics.debate_result": {"consent": "essential", "properties": {
            "debate_id": {"type": "string", "required": True},
            "persuasion_score": {"type": "number", "required": True, "minimum": -1, "maximum": 1},
            "participants": {"type": "array", "required": True},
            "stats": {"type": "object"}}},
        "recording.played": {"consent": "analytics", "properties": {
            "recording_ulid": {"type": "string", "required": True, "format": "ulid"},
            "days_since_recorded": {"type": "integer", "minimum": 0, "maximum": 60}}},
        "app.heartbeat": {"consent": "essential"},
    })
    taxonomy = parse_registry(document)
    summary = generate(tmp_path, events=8000, days=1, taxonomy=taxonomy)
    lines = read_landing(tmp_path)
    outcome = judge(lines, taxonomy)
    assert outcome["silver"] == summary.expected_silver
    assert {r: outcome[r] for r in QUARANTINE_REASONS} == summary.expected_quarantine
    seen = Counter(e.get("event_name") for e in events_of(lines))
    for name in ("epg.program.select", "purchase.completed", "politics.debate_result", "recording.played",
                 "app.heartbeat"):
        assert seen[name] > 0, name


def test_plain_share_one_writes_plain_files_only(tmp_path):
    summary = generate(tmp_path, events=500, days=1, plain_share=1.0)
    assert all(k.endswith(".jsonl") for k in summary.files)
    first = next(tmp_path.rglob("*.jsonl")).read_bytes()
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(first)
    assert first.endswith(b"\n") and first.count(b"\n") >= 1


def test_custom_sink_receives_the_files(tmp_path):
    summary = generate_traffic(Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path / "unused")}),
                               events=300, days=1, start_date=START, seed=1, sink=LocalSink(tmp_path / "else"))
    assert not (tmp_path / "unused").exists()
    assert set(summary.files) == {line.key for line in read_landing(tmp_path / "else")}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"events": 0}, "--events"),
        ({"days": 0}, "--days"),
        ({"users": 0}, "--users"),
        ({"fault_share": 0.9}, "--fault-share"),
        ({"batch": "bad label!"}, "--batch"),
        ({"phase": "sometimes"}, "phase"),
    ],
)
def test_bad_arguments_are_user_errors(tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        generate(tmp_path, **overrides)
    assert not (tmp_path / "landing").exists()
