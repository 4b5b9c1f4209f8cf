"""The shipped event registry against the contract (§4) and the source documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventlake.taxonomy import CONSENT_CATEGORIES, JSON_TYPES, load_taxonomy
from eventlake.taxonomy.render import render_markdown

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CONTENT_TYPES = ("live", "vod", "catchup", "startover", "pvr")
ULID = "01HXK5V3Q8Z9R2M4N6P7T0W1YA"

# Contract §4, written out by hand: name -> {property: (type, required, enum, min, max, format)}.
_TRACK = {
    "track_id": ("string", True, None, None, None, "ulid"),
    "position_seconds": ("number", False, None, 0, None, None),
    "duration_played_seconds": ("number", False, None, 0, None, None),
}
CONTRACT_FIXED = {
    "playback.started": {
        "content_id": ("string", True, None, None, None, None),
        "content_type": ("string", True, CONTENT_TYPES, None, None, None),
        "start_time_ms": ("number", True, None, 0, None, None),
    },
    "playback.stopped": {
        "content_id": ("string", True, None, None, None, None),
        "content_type": ("string", True, CONTENT_TYPES, None, None, None),
        "position_ms": ("number", True, None, 0, None, None),
        "total_duration_ms": ("number", True, None, 0, None, None),
        "completion_percent": ("number", True, None, 0, 100, None),
    },
    "playback.heartbeat": {
        "content_id": ("string", True, None, None, None, None),
        "position_ms": ("number", True, None, 0, None, None),
    },
    "playback.rebuffer": {
        "content_id": ("string", True, None, None, None, None),
        "rebuffer_duration_ms": ("number", True, None, 0, None, None),
    },
    "playback.error": {
        "content_id": ("string", True, None, None, None, None),
        "error_code": ("string", True, None, None, None, None),
    },
    "search.query": {
        "query_text": ("string", True, None, None, None, None),
        "search_type": ("string", True, ("text", "voice", "conversational"), None, None, None),
    },
    "search.results": {
        "query_text": ("string", True, None, None, None, None),
        "result_count": ("integer", True, None, 0, None, None),
    },
    "search.result.click": {
        "query_text": ("string", True, None, None, None, None),
        "content_id": ("string", True, None, None, None, None),
        "result_position": ("integer", True, None, 1, None, None),
    },
    "track.play_start": _TRACK,
    "track.play_stop": _TRACK,
    "track.play_progress": _TRACK,
    "track.play_complete": _TRACK,
    "track.seek": _TRACK,
}

# 004 §2.1, every row of every client taxonomy table.
CLIENT_004 = {
    "app.launch", "app.background", "app.foreground", "screen.view", "screen.leave",
    "rail.impression", "rail.scroll", "tile.impression", "tile.click", "hero.impression",
    "hero.click", "content_detail.view",
    "search.initiated", "search.query", "search.results", "search.result.click", "search.abandoned",
    "epg.open", "epg.navigate", "epg.program.select", "epg.filter.apply",
    "playback.requested", "playback.started", "playback.heartbeat", "playback.paused",
    "playback.resumed", "playback.seeked", "playback.quality_changed", "playback.rebuffer",
    "playback.error", "playback.stopped",
    "channel.tune", "channel.tune_away", "startover.initiated", "catchup.play",
    "recording.scheduled", "recording.cancelled", "recording.played", "recording.deleted",
    "notification.received", "notification.clicked", "notification.dismissed",
    "paywall.shown", "paywall.action", "purchase.completed",
}
# 004 §3.1 server-side examples that are named there, and §9.2's ai_suggestion.shown.
SERVER_004 = {
    "session.created", "session.ended", "session.error", "title.added", "title.updated",
    "availability.changed", "schedule.updated", "program.changed", "recommendation.request",
    "recommendation.response", "recording.started", "recording.completed", "bookmark.set",
    "bookmark.resumed", "route.selected", "cdn.switched", "ad.decision", "ad.impression",
    "ad.completed", "notification.sent", "notification.delivered", "ingest.started",
    "ingest.completed", "enrichment.completed", "ai_suggestion.shown",
}
# 001 §2: the discriminated union's `type` codes.
POLITICS_001 = {
    "CAMPAIGN_PHASE_CHANGE", "DEBATE_RESULT", "ENDORSEMENT", "BILL_VOTE", "POLICY_ENACTED",
    "LOBBY_ATTEMPT", "MOMENTUM_SHIFT", "POLL_INTERVAL", "SYSTEM_BALANCE_APPLIED",
}
# 002 §2-3 canonical event types -> registry names.
CANONICAL_002 = {
    "challenge.completed": "challenge.completed",
    "iam.user-registered": "iam.user_registered",
    "guides.challenge-linked": "guides.challenge_linked",
    "execution.analytics": "execution.analytics",
    "community.user-registered": "community.user_registered",
    "community.profile-updated": "community.profile_updated",
    "challenges.solution-completed": "challenge.solution_completed",
}

# Properties the 004 §4.4 gold tables (and 001's numeric rollups) read, by event.
GOLD_FIELDS = {
    "channel.tune": {"channel_id": "string", "tune_time_ms": "number"},
    "channel.tune_away": {"channel_id": "string", "view_duration_ms": "number"},
    "epg.program.select": {"channel_id": "string", "program_id": "string"},
    "tile.impression": {"rail_id": "string", "rail_type": "string", "algorithm_variant": "string",
                        "tile_position": "integer", "content_id": "string"},
    "tile.click": {"rail_id": "string", "rail_type": "string", "algorithm_variant": "string",
                   "tile_position": "integer", "content_id": "string"},
    "rail.impression": {"rail_type": "string", "algorithm_variant": "string"},
    "recommendation.response": {"rail_type": "string", "algorithm_variant": "string"},
    "recording.scheduled": {"recording_type": "string", "is_ai_suggested": "boolean",
                            "quota_utilization_percent": "number"},
    "recording.completed": {"recording_type": "string", "quota_utilization_percent": "number"},
    "recording.played": {"recording_type": "string"},
    "recording.deleted": {"recording_type": "string"},
    "paywall.shown": {"paywall_type": "string"},
    "paywall.action": {"paywall_type": "string", "action": "string", "price": "number",
                       "currency": "string"},
    "purchase.completed": {"paywall_type": "string", "price": "number", "currency": "string"},
    "search.results": {"result_count": "integer"},
    "qoe.score": {"qoe_score": "number", "cdn": "string", "isp": "string"},
    "session.ended": {"session_duration_ms": "number"},
    "politics.debate_result": {"persuasion_score": "number"},
    "politics.endorsement": {"boost": "number", "credibility_impact": "number"},
    "politics.bill_vote": {"seat_weight": "number", "lobby_payments_count": "integer"},
    "politics.lobby_attempt": {"spend": "number", "success": "boolean"},
    "politics.momentum_shift": {"momentum_from": "number", "momentum_to": "number"},
    "politics.poll_interval": {"margin": "number", "moe": "number"},
    "politics.system_balance_applied": {"underdog_buff": "number", "frontrunner_penalty": "number"},
}


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def _snake(code: str) -> str:
    return code.lower()


def test_the_registry_loads_every_source_document(taxonomy):
    by_document = {}
    for event in taxonomy:
        by_document.setdefault(event.source[:3], set()).add(event.name)
    # Besides the source documents, Segment's Spec: the calls that name no event (docs/segment.md).
    assert set(by_document) == {"000", "001", "002", "004", "Seg"}
    assert by_document["Seg"] == {"page.view", "user.identified", "user.grouped", "user.aliased"}
    assert by_document["000"] == {n for n in CONTRACT_FIXED if n.startswith("track.")}
    assert by_document["001"] == {f"politics.{_snake(code)}" for code in POLITICS_001}
    assert by_document["002"] == set(CANONICAL_002.values())
    assert by_document["004"] == CLIENT_004 | SERVER_004 | {
        "auth.login", "auth.login_failed", "auth.logout", "profile.updated",
        "entitlement.changed", "qoe.score", "qoe.degradation_alert", "feature.updated",
    }


@pytest.mark.parametrize("name", sorted(CONTRACT_FIXED))
def test_contract_fixed_entries_are_exactly_the_contract(taxonomy, name):
    spec = taxonomy.get(name)
    assert spec is not None
    assert spec.consent == "analytics"
    actual = {
        p.name: (p.type, p.required, p.enum, p.minimum, p.maximum, p.format)
        for p in spec.properties
    }
    assert actual == CONTRACT_FIXED[name]


def test_entries_not_fixed_by_the_contract_require_nothing(taxonomy):
    required = {e.name: [p.name for p in e.required] for e in taxonomy if e.name not in CONTRACT_FIXED}
    assert {name: props for name, props in required.items() if props} == {}


def test_names_are_lower_case_domain_action(taxonomy):
    pattern = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
    assert [n for n in taxonomy.names if not pattern.match(n)] == []


def test_every_domain_of_the_sources_is_present(taxonomy):
    domains = {e.domain for e in taxonomy}
    expected = {
        "playback", "search", "track", "politics",
        # 004 client taxonomy
        "app", "screen", "rail", "tile", "hero", "content_detail", "epg", "channel",
        "startover", "catchup", "recording", "notification", "paywall", "purchase",
        # 004 server-side topics
        "session", "recommendation", "ad", "auth", "entitlement", "qoe", "cdn",
        # 002 canonical types
        "challenge", "iam", "guides", "execution", "community",
    }
    assert expected <= domains


def test_every_004_event_is_registered(taxonomy):
    assert sorted((CLIENT_004 | SERVER_004) - taxonomy.names) == []


def test_every_001_and_002_event_is_registered(taxonomy):
    assert {f"politics.{_snake(code)}" for code in POLITICS_001} <= taxonomy.names
    assert set(CANONICAL_002.values()) <= taxonomy.names


@pytest.mark.parametrize("event_name", sorted(GOLD_FIELDS))
def test_events_carry_the_fields_gold_tables_need(taxonomy, event_name):
    spec = taxonomy.get(event_name)
    assert spec is not None
    assert {
        name: spec.property(name).type if spec.property(name) else None
        for name in GOLD_FIELDS[event_name]
    } == GOLD_FIELDS[event_name]


def test_entries_are_well_formed(taxonomy):
    problems = []
    for event in taxonomy:
        if event.consent not in CONSENT_CATEGORIES:
            problems.append(f"{event.name}: consent {event.consent}")
        if not event.source or not event.source.startswith(("000", "001", "002", "004", "Segment Spec: ")):
            problems.append(f"{event.name}: source {event.source!r}")
        for prop in event.properties:
            where = f"{event.name}.{prop.name}"
            if prop.type not in JSON_TYPES:
                problems.append(f"{where}: type {prop.type}")
            if prop.enum is not None and (not prop.enum or prop.violation(prop.enum[0]) is not None):
                problems.append(f"{where}: enum {prop.enum}")
            bounds = (prop.minimum, prop.maximum)
            if bounds != (None, None) and prop.type not in ("number", "integer"):
                problems.append(f"{where}: range on a {prop.type}")
            if None not in bounds and prop.minimum > prop.maximum:
                problems.append(f"{where}: empty range")
            if prop.name.endswith(("_ms", "_seconds", "_count")) and prop.minimum != 0:
                problems.append(f"{where}: durations and counts are >= 0")
            if prop.name.endswith("_percent") and bounds != (0, 100):
                problems.append(f"{where}: percentages are 0-100")
            if prop.name.endswith("_position") and prop.minimum != 1:
                problems.append(f"{where}: positions are 1-based")
    assert problems == []


def test_consent_categories_follow_004_consent_model(taxonomy):
    consent = {e.name: e.consent for e in taxonomy}
    assert {n: c for n, c in consent.items() if n.startswith(("session.", "auth."))} == {
        "session.created": "essential", "session.ended": "essential", "session.error": "essential",
        "auth.login": "essential", "auth.login_failed": "essential", "auth.logout": "essential",
    }
    assert consent["entitlement.changed"] == "essential"
    assert {consent[n] for n in ("ad.decision", "ad.impression", "ad.completed")} == {"ad_targeting"}
    assert {consent[n] for n in ("recommendation.request", "recommendation.response",
                                 "ai_suggestion.shown", "feature.updated")} == {"personalization"}
    assert consent["tile.click"] == "analytics"


# --- strict typing through EventSpec.check_properties -------------------------------------

STARTED = {"content_id": "vod_1", "content_type": "vod", "start_time_ms": 1847}


@pytest.mark.parametrize(
    ("event_name", "properties", "problem"),
    [
        ("playback.started", STARTED, None),
        ("playback.started", {**STARTED, "start_time_ms": 1847.5, "cdn": "akamai"}, None),
        ("playback.started", {**STARTED, "start_time_ms": "1847"},
         "start_time_ms: expected number, got string"),
        ("playback.started", {**STARTED, "start_time_ms": True},
         "start_time_ms: expected number, got boolean"),
        ("playback.started", {**STARTED, "start_time_ms": -1},
         "start_time_ms: -1 is below the minimum 0"),
        ("playback.started", {**STARTED, "content_type": "podcast"},
         "content_type: 'podcast' is not one of live, vod, catchup, startover, pvr"),
        ("playback.started", {"content_id": "vod_1", "content_type": "vod"},
         "start_time_ms: required"),
        ("playback.started", {**STARTED, "content_id": None}, "content_id: required"),
        ("playback.started", ["vod_1"], "properties: expected object, got array"),
        ("playback.stopped",
         {**STARTED, "position_ms": 10, "total_duration_ms": 10, "completion_percent": 100}, None),
        ("playback.stopped",
         {**STARTED, "position_ms": 10, "total_duration_ms": 10, "completion_percent": 100.5},
         "completion_percent: 100.5 is above the maximum 100"),
        ("search.results", {"query_text": "news", "result_count": 2.0}, None),
        ("search.results", {"query_text": "news", "result_count": 1.5},
         "result_count: expected integer, got number"),
        ("search.results", {"query_text": "news", "result_count": "12"},
         "result_count: expected integer, got string"),
        ("search.results", {"query_text": "news", "result_count": False},
         "result_count: expected integer, got boolean"),
        ("search.result.click", {"query_text": "news", "content_id": "c", "result_position": 0},
         "result_position: 0 is below the minimum 1"),
        ("search.query", {"query_text": "news", "search_type": "telepathic"},
         "search_type: 'telepathic' is not one of text, voice, conversational"),
        ("track.seek", {"track_id": ULID, "position_seconds": 12.5}, None),
        ("track.seek", {"track_id": ULID.lower()}, None),
        ("track.play_start", {"track_id": "01HXK5V3Q8Z9R2M4N6P7T0W1YU"},
         "track_id: '01HXK5V3Q8Z9R2M4N6P7T0W1YU' is not a ULID"),
        ("track.play_start", {"track_id": "81HXK5V3Q8Z9R2M4N6P7T0W1YA"},
         "track_id: '81HXK5V3Q8Z9R2M4N6P7T0W1YA' is not a ULID"),
        ("track.play_start", {"track_id": ULID[:-1]}, f"track_id: {ULID[:-1]!r} is not a ULID"),
        ("track.play_stop", {"track_id": ULID, "duration_played_seconds": -0.5},
         "duration_played_seconds: -0.5 is below the minimum 0"),
        # Entries not fixed by the contract: nothing required, named properties type-checked.
        ("tile.click", {}, None),
        ("tile.click", {"tile_position": 3, "rail_type": "trending", "surprise": [1]}, None),
        ("tile.click", {"tile_position": "3"}, "tile_position: expected integer, got string"),
        ("tile.click", {"rail_type": "random"},
         "rail_type: 'random' is not one of editorial, ai_recommended, continue_watching, trending"),
        ("paywall.action", {"currency": "EURO"}, "currency: longer than 3 characters"),
        ("recording.deleted", {"watched_percent": 101},
         "watched_percent: 101 is above the maximum 100"),
        ("politics.bill_vote", {"seat_weight": 1.5, "lobby_payments_count": 2}, None),
        ("politics.bill_vote", {"lobby_payments_count": 2.5},
         "lobby_payments_count: expected integer, got number"),
        ("politics.lobby_attempt", {"success": "true"}, "success: expected boolean, got string"),
        ("politics.debate_result", {"participants": "p1,p2"},
         "participants: expected array, got string"),
        ("challenge.completed", {"score": 97, "challenge_id": "c12f"}, None),
    ],
)
def test_check_properties_is_strict(taxonomy, event_name, properties, problem):
    assert taxonomy.get(event_name).check_properties(properties) == problem


def test_docs_are_in_sync_with_the_registry(taxonomy):
    committed = (REPO / "docs" / "taxonomy.md").read_text("utf-8")
    assert committed == render_markdown(taxonomy), (
        "docs/taxonomy.md is stale: run `python -m eventlake.taxonomy.render > docs/taxonomy.md`"
    )
