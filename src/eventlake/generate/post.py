"""Send generated traffic to a running collector, as clients do (contract §8).

Clients send only what they know: the collector sets `event_timestamp`, `ip_truncated`,
`user_agent` and `collector_id` itself, and `user_id` from the token's `sub`. So each
line loses those fields, lines are grouped per user (one token per user), and sent in
gzip batches of 20-100 events under 100 KB. Lines that are not JSON cannot be part of a
JSON body and are skipped (counted); a JSON value that is not an object is sent as is,
for the collector to reject by index.
"""

from __future__ import annotations

import gzip
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson

from eventlake.errors import UserError

COLLECTOR_SET_FIELDS = ("event_timestamp", "ip_truncated", "user_agent", "collector_id")
MAX_BODY_BYTES = 95_000  # the collector takes 100 KB after decompression; keep a margin
TOKEN_LIFETIME_SECONDS = 3600


@dataclass
class PostReport:
    requests: int = 0
    events_sent: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped_unsendable: int = 0
    failed_requests: int = 0
    problems: dict[str, int] = field(default_factory=dict)  # problem title/status -> requests

    def describe(self, url: str) -> str:
        problems = "; ".join(f"{k}: {v}" for k, v in sorted(self.problems.items())) or "none"
        return (
            f"Posted {self.events_sent} events in {self.requests} requests to {url}: "
            f"{self.accepted} accepted, {self.rejected} rejected, {self.skipped_unsendable} lines not "
            f"sendable as JSON skipped, {self.failed_requests} requests failed (problems: {problems})."
        )


class CollectorClient:
    """Batches events per user and POSTs them to `{url}/v1/events` with a bearer token."""

    def __init__(self, url: str, secret: str, *, seed: int, now: Callable[[], float] = time.time,
                 timeout: float = 30.0, attempts: int = 4):
        if not url.startswith(("http://", "https://")):
            raise UserError(f"--to {url!r}: give the collector's base URL, e.g. http://127.0.0.1:8080")
        self.endpoint = url.rstrip("/") + "/v1/events"
        self.secret = secret
        self.rng = random.Random(f"eventlake-generate:{seed}:post")
        self.now = now
        self.timeout = timeout
        self.attempts = attempts
        self.report = PostReport()
        self._tokens: dict[str | None, tuple[str, float]] = {}

    def token(self, user_id: str | None) -> str:
        cached = self._tokens.get(user_id)
        now = self.now()
        if cached and cached[1] - now > 60:
            return cached[0]
        expires = now + TOKEN_LIFETIME_SECONDS
        claims: dict[str, Any] = {"iat": int(now), "exp": int(expires)}
        if user_id is not None:
            claims["sub"] = user_id  # anonymous clients present a token without a subject
        token = jwt.encode(claims, self.secret, algorithm="HS256")
        self._tokens[user_id] = (token, expires)
        return token

    def send_lines(self, lines: list[bytes]) -> None:
        """One landing file's worth of lines: strip, group per user, batch, POST."""
        groups: dict[str | None, list[Any]] = {}
        for line in lines:
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                self.report.skipped_unsendable += 1
                continue
            user = None
            if isinstance(event, dict):
                for name in COLLECTOR_SET_FIELDS:
                    event.pop(name, None)
                user = event.get("user_id") if isinstance(event.get("user_id"), str) else None
            groups.setdefault(user, []).append(event)
        for user, events in groups.items():
            start = 0
            while start < len(events):
                size = self.rng.randint(20, 100)
                batch = events[start:start + size]
                body = orjson.dumps({"events": batch})
                while len(body) > MAX_BODY_BYTES and len(batch) > 1:
                    batch = batch[: len(batch) // 2]
                    body = orjson.dumps({"events": batch})
                start += len(batch)
                self._post(user, body, len(batch))

    def _post(self, user: str | None, body: bytes, count: int) -> None:
        data = gzip.compress(body, mtime=0)
        delay = 0.5
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                self.endpoint, data=data, method="POST",
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip",
                         "Authorization": f"Bearer {self.token(user)}"},
            )
            self.report.requests += 1
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    answer = orjson.loads(response.read() or b"{}")
                self.report.events_sent += count
                self.report.accepted += int(answer.get("accepted", 0))
                self.report.rejected += int(answer.get("rejected", 0))
                return
            except urllib.error.HTTPError as error:
                problem = _problem_title(error)
                retry = error.code == 429 or error.code >= 500
                if error.code == 401:
                    raise UserError(
                        f"the collector at {self.endpoint} refused the token ({problem}); "
                        "check EVENTLAKE_JWT_SECRET"
                    ) from None
                if not retry or attempt == self.attempts:
                    self.report.failed_requests += 1
                    self.report.rejected += count
                    self.report.events_sent += count
                    self.report.problems[problem] = self.report.problems.get(problem, 0) + 1
                    return
                wait = _retry_after(error) or delay
            except (urllib.error.URLError, OSError) as error:
                if attempt == self.attempts:
                    raise UserError(f"cannot reach the collector at {self.endpoint}: {error}") from None
                wait = delay
            time.sleep(min(wait, 30.0))
            delay = min(delay * 2, 8.0)


def _problem_title(error: urllib.error.HTTPError) -> str:
    try:
        problem = orjson.loads(error.read() or b"{}")
        title = problem.get("title") if isinstance(problem, dict) else None
    except (orjson.JSONDecodeError, OSError):
        title = None
    return f"{error.code} {title or error.reason}"


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value else None
    except ValueError:
        return None
