"""What people do in a session, as a stream of (true time in ms, event name, properties).

Video sessions: launch, navigation, searches that lead (or not) to plays, browsing, the
EPG, and playback with heartbeats, rebuffers, errors and stops. Music sessions: tracks
started, progressing, seeked, completed or stopped. Sprinkled in: any other registry entry,
with properties generated from its specs. Names the registry does not (yet) hold are
skipped by the caller, so the flows stay valid while the registry grows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from eventlake.generate.properties import (
    CDNS,
    ERROR_CODES,
    PII_STRINGS,
    RESOLUTIONS,
    SEARCH_QUERIES,
    Catalog,
)

Event = tuple[int, str, dict[str, Any]]

# Names the flows below emit themselves; every other registry entry is "other" traffic.
FLOW_EVENTS = frozenset({
    "app.launch", "app.background", "screen.view", "screen.leave", "search.initiated",
    "search.query", "search.results", "search.result.click", "search.abandoned",
    "rail.impression", "tile.impression", "tile.click", "content_detail.view", "epg.open",
    "epg.navigate", "epg.program.select", "channel.tune", "channel.tune_away",
    "playback.requested", "playback.started", "playback.heartbeat", "playback.paused",
    "playback.resumed", "playback.rebuffer", "playback.error", "playback.stopped",
    "track.play_start", "track.play_progress", "track.seek", "track.play_complete",
    "track.play_stop",
})

HEARTBEAT_MS = 30_000


def _start_time_ms(rng: random.Random) -> int:
    # Mostly 0.5-4 s, with the long tail QoE dashboards care about.
    value = int(rng.lognormvariate(7.1, 0.55))
    return min(value, 45_000)


def playback(rng: random.Random, catalog: Catalog, t: int, content_type: str | None = None,
             content: tuple[str, int] | None = None, referrer: str = "rail") -> Iterator[Event]:
    content_type = content_type or rng.choices(
        ("vod", "live", "catchup", "startover", "pvr"), weights=(45, 25, 12, 8, 10))[0]
    content_id, duration = content or catalog.content(rng, content_type)
    yield t, "playback.requested", {"content_id": content_id, "content_type": content_type, "referrer": referrer}
    start_ms = _start_time_ms(rng)
    t += start_ms
    if rng.random() < 0.012:  # it never started
        yield t, "playback.error", {"content_id": content_id, "error_code": rng.choice(ERROR_CODES),
                                    "error_category": "drm", "position_ms": 0}
        return
    yield t, "playback.started", {
        "content_id": content_id, "content_type": content_type, "start_time_ms": start_ms,
        "initial_bitrate_kbps": rng.choice((1800, 3200, 4500, 7800)),
        "initial_resolution": rng.choice(RESOLUTIONS), "cdn": rng.choice(CDNS),
        "drm_type": rng.choice(("widevine", "fairplay", "playready")),
    }
    # Sittings are capped at 25 minutes, so a small sample still holds many plays; people
    # who finish mostly resumed near the end ("continue watching").
    sitting = rng.randrange(5, 26) * 60_000
    roll = rng.random()
    if roll < 0.3:
        watch = min(duration, sitting)
        resume_at = duration - watch
    else:
        resume_at = rng.randrange(0, duration // 2) if content_type == "vod" and rng.random() < 0.25 else 0
        watch = min(int((duration - resume_at) * rng.random() ** 1.6), sitting)
    watch = max(watch, rng.randrange(2_000, 20_000))
    error_at = rng.randrange(0, watch) if rng.random() < 0.04 else None
    played = 0
    stop_reason = "end_of_content" if roll < 0.3 else "user"
    while played + HEARTBEAT_MS <= watch:
        if error_at is not None and played + HEARTBEAT_MS > error_at:
            break
        if rng.random() < 0.02:
            stall = int(rng.lognormvariate(7.0, 0.8)) + 100
            yield t + rng.randrange(1, HEARTBEAT_MS), "playback.rebuffer", {
                "content_id": content_id, "position_ms": resume_at + played,
                "rebuffer_duration_ms": stall}
            t += stall
        if rng.random() < 0.01:
            pause = rng.randrange(5_000, 600_000)
            yield t + 1_000, "playback.paused", {"content_id": content_id, "position_ms": resume_at + played,
                                                  "content_type": content_type}
            t += pause
            yield t + 1_000, "playback.resumed", {"content_id": content_id, "position_ms": resume_at + played,
                                                   "pause_duration_ms": pause}
        played += HEARTBEAT_MS
        t += HEARTBEAT_MS
        yield t, "playback.heartbeat", {"content_id": content_id, "position_ms": resume_at + played,
                                        "bitrate_kbps": rng.choice((1800, 3200, 4500, 7800)),
                                        "buffer_length_ms": rng.randrange(2_000, 30_000)}
    if error_at is not None:
        t += max(error_at - played, 0)
        played = max(error_at, played)
        message = rng.choice(("segment request failed", "license server unreachable",
                              "user j.smith@example.org not entitled", "call +44 20 7946 0321 for help"))
        yield t, "playback.error", {"content_id": content_id, "error_code": rng.choice(ERROR_CODES),
                                    "error_message": message, "error_category": "network",
                                    "position_ms": resume_at + played}
        stop_reason = "error"
    else:
        t += watch - played
        played = watch
    position = resume_at + played
    yield t + rng.randrange(50, 900), "playback.stopped", {
        "content_id": content_id, "content_type": content_type, "position_ms": position,
        "total_duration_ms": played,
        "completion_percent": round(min(100.0, 100.0 * position / duration), 2),
        "stop_reason": stop_reason,
    }


def search(rng: random.Random, catalog: Catalog, t: int) -> Iterator[Event]:
    search_type = rng.choices(("text", "voice", "conversational"), weights=(70, 20, 10))[0]
    yield t, "search.initiated", {"search_type": search_type, "referrer_screen": "home"}
    t += rng.randrange(2_000, 15_000)
    query = rng.choice(PII_STRINGS) if rng.random() < 0.03 else rng.choice(SEARCH_QUERIES)
    yield t, "search.query", {"query_text": query, "search_type": search_type, "query_length": len(query),
                              "is_conversational": search_type == "conversational"}
    t += rng.randrange(150, 1_500)
    count = 0 if rng.random() < 0.12 else rng.randrange(1, 200)
    yield t, "search.results", {"query_text": query, "result_count": count,
                                "latency_ms": rng.randrange(60, 900), "ai_enhanced": rng.random() < 0.4}
    if count == 0 or rng.random() < 0.3:
        t += rng.randrange(3_000, 40_000)
        yield t, "search.abandoned", {"query_text": query, "results_seen_count": min(count, 10),
                                      "dwell_time_ms": rng.randrange(3_000, 40_000)}
        return
    t += rng.randrange(1_500, 45_000)
    content = rng.choice(catalog.vod)
    yield t, "search.result.click", {"query_text": query, "content_id": content[0],
                                     "result_position": rng.randrange(1, min(count, 20) + 1),
                                     "time_to_click_ms": rng.randrange(1_500, 45_000)}
    roll = rng.random()
    if roll < 0.8:  # plays within a minute: a successful query
        yield from playback(rng, catalog, t + rng.randrange(2_000, 60_000), "vod", content, "search")
    elif roll < 0.9:  # reads the detail page for a long while, then plays: outside 300 s
        yield t + 2_000, "content_detail.view", {"content_id": content[0], "referrer": "search",
                                                 "content_type": "vod"}
        yield from playback(rng, catalog, t + rng.randrange(320_000, 900_000), "vod", content, "search")


def browse(rng: random.Random, catalog: Catalog, t: int, kids: bool) -> Iterator[Event]:
    rail = f"rail_{rng.randrange(1, 40):02d}"
    yield t, "rail.impression", {"rail_id": rail, "rail_position": rng.randrange(1, 12),
                                 "rail_type": rng.choice(("editorial", "ai_recommended", "continue_watching", "trending")),
                                 "items_visible": rng.randrange(4, 9)}
    for position in range(1, rng.randrange(2, 6)):
        t += rng.randrange(300, 3_000)
        yield t, "tile.impression", {"content_id": rng.choice(catalog.vod)[0], "tile_position": position,
                                     "rail_id": rail, "is_personalized": not kids and rng.random() < 0.6}
    if rng.random() < 0.55:
        content = rng.choice(catalog.vod)
        t += rng.randrange(1_000, 20_000)
        yield t, "tile.click", {"content_id": content[0], "tile_position": rng.randrange(1, 6), "rail_id": rail,
                                "time_to_click_ms": rng.randrange(500, 20_000)}
        t += rng.randrange(500, 2_000)
        yield t, "content_detail.view", {"content_id": content[0], "referrer": "rail", "content_type": "vod"}
        if rng.random() < 0.75:
            yield from playback(rng, catalog, t + rng.randrange(3_000, 90_000), "vod", content, "rail")


def epg(rng: random.Random, catalog: Catalog, t: int) -> Iterator[Event]:
    yield t, "screen.view", {"screen_name": "epg", "referrer_screen": "home", "navigation_method": "remote"}
    yield t + 300, "epg.open", {"epg_view": rng.choice(("grid", "your_schedule", "family")), "referrer_screen": "home"}
    for _ in range(rng.randrange(0, 4)):
        t += rng.randrange(1_000, 8_000)
        yield t, "epg.navigate", {"direction": rng.choice(("time", "channel")),
                                  "channels_scrolled": rng.randrange(0, 30), "time_scrolled_hours": rng.randrange(0, 6)}
    channel = rng.choice(catalog.channels)
    program = rng.choice(catalog.programs)
    t += rng.randrange(1_000, 10_000)
    action = rng.choices(("watch", "record", "remind", "details"), weights=(70, 12, 8, 10))[0]
    yield t, "epg.program.select", {"channel_id": channel, "program_id": program, "action": action,
                                    "is_live": True, "is_ai_recommended": rng.random() < 0.2}
    if action == "record":
        yield t + 800, "recording.scheduled", {"program_id": program, "channel_id": channel,
                                               "recording_type": rng.choice(("single", "series")),
                                               "is_ai_suggested": rng.random() < 0.2, "source": "epg"}
    if action != "watch":
        return
    t += rng.randrange(300, 1_500)
    yield t, "channel.tune", {"channel_id": channel, "previous_channel_id": rng.choice(catalog.channels),
                              "tune_source": "epg", "tune_time_ms": rng.randrange(300, 2_500)}
    end = t
    for event in playback(rng, catalog, t + 200, "live", (f"live_{channel}", rng.choice((30, 60, 90)) * 60_000), "epg"):
        end = max(end, event[0])
        yield event
    yield end + rng.randrange(200, 3_000), "channel.tune_away", {
        "channel_id": channel, "view_duration_ms": end - t,
        "tune_away_reason": rng.choice(("channel_change", "app_exit", "recording_start"))}


def video_session(rng: random.Random, catalog: Catalog, t: int, kids: bool,
                  next_other: Callable[[], str] | None) -> Iterator[Event]:
    yield t, "app.launch", {"launch_type": "cold" if rng.random() < 0.6 else "warm",
                            "launch_duration_ms": rng.randrange(400, 6_000)}
    t += rng.randrange(800, 4_000)
    yield t, "screen.view", {"screen_name": "kids_home" if kids else "home",
                             "navigation_method": rng.choice(("tap", "remote", "deeplink"))}
    if next_other is not None and rng.random() < 0.5:  # auth, profile, notification... traffic
        for event in other(rng, t, next_other):
            t = max(t, event[0])
            yield event
    activities = 1 + min(int(rng.expovariate(0.6)), 7)
    screen = "home"
    for _ in range(activities):
        t += rng.randrange(2_000, 30_000)
        yield t, "screen.leave", {"screen_name": screen, "dwell_time_ms": rng.randrange(2_000, 30_000),
                                  "interaction_count": rng.randrange(0, 12)}
        roll = rng.random()
        screen = "search" if roll < 0.30 else "home" if roll < 0.55 else "epg" if roll < 0.70 else "player"
        if roll < 0.30:
            flow = search(rng, catalog, t)
        elif roll < 0.55:
            flow = browse(rng, catalog, t, kids)
        elif roll < 0.70:
            flow = epg(rng, catalog, t)
        elif roll < 0.88 and next_other is not None:
            flow = other(rng, t, next_other)
        else:
            flow = playback(rng, catalog, t, referrer="continue_watching")
        for event in flow:
            t = max(t, event[0])
            yield event
    t += rng.randrange(1_000, 60_000)
    yield t, "app.background", {"session_duration_ms": rng.randrange(60_000, 7_200_000),
                                "active_screen": "home"}


def other(rng: random.Random, t: int, next_other: Callable[[], str]) -> Iterator[Event]:
    for _ in range(rng.randrange(1, 5)):
        t += rng.randrange(500, 20_000)
        yield t, next_other(), {}


def music_session(rng: random.Random, catalog: Catalog, t: int) -> Iterator[Event]:
    yield t, "app.launch", {"launch_type": "warm", "launch_duration_ms": rng.randrange(300, 3_000)}
    t += rng.randrange(1_000, 5_000)
    yield t, "screen.view", {"screen_name": "music_home", "navigation_method": "tap"}
    for _ in range(rng.randrange(2, 16)):
        track_id, length = rng.choice(catalog.tracks)
        t += rng.randrange(300, 2_500)
        yield t, "track.play_start", {"track_id": track_id, "position_seconds": 0.0}
        completes = rng.random() < 0.6
        listen = float(length) if completes else round(length * rng.uniform(0.05, 0.95), 1)
        position = 0.0
        played = 0.0
        while position + 30 < listen:
            position += 30
            played += 30
            t += 30_000
            yield t, "track.play_progress", {"track_id": track_id, "position_seconds": position}
            if not completes and rng.random() < 0.08:
                position = round(min(length - 1, position + rng.uniform(10, 90)), 1)
                yield t + 500, "track.seek", {"track_id": track_id, "position_seconds": position}
        t += int((listen - played) * 1000)
        played = round(played + max(listen - position, 0.0), 1) if listen > position else played
        position = round(max(position, listen), 1)
        name = "track.play_complete" if completes else "track.play_stop"
        yield t, name, {"track_id": track_id, "position_seconds": position, "duration_played_seconds": played}
