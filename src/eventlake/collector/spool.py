"""The local spool: where an event is made durable before the collector answers 202.

Records are newline-delimited JSON envelopes (exactly the bytes that will land) appended to
segment files. One segment holds events of one UTC event hour only, so it becomes exactly
one landing file, named after the segment: landing a segment twice (a retry, or a restart
after a crash half way through a flush) overwrites the same object instead of duplicating it.

Group commit: requests hand their bytes to `append()` and wait; a single writer takes
everything queued since its last round, writes it, fsyncs once and wakes every waiter. The
file I/O runs on one dedicated thread, so the event loop keeps serving while the disk syncs,
and every segment mutation happens on that one thread (no locks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("eventlake.collector.spool")

SEGMENT_SUFFIX = ".seg"
_HOUR_FORMAT = "%Y%m%dT%H"


class SpoolFull(Exception):
    """More unlanded bytes than the operator allowed on local disk."""


class SpoolUnavailable(Exception):
    """The spool could not make the events durable (disk error, shutting down)."""


@dataclass
class Segment:
    path: Path
    hour: datetime  # the UTC event hour of every record in it
    size: int = 0
    opened_at: float = field(default_factory=time.monotonic)

    @property
    def name(self) -> str:
        return self.path.stem


def segment_hour(path: Path) -> datetime:
    """The event hour a segment file holds, from its name (`20260208T14-<id>.seg`)."""
    return datetime.strptime(path.stem.split("-", 1)[0], _HOUR_FORMAT).replace(tzinfo=timezone.utc)


def new_segment_name(hour: datetime) -> str:
    # Hour first so a listing sorts by event time; a time-ordered random id so a name is
    # never reused, even after the spool was emptied and the process restarted.
    unique = f"{time.time_ns() // 1_000_000:012x}{random.getrandbits(48):012x}"
    return f"{hour:{_HOUR_FORMAT}}-{unique}{SEGMENT_SUFFIX}"


def complete_records(data: bytes) -> bytes:
    """The whole records of a segment. A torn last line (a crash mid-write) was never
    acknowledged, so it is left out."""
    end = data.rfind(b"\n")
    return data[: end + 1] if end >= 0 else b""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_bytes: int,
        segment_bytes: int,
        segment_seconds: float,
        on_sealed: Callable[[Segment], None],
    ):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.segment_bytes = max(1, segment_bytes)
        self.segment_seconds = segment_seconds
        self._on_sealed = on_sealed
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-writer")
        self._pending: list[tuple[datetime, bytes, asyncio.Future[None]]] = []
        self._pending_bytes = 0
        self._wakeup = asyncio.Event()
        self._current: Segment | None = None  # touched on the I/O thread only
        self._writer: asyncio.Task[None] | None = None
        self._ager: asyncio.Task[None] | None = None
        self._closing = False
        self.bytes_on_disk = 0  # all segments not yet landed, as the loop thread sees it
        self.segments_on_disk = 0
        self.healthy = True
        self.full = False
        self.on_commit: Callable[[int, int, float], None] | None = None  # (requests, bytes, seconds)

    # --- lifecycle (event loop) ---------------------------------------------------------

    def recover(self) -> list[Segment]:
        """Every segment left by an earlier process, oldest first; all of it still to land."""
        self.directory.mkdir(parents=True, exist_ok=True)
        leftovers = []
        for path in sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}")):
            try:
                hour = segment_hour(path)
            except ValueError:
                log.warning("ignoring a file that is not a spool segment", extra={"file": path.name})
                continue
            size = path.stat().st_size
            leftovers.append(Segment(path, hour, size))
            self.bytes_on_disk += size
            self.segments_on_disk += 1
        # Prove the directory is writable now rather than on the first request.
        probe = self.directory / ".writable"
        probe.write_bytes(b"")
        probe.unlink()
        return leftovers

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="spool-writer")
        self._ager = asyncio.create_task(self._age_loop(), name="spool-ager")

    @property
    def alive(self) -> bool:
        return self._writer is not None and not self._writer.done()

    async def close(self) -> None:
        """Stop taking records, commit what is queued, seal the open segment."""
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            await self._writer
        if self._ager is not None:
            self._ager.cancel()
        loop = asyncio.get_running_loop()
        sealed = await loop.run_in_executor(self._io, self._seal_current)
        for segment in sealed:
            self._on_sealed(segment)
        self._io.shutdown(wait=True)

    # --- the request path (event loop) ---------------------------------------------------

    async def append(self, hour: datetime, records: bytes) -> None:
        """Return once `records` (newline-terminated lines, all of `hour`) are fsynced."""
        if self._closing or not self.alive:
            raise SpoolUnavailable("the collector is shutting down")
        if self.bytes_on_disk + self._pending_bytes + len(records) > self.max_bytes:
            self.full = True  # until a landed segment frees room
            raise SpoolFull(
                f"the spool holds {self.bytes_on_disk} unlanded bytes (limit {self.max_bytes})"
            )
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((hour, records, future))
        self._pending_bytes += len(records)
        self._wakeup.set()
        await future

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            batch, self._pending, self._pending_bytes = self._pending, [], 0
            started = time.perf_counter()
            try:
                written, sealed, opened = await loop.run_in_executor(
                    self._io, self._write_batch, [(hour, data) for hour, data, _ in batch]
                )
            except OSError as error:
                self.healthy = False
                log.error("spool write failed", extra={"error": str(error)})
                for segment in await loop.run_in_executor(self._io, self._abandon_current):
                    self._on_sealed(segment)
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(SpoolUnavailable(f"spool write failed: {error}"))
                continue
            self.healthy = True
            self.bytes_on_disk += written
            self.segments_on_disk += opened
            if self.on_commit is not None:
                self.on_commit(len(batch), written, time.perf_counter() - started)
            for segment in sealed:
                self._on_sealed(segment)
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)
            if self._closing and not self._pending:
                return

    async def _age_loop(self) -> None:
        """Seal a segment that has been open long enough, even when no new record comes."""
        loop = asyncio.get_running_loop()
        # Sealed early enough that landing still fits in flush_seconds.
        max_age = max(self.segment_seconds * 0.8, 0.05)
        tick = min(max(self.segment_seconds / 10, 0.05), 1.0)
        while True:
            await asyncio.sleep(tick)
            try:
                sealed = await loop.run_in_executor(self._io, self._seal_if_older, max_age)
            except OSError as error:
                log.error("sealing a spool segment failed", extra={"error": str(error)})
                continue
            for segment in sealed:
                self._on_sealed(segment)

    def release(self, segment: Segment) -> None:
        """The segment's landing file is written: delete the segment (loop thread)."""
        segment.path.unlink(missing_ok=True)
        _fsync_dir(self.directory)
        self.bytes_on_disk = max(0, self.bytes_on_disk - segment.size)
        self.segments_on_disk = max(0, self.segments_on_disk - 1)
        self.full = False

    # --- the I/O thread -------------------------------------------------------------------

    def _write_batch(self, batch: list[tuple[datetime, bytes]]) -> tuple[int, list[Segment], int]:
        sealed: list[Segment] = []
        opened = written = 0
        chunks: list[bytes] = []
        for hour, data in batch:
            current = self._current
            if current is None or current.hour != hour or current.size >= self.segment_bytes:
                if chunks:
                    self._write(b"".join(chunks))
                    chunks = []
                sealed.extend(self._seal_current())
                current = self._open(hour)
                opened += 1
            chunks.append(data)
            current.size += len(data)
            written += len(data)
        if chunks:
            self._write(b"".join(chunks))
        os.fsync(self._fd)
        return written, sealed, opened

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            done = os.write(self._fd, view)
            view = view[done:]

    def _open(self, hour: datetime) -> Segment:
        path = self.directory / new_segment_name(hour)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        # The new name itself must survive a crash, or its fsynced records would be lost.
        _fsync_dir(self.directory)
        self._current = Segment(path, hour)
        return self._current

    def _seal_current(self) -> list[Segment]:
        current, self._current = self._current, None
        if current is None:
            return []
        os.fsync(self._fd)
        os.close(self._fd)
        return [current]

    def _seal_if_older(self, max_age: float) -> list[Segment]:
        current = self._current
        if current is not None and time.monotonic() - current.opened_at >= max_age:
            return self._seal_current()
        return []

    def _abandon_current(self) -> list[Segment]:
        """After a failed write the open segment is sealed as it is (its torn tail is left out
        when it lands) and the next record starts a fresh one."""
        current, self._current = self._current, None
        if current is None:
            return []
        try:
            os.close(self._fd)
        except OSError:
            pass
        try:
            current.size = current.path.stat().st_size
        except OSError:
            return []
        return [current]
