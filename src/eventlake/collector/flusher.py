"""The flusher: sealed spool segments -> landing files in the lake, then the segment goes.

A segment becomes exactly one landing file (`landing/events/event_date=…/event_hour=…/
<collector_id>-<segment>.jsonl.gz`), written through the lake's LandingSink, so this code
never knows whether the lake is a folder or a bucket. The name is a function of the segment
only: a flush retried after an error or a crash rewrites the same object with the same
bytes, and no event is landed twice. A segment is deleted only after its file is written;
while the lake is unreachable segments wait on disk (the spool limit then turns into 503s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from eventlake.landing import LandingSink, encode_lines, landing_key

from .spool import Segment, Spool, complete_records

log = logging.getLogger("eventlake.collector.flusher")

PROBE_KEY = "landing/_probes/{collector_id}"
PROBE_EVERY_SECONDS = 30.0


def landing_name(collector_id: str, segment: Segment) -> str:
    return f"{collector_id}-{segment.name}.jsonl.gz"


def land_segment(sink: LandingSink, collector_id: str, segment: Segment) -> tuple[int, int]:
    """Write one segment's landing file; (events, bytes) landed. Runs on a worker thread."""
    records = complete_records(segment.path.read_bytes())
    if not records:
        return 0, 0
    lines = records.split(b"\n")[:-1]
    body = encode_lines(lines)
    sink.put(landing_key(segment.hour, landing_name(collector_id, segment)), body)
    return len(lines), len(body)


class Flusher:
    def __init__(
        self,
        sink: LandingSink,
        spool: Spool,
        collector_id: str,
        *,
        on_landed: Callable[[int, int, float], None] | None = None,
        max_backoff: float = 30.0,
    ):
        self.sink = sink
        self.spool = spool
        self.collector_id = collector_id
        self.on_landed = on_landed
        self.max_backoff = max_backoff
        self._queue: asyncio.Queue[Segment | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._prober: asyncio.Task[None] | None = None
        self._give_up_at: float | None = None
        self._abandoned = 0
        self.sink_ok: bool | None = None  # unknown until the first write or probe
        self._last_sink_check = 0.0
        self.last_error: str | None = None

    def submit(self, segment: Segment) -> None:
        self._queue.put_nowait(segment)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flusher")
        self._prober = asyncio.create_task(self._probe_loop(), name="sink-prober")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            segment = await self._queue.get()
            if segment is None:  # drain() asked to stop after everything queued before it
                return
            if not await self._land_with_retries(segment):
                self._abandoned += 1

    async def _probe_loop(self) -> None:
        """Keep /readyz honest while no segment is landing."""
        while True:
            await asyncio.sleep(PROBE_EVERY_SECONDS)
            if time.monotonic() - self._last_sink_check >= PROBE_EVERY_SECONDS:
                await self.probe()

    async def _land_with_retries(self, segment: Segment) -> bool:
        delay = 0.5
        while True:
            try:
                t0 = time.perf_counter()
                events, size = await asyncio.to_thread(land_segment, self.sink, self.collector_id, segment)
                elapsed = time.perf_counter() - t0
            except Exception as error:  # any sink failure: keep the segment, try again later
                self.sink_ok = False
                self.last_error = f"{type(error).__name__}: {error}"
                log.error(
                    "landing a spool segment failed; it stays in the spool",
                    extra={"segment": segment.name, "error": self.last_error, "retry_in_s": delay},
                )
                if self._give_up_at is not None and time.monotonic() + delay > self._give_up_at:
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            self.sink_ok = True
            self._last_sink_check = time.monotonic()
            self.spool.release(segment)
            if self.on_landed is not None:
                self.on_landed(events, size, elapsed)
            log.info(
                "landed a spool segment",
                extra={"segment": segment.name, "events": events, "bytes": size, "seconds": round(elapsed, 3)},
            )
            return True

    async def probe(self) -> bool:
        """Is the lake writable? A tiny object outside landing/events proves it (bronze never
        reads it)."""
        key = PROBE_KEY.format(collector_id=self.collector_id)
        try:
            await asyncio.to_thread(self.sink.put, key, b"ok\n")
        except Exception as error:
            self.sink_ok = False
            self.last_error = f"{type(error).__name__}: {error}"
        else:
            self.sink_ok = True
        self._last_sink_check = time.monotonic()
        return bool(self.sink_ok)

    async def drain(self, *, give_up_after: float = 30.0) -> int:
        """Land every queued segment, then stop (shutdown). Returns how many could not be
        landed; those stay in the spool for the next start."""
        self._give_up_at = time.monotonic() + give_up_after
        if self._prober is not None:
            self._prober.cancel()
        if self._task is None or self._task.done():
            return self._queue.qsize()
        self._queue.put_nowait(None)
        await self._task
        return self._abandoned
