"""The collector's HTTP edge: uvicorn's httptools protocol plus the limits it lacks.

uvicorn (0.54, httptools) closes a keep-alive connection that stays idle after a response
(`timeout_keep_alive`), and nothing else: a connection that never sends a byte, stops half
way through its request head, or stops half way through its body is kept for ever, and the
head is accumulated without a bound (httptools joins each header value chunk by chunk, so a
128 MB header costs seconds of CPU). `h11_max_incomplete_event_size` exists for h11 only and
`limit_concurrency` answers 503 only once a head is complete, which a slow client never sends.
This subclass adds, per connection:

- an idle deadline for a connection that has not started a request (new or kept alive);
- a head deadline from the first byte of a request to the end of its head (→ 408);
- a body deadline from the end of the head to the end of the body (→ 408);
- a head size limit checked before each chunk is parsed, and exactly once the head is
  complete, and a field count limit (→ 431); and per server
- a cap on open connections below the open-file limit: past it the oldest connection that
  is not inside a request (idle, or still sending its head) is closed, so a flood of idle or
  half-open connections can never exhaust the file limit and stop the collector answering.

Refusals are RFC 7807 problems with `Connection: close`; the rest of what the client sends
is read and dropped for a short moment (a "lingering close") so that it sees the answer
instead of a reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from eventlake.config import Settings

from .app import Problem

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("eventlake.collector")

# File descriptors kept free for the spool, the lake client, logs and the listening socket.
FD_RESERVE = 256
LINGER_SECONDS = 1.0
LINGER_BYTES = 1024 * 1024

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large",
            503: b"Service Unavailable"}


@dataclass(frozen=True)
class HttpLimits:
    idle_seconds: float
    header_seconds: float
    body_seconds: float
    max_header_bytes: int
    max_headers: int
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        derived = max(16, soft - FD_RESERVE) if soft != resource.RLIM_INFINITY else 100_000
        return cls(
            idle_seconds=settings.http_idle_seconds,
            header_seconds=settings.http_header_seconds,
            body_seconds=settings.http_body_seconds,
            max_header_bytes=settings.http_max_header_bytes,
            max_headers=settings.http_max_headers,
            max_connections=settings.http_max_connections or derived,
        )


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one (a server process should use what it
    is allowed); returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _Refused(Exception):
    """Raised inside an httptools callback to stop parsing a request that breaks a limit."""


def guarded_protocol(limits: HttpLimits) -> type[HttpToolsProtocol]:
    """A protocol class for one server: the limits, and the registry of its connections."""

    class GuardedHttpToolsProtocol(_Guarded):
        pass

    GuardedHttpToolsProtocol.limits = limits
    GuardedHttpToolsProtocol.live = set()
    GuardedHttpToolsProtocol.waiting = OrderedDict()
    return GuardedHttpToolsProtocol


class _Guarded(HttpToolsProtocol):
    limits: HttpLimits
    live: set[_Guarded]  # open connections of this server (uvicorn's own set shrinks only later)
    waiting: OrderedDict[_Guarded, None]  # connections not inside a request, oldest first: the evictable ones

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn logs access lines whenever "uvicorn.access" has a handler anywhere up its
        # tree (another library's logging setup is enough): never, here, since a line
        # would carry the client's full address.
        self.access_log = False
        self._deadline: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline_at = 0.0
        self._on_deadline: Callable[[], None] | None = None
        self._reading_head = True
        self._head_bytes = 0  # bytes received while the head was incomplete (bounds CPU)
        self._refusal: tuple[int, str, str, str] | None = None
        self._lingering = False
        self._discarded = 0

    # --- connection lifetime -----------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.live.add(self)
        self.waiting[self] = None
        self._arm(self.limits.idle_seconds, self._idle_expired)
        self._enforce_connection_cap()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        self.live.discard(self)
        self.waiting.pop(self, None)
        super().connection_lost(exc)

    def _enforce_connection_cap(self) -> None:
        excess = len(self.live) - self.limits.max_connections
        while excess > 0 and self.waiting:
            oldest = next(iter(self.waiting))
            if oldest is self:
                break  # every older connection is inside a request
            oldest._close("evicted")
            excess -= 1
        if excess > 0:
            self._close("over the connection cap")

    def _close(self, why: str) -> None:
        self._stop_timer()
        self.live.discard(self)
        self.waiting.pop(self, None)
        if not self.transport.is_closing():
            log.debug("closing a connection", extra={"reason": why})
            self.transport.close()

    # --- deadlines ----------------------------------------------------------------------

    # One timer per connection, moved lazily: a request arms a deadline for its head, then
    # one for its body, then none; cancelling and creating a timer at each step cost more
    # than the rest of the edge. The timer fires at the earliest deadline ever set and, if
    # the deadline has moved later meanwhile, sleeps again until then.

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._deadline_at = self.loop.time() + seconds
        self._on_deadline = callback
        if self._deadline is None or self._deadline_at < self._timer_at:
            if self._deadline is not None:
                self._deadline.cancel()
            self._timer_at = self._deadline_at
            self._deadline = self.loop.call_at(self._timer_at, self._deadline_passed)

    def _disarm(self) -> None:
        self._on_deadline = None  # the timer, if any, will find nothing to do

    def _deadline_passed(self) -> None:
        self._deadline = None
        callback = self._on_deadline
        if callback is None:
            return
        if self._deadline_at > self.loop.time():
            self._timer_at = self._deadline_at
            self._deadline = self.loop.call_at(self._timer_at, self._deadline_passed)
            return
        self._on_deadline = None
        callback()

    def _stop_timer(self) -> None:
        self._on_deadline = None
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _idle_expired(self) -> None:
        self._close("idle")

    def _head_expired(self) -> None:
        self._refuse(408, "request-timeout", "Request timeout",
                     f"the request head did not arrive within {self.limits.header_seconds:g} s")

    def _body_expired(self) -> None:
        self._refuse(408, "request-timeout", "Request timeout",
                     f"the request body did not arrive within {self.limits.body_seconds:g} s")

    # --- parsing --------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._discarded += len(data)
            if self._discarded > LINGER_BYTES:
                self._close("lingering too long")
            return
        if self._reading_head:
            # Checked before parsing: however the head is split, at most one chunk past the
            # limit is ever parsed, so an endless header costs no more than a short one.
            if self._head_bytes > self.limits.max_header_bytes:
                self._refuse(431, "header-too-large", "Request header fields too large",
                             f"the request head is larger than {self.limits.max_header_bytes} bytes")
                return
            self._head_bytes += len(data)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._arm(self.limits.header_seconds, self._head_expired)

    def on_headers_complete(self) -> None:
        # The exact limits, once per request (the per-chunk check above bounds the work
        # done before this point, so the fields need not be counted one callback at a time).
        if len(self.headers) > self.limits.max_headers:
            self._refusal = (431, "too-many-headers", "Request header fields too large",
                             f"more than {self.limits.max_headers} header fields")
            raise _Refused()
        # Fewer bytes received than the limit: the head is within it, no need to add it up.
        # (A pipelined head that arrived in the same read as the previous body is not
        # counted; it is still bounded by that one read.)
        if self._head_bytes > self.limits.max_header_bytes and (
            len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            > self.limits.max_header_bytes
        ):
            self._refusal = (431, "header-too-large", "Request header fields too large",
                             f"the request head is larger than {self.limits.max_header_bytes} bytes")
            raise _Refused()
        self._reading_head = False
        self._head_bytes = 0
        self.waiting.pop(self, None)  # inside a request now: not evictable
        self._arm(self.limits.body_seconds, self._body_expired)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._reading_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._reading_head and not self.transport.is_closing():
            self.waiting[self] = None  # idle again, the newest (uvicorn's keep-alive timer runs)

    # --- refusals ----------------------------------------------------------------------

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this when the parser fails, also when one of our callbacks refused."""
        if self._refusal is not None:
            self._refuse(*self._refusal)
        else:
            self._refuse(400, "malformed-request", "Malformed request", "the request is not valid HTTP/1.1")

    def _refuse(self, status: int, slug: str, title: str, detail: str) -> None:
        self._disarm()
        self.waiting.pop(self, None)
        if self.transport.is_closing() or self._lingering:
            return
        cycle = self.cycle
        if cycle is not None and cycle.response_started and not cycle.response_complete:
            self._close("deadline passed while answering")  # no room for a second answer
            return
        if cycle is not None and not cycle.response_complete:
            # The app waits for a body that will not come: it is told the client left, and
            # nothing it might still send follows our answer.
            cycle.response_complete = cycle.disconnected = True
            cycle.message_event.set()
        path = self.scope.get("path", "") if self.scope else ""
        body = Problem(status, slug, title, detail).body(path)
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n" % (status, _REASONS[status], len(body)) + body
        )
        log.info("request refused at the HTTP edge", extra={"status": status, "code": slug})
        # Read and drop what the client still sends for a moment, so that it reads our
        # answer rather than a connection reset.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._stop_timer()
        self._deadline = self.loop.call_later(LINGER_SECONDS, self._close, "refused")


def server_config(
    app: Any, settings: Settings, *, host: str, port: int, loop: str = "uvloop", **options: Any
) -> uvicorn.Config:
    """The uvicorn configuration the collector runs with (the CLI and the tests alike)."""
    import uvicorn

    limits = HttpLimits.from_settings(settings)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        http=guarded_protocol(limits),
        # uvicorn annotates an int but only hands the value to loop.call_later, which takes seconds as a float.
        timeout_keep_alive=limits.idle_seconds,  # type: ignore[arg-type]
        lifespan="on",
        access_log=False,  # an access log would carry full client addresses
        proxy_headers=False,  # X-Forwarded-For is judged by the app, against EVENTLAKE_TRUSTED_PROXIES
        log_config=None,
        server_header=False,
        **options,
    )
