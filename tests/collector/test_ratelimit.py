"""Source 000's sliding-window rate limit: per device, per user without a device, 429 +
Retry-After; the window slides with the collector's clock."""

from __future__ import annotations

import pytest

from eventlake.collector.ratelimit import SlidingWindowLimiter

from .helpers import API_KEY, bearer, collector_settings, event, post_events, serve

pytestmark = pytest.mark.collector


def test_sliding_window_frees_the_oldest_segment_first():
    limiter = SlidingWindowLimiter()  # one minute in six 10-second segments
    assert [limiter.hit("d", 3, t) for t in (0.0, 5.0, 25.0)] == [None, None, None]
    assert limiter.hit("d", 3, 30.0) == 30.0  # the two hits of 0–10 s leave the window at 60 s
    assert limiter.hit("d", 3, 59.0) == 1.0
    assert limiter.hit("d", 3, 60.0) is None  # 0–10 s segment gone: 1 (at 25 s) + this one
    assert limiter.hit("d", 3, 61.0) is None
    assert limiter.hit("d", 3, 62.0) == 18.0  # now the 25 s hit is the oldest; leaves at 80 s
    assert limiter.hit("other", 3, 62.0) is None  # keys are independent
    assert limiter.hit("d", 0, 62.0) is None  # a limit of 0 switches limiting off


def test_quiet_keys_are_forgotten():
    limiter = SlidingWindowLimiter()
    for n in range(100):
        limiter.hit(f"device-{n}", 10, 0.0)
    limiter.hit("late", 10, 200.0)
    assert len(limiter) == 1


def test_429_with_retry_after_per_device_then_per_user(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_RATE_LIMIT_PER_MINUTE="3",
                                  EVENTLAKE_RATE_LIMIT_USER_PER_MINUTE="2")
    with serve(settings) as running:
        with running.client() as client:
            device = [post_events(client, [event(device_id="tv-1")]).status_code for _ in range(4)]
            limited = post_events(client, [event(device_id="tv-1")])
            other_device = post_events(client, [event(device_id="tv-2")])
            by_user = [post_events(client, [event(device_id=None)], headers=bearer("u-9")).status_code
                       for _ in range(3)]
            producer = [post_events(client, [event(device_id="tv-1")], headers={"x-api-key": API_KEY}).status_code
                        for _ in range(5)]
            running.clock.advance(seconds=60)
            later = post_events(client, [event(device_id="tv-1")])
    assert device == [202, 202, 202, 429]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.headers["retry-after"] == "60"
    assert limited.json()["type"] == "https://eventlake.dev/problems/rate-limit-exceeded"
    assert other_device.status_code == 202
    assert by_user == [202, 202, 429]
    assert producer == [202] * 5  # server-side producers are not limited per device
    assert later.status_code == 202


def test_rotating_device_ids_does_not_escape_the_per_identity_limit(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_RATE_LIMIT_PER_MINUTE="3",
                                  EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE="5",
                                  EVENTLAKE_RATE_LIMIT_API_KEY_PER_MINUTE="4")
    with serve(settings) as running:
        with running.client() as client:
            # one user, a new device id on every request: 000's device window never fills
            rotating = [post_events(client, [event(device_id=f"fake-{n}")], headers=bearer("rotor"))
                        for n in range(7)]
            other_user = post_events(client, [event(device_id="fake-0")], headers=bearer("someone-else"))
            # 000's per-device limit is unchanged: 3 a minute for one device, whoever posts
            same_device = [post_events(client, [event(device_id="tv")], headers=bearer(f"u{n}")).status_code
                           for n in range(4)]
            # one API key, many devices: limited per key
            producer = [post_events(client, [event(device_id=f"d{n}")], headers={"x-api-key": API_KEY}).status_code
                        for n in range(5)]
            running.clock.advance(seconds=60)
            later = post_events(client, [event(device_id="fake-99")], headers=bearer("rotor"))
    assert [r.status_code for r in rotating] == [202] * 5 + [429] * 2
    assert rotating[5].json()["detail"] == "at most 5 requests a minute per identity; retry in 60 s"
    assert rotating[5].headers["retry-after"] == "60"
    assert other_user.status_code == 202
    assert same_device == [202, 202, 202, 429]
    assert producer == [202] * 4 + [429]
    assert later.status_code == 202


def test_anonymous_clients_are_limited_per_address_whatever_their_devices(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_JWT_SECRET=None, EVENTLAKE_API_KEYS=None,
                                  EVENTLAKE_ALLOW_ANONYMOUS="true", EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE="3")
    with serve(settings) as running:
        with running.client() as client:
            codes = [post_events(client, [event(device_id=f"d{n}")], headers={}).status_code for n in range(4)]
    assert codes == [202, 202, 202, 429]
