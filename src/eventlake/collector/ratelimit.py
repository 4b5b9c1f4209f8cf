"""Source 000's rate limit: a sliding window of one minute in six segments, per key.

Keys are a device (120 requests a minute by default) or, for a request that names no
device, a user (60 a minute). Time comes from the caller (the collector's clock), so the
limiter is exact under test. State is in memory, per collector instance.
"""

from __future__ import annotations

import math
from typing import Any

WINDOW_SECONDS = 60.0
SEGMENTS = 6


class SlidingWindowLimiter:
    def __init__(self, *, window: float = WINDOW_SECONDS, segments: int = SEGMENTS):
        self.window = window
        self.segments = segments
        self.segment_seconds = window / segments
        # key -> [newest segment number, counts per segment (ring)]: a mutable pair, updated
        # in place on the hot path, so a list of mixed items rather than a typed record.
        self._state: dict[str, list[Any]] = {}
        self._last_prune = 0

    def hit(self, key: str, limit: int, now: float) -> float | None:
        """Count one request for `key`; None when allowed, else seconds until one is."""
        if limit <= 0:  # 0 switches the limit off
            return None
        segment = int(now // self.segment_seconds)
        if segment - self._last_prune > self.segments:
            self._prune(segment)
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = [segment, [0] * self.segments]
        newest, counts = state
        if segment > newest:
            for skipped in range(newest + 1, min(segment, newest + self.segments) + 1):
                counts[skipped % self.segments] = 0
            state[0] = segment
        if sum(counts) >= limit:
            # Free again when the oldest segment still holding requests leaves the window.
            for oldest in range(segment - self.segments + 1, segment + 1):
                if counts[oldest % self.segments]:
                    break
            free_at = (oldest + self.segments) * self.segment_seconds
            return max(1.0, math.ceil(free_at - now))
        counts[segment % self.segments] += 1
        return None

    def _prune(self, segment: int) -> None:
        """Forget keys that have been quiet for a whole window (bounded memory)."""
        self._last_prune = segment
        stale = [key for key, (newest, _) in self._state.items() if segment - newest >= self.segments]
        for key in stale:
            del self._state[key]

    def __len__(self) -> int:
        return len(self._state)
