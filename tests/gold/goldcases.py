"""The edge-case silver rows every gold test starts from (see test_reference for why each is there)."""

from __future__ import annotations

from datetime import date, timedelta

from eventlake.config import Settings
from goldrows import at, silver_row as ev

D0 = date(2024, 3, 4)  # a Monday
D1 = D0 + timedelta(days=1)
NEXT_WEEK = D0 + timedelta(days=7)
T1, T2 = "01HQZX3V6K8M9N0P1Q2R3S4T5V", "01HQZX3V6K8M9N0P1Q2R3S4T6W"


def _start(when, user=None, *, content="c1", kind="vod", start_ms=1000, **kw):
    return ev("playback.started", when, user=user, content_id=content, content_type=kind,
              start_time_ms=start_ms, **kw)


def _stop(when, user=None, *, content="c1", kind="vod", watched=60000, percent=50, **kw):
    return ev("playback.stopped", when, user=user, content_id=content, content_type=kind,
              position_ms=watched, total_duration_ms=watched, completion_percent=percent, **kw)


def edge_case_rows() -> list[dict]:
    day0 = lambda clock: at(D0, clock)  # noqa: E731
    day1 = lambda clock: at(D1, clock)  # noqa: E731
    rows = [
        # playback: unknown market/platform, kids without user_key, completion 90 vs 90.1
        _start(day0("10:00"), "u1", session="s1", start_ms=1200),
        _start(day0("10:05"), "u2", session="s2", market=None, platform=None, start_ms=800.5),
        _start(day0("10:10"), kids=True, session="s3", content="c2", kind="live", start_ms=3000),
        _stop(day0("10:30"), "u1", session="s1", watched=1_800_000, percent=90),
        _stop(day0("10:40"), "u2", session="s2", market=None, platform=None, watched=600_000, percent=90.1),
        _stop(day0("11:00"), kids=True, session="s3", content="c2", kind="live", watched=100, percent=100),
        _stop(day0("11:30"), "u3", session="s4", content="c3", watched=5, percent=1),  # stops, no views
        ev("playback.rebuffer", day0("10:12"), user="u1", session="s1", content_id="c1", rebuffer_duration_ms=250),
        ev("playback.rebuffer", day0("10:13"), user="u1", session="s1", content_id="c1", rebuffer_duration_ms=350.5),
        ev("playback.error", day0("10:20"), user="u2", session="s2", market=None, platform=None, content_id="c1", error_code="E1"),
        # an hour with an error and no start: error_rate has a zero denominator
        ev("playback.error", day0("12:00"), user="u3", session="s4", market="FR", platform="android", content_id="c1", error_code="E2"),
        # p95 over three starts in one hour: 2000 + 0.9 * (4000 - 2000)
        _start(day1("08:00"), "u1", session="s5", market="FR", platform="android", start_ms=1000),
        _start(day1("08:10"), "u1", session="s5", market="FR", platform="android", start_ms=2000),
        _start(day1("08:20"), "u2", session="s6", market="FR", platform="android", start_ms=4000),
        # search: plays 299 s / 300 s / 301 s / 0 s after the query, across midnight, kids
        ev("search.query", day0("09:00"), user="u4", session="q4", query_text="a", search_type="text"),
        _start(day0("09:04:59"), "u4", session="q4"),
        ev("search.query", day0("09:00"), user="u5", session="q5", query_text="b", search_type="voice"),
        _start(day0("09:05:00"), "u5", session="q5"),
        ev("search.query", day0("09:00"), user="u6", session="q6", market=None, query_text="c", search_type="text"),
        _start(day0("09:05:01"), "u6", session="q6", market=None),
        ev("search.query", day0("09:00"), user="u8", session="q8", query_text="d", search_type="text"),
        _start(day0("09:00"), "u8", session="q8"),
        ev("search.query", day0("23:58"), user="u7", session="q7", query_text="e", search_type="text"),
        _start(day1("00:02"), "u7", session="q7"),
        ev("search.query", day0("13:00"), kids=True, session="s3", query_text="f", search_type="text"),
        ev("search.results", day0("09:00:01"), user="u4", session="q4", query_text="a", result_count=0),
        ev("search.results", day0("09:00:01"), user="u5", session="q5", query_text="b", result_count=3),
        ev("search.results", day0("09:00:01"), user="u6", session="q6", market=None, query_text="c", result_count=0),
        ev("search.result.click", day0("09:00:05"), user="u4", session="q4", query_text="a", content_id="c1", result_position=1),
        # a search day with results but no query: success_rate has a zero denominator
        ev("search.results", day1("15:00"), user="u5", session="q9", market="SE", query_text="g", result_count=0),
        # tracks
        ev("track.play_start", day0("14:00"), user="u1", session="s1", track_id=T1),
        ev("track.play_progress", day0("14:01"), user="u1", session="s1", track_id=T1, duration_played_seconds=30.5, position_seconds=30.5),
        ev("track.play_complete", day0("14:03"), user="u1", session="s1", track_id=T1, duration_played_seconds=180),
        ev("track.play_start", day0("14:04"), user="u1", session="s1", track_id=T2),
        ev("track.play_start", day0("15:00"), kids=True, session="s3", track_id=T1, duration_played_seconds=10),
        ev("track.play_start", day0("14:30"), user="u2", session="s2", track_id=T1),
        ev("track.play_stop", day0("14:59"), user="u2", session="s2", track_id=T2, duration_played_seconds=42),
        ev("track.seek", day1("09:00"), user="u2", session="s6", track_id=T2, position_seconds=12),
        # live channels
        ev("channel.tune", day0("20:00"), user="u1", session="s1", channel_id="ch1", tune_time_ms=500),
        ev("channel.tune", day0("20:10"), user="u2", session="s2", channel_id="ch1", tune_time_ms=1500),
        ev("channel.tune", day0("20:20"), user="u1", session="s1", channel_id="ch1", tune_time_ms=900),
        ev("channel.tune_away", day0("20:30"), user="u1", session="s1", channel_id="ch1", view_duration_ms=1_800_000),
        ev("channel.tune_away", day0("21:05"), kids=True, session="s3", channel_id="ch2", view_duration_ms=60_000),
        # recommendation rails: a click followed by its play, one without a known rail
        ev("rail.impression", day0("21:00"), user="u1", session="s1", rail_id="r1", rail_type="ai_recommended", algorithm_variant="v1", rail_position=1),
        ev("tile.impression", day0("21:00:01"), user="u1", session="s1", rail_id="r1", content_id="c1", tile_position=1, is_personalized=True, algorithm_variant="v2"),
        ev("tile.impression", day0("21:00:02"), user="u1", session="s1", rail_id="r1", content_id="c4", tile_position=2, is_personalized=False),
        ev("tile.click", day0("21:01"), user="u1", session="s1", rail_id="r1", content_id="c1", tile_position=1),
        _start(day0("21:02"), "u1", session="s1"),
        ev("tile.click", day0("21:10"), user="u2", session="s2", rail_id="r9", content_id="c9", tile_position=3),
        # recordings
        ev("recording.scheduled", day0("18:00"), user="u1", session="s1", program_id="p1", channel_id="ch1", recording_type="series", is_ai_suggested=True, source="epg", quota_utilization_percent=40),
        ev("recording.scheduled", day0("18:05"), user="u2", session="s2", program_id="p2", channel_id="ch1", recording_type="single", is_ai_suggested=False, source="epg", quota_utilization_percent=55.5),
        ev("recording.played", day0("19:00"), user="u1", session="s1", recording_id="rec1", program_id="p0", recording_type="series", days_since_recorded=3),
        ev("recording.deleted", day0("19:30"), user="u1", session="s1", recording_id="rec1", watched_percent=100, was_ai_suggested_delete=False),
        # paywall: shown, acted on and bought in one session; an orphan dismiss; two currencies
        ev("paywall.shown", day0("22:00"), user="u1", session="s1", content_id="c5", paywall_type="tvod_rent", current_tier="basic"),
        ev("paywall.action", day0("22:01"), user="u1", session="s1", content_id="c5", action="rent", price=3.99, currency="EUR"),
        ev("purchase.completed", day0("22:02"), user="u1", session="s1", content_id="c5", transaction_type="rental", price=3.99, currency="EUR", payment_method="card"),
        ev("paywall.action", day0("22:03"), user="u2", session="s2", content_id="c6", action="dismiss"),
        ev("paywall.action", day0("22:04"), user="u2", session="s2", content_id="c6", paywall_type="upgrade", action="subscribe", price=9.99, currency="EUR"),
        ev("paywall.shown", day0("22:10"), user="u2", session="s7", market="SE", content_id="c7", paywall_type="tvod_buy"),
        ev("purchase.completed", day0("22:11"), user="u2", session="s7", market="SE", content_id="c7", transaction_type="purchase", price=10, currency="SEK", payment_method="card"),
        ev("paywall.shown", day0("22:12"), user="u3", session="s8", market="SE", content_id="c8", paywall_type="tvod_buy"),
        ev("purchase.completed", day0("22:13"), user="u3", session="s8", market="SE", content_id="c8", transaction_type="purchase", price=1, currency="EUR", payment_method="card"),
        # other weeks and the 30-day window: the same users on later days
        _start(at(NEXT_WEEK, "10:00"), "u1", session="s10"),
        ev("search.query", at(NEXT_WEEK, "10:01"), user="u1", session="s10", query_text="h", search_type="text"),
        _start(at(D0 + timedelta(days=29), "10:00"), "u9", session="s11"),
        _start(at(D0 + timedelta(days=30), "10:00"), "u9", session="s12", market="SE"),
        _start(at(D0 + timedelta(days=40), "10:00"), "u1", session="s13"),
        ev("app.launch", at(D0 + timedelta(days=40), "09:59"), user="u1", session="s13", launch_type="cold", launch_duration_ms=1234),
    ]
    return rows


def lake_settings(root) -> Settings:
    return Settings.from_env(
        {
            "EVENTLAKE_LAKE_URI": str(root / "lakehouse"),
            "EVENTLAKE_PSEUDONYM_SALT": "test-salt",
            "EVENTLAKE_CATALOG_DIR": str(root / "catalog"),
        }
    )
