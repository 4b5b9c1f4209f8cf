"""The collector's HTTP application (contract §8), as a plain ASGI callable.

No web framework on the hot path: a request is routed by a dict lookup, its body read with a
hard cap, decoded by orjson, judged per event by the shared `eventlake.envelope` rules,
enriched, and handed to the spool; the answer goes out only when the spool has fsynced it.
Where the bytes finally land (a folder or a bucket) is the flusher's business, not this one's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qs

import orjson

from eventlake.config import Settings
from eventlake.envelope import INVALID_FIELD, Rejection, check_event, parse_timestamp
from eventlake.landing import LandingSink, sink_for
from eventlake.privacy import consent_keeps, parse_ip, truncate_ip
from eventlake.taxonomy import Taxonomy, load_taxonomy

from . import analytics, segment_api, telemetry
from .auth import AuthError, Authenticator, Principal
from .body import is_wide_charset, number_problem, parse_body
from .fingerprints import FingerprintWindow
from .flusher import Flusher
from .ids import ulid, uuid7_maker
from .metrics import CollectorMetrics
from .openapi import openapi_document
from .ratelimit import SlidingWindowLimiter
from .spool import Segment, Spool, SpoolFull, SpoolUnavailable

log = logging.getLogger("eventlake.collector")

MAX_BODY_BYTES = 100 * 1024  # after decompression (contract §8, source 004 §2.3)
MAX_EVENTS = 500
SEGMENT_PATHS = frozenset(("/v1/batch", *(f"/v1/{call}" for call in segment_api.CALL_TYPES)))
PROBLEM_BASE = "https://eventlake.dev/problems/"
SPOOL_RETRY_AFTER = "5"

Clock = Callable[[], datetime]
# ASGI's shapes: plain dicts (the spec's scope and messages) and the two channels.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]
Response = tuple[int, Headers, bytes]  # status, headers, body


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Problem(Exception):
    """A whole-request failure, answered as RFC 7807 application/problem+json."""

    def __init__(
        self, status: int, slug: str, title: str, detail: str, *, headers: Iterable[tuple[bytes, bytes]] = (),
        **extensions: Any,
    ):
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail
        self.headers = list(headers)
        self.extensions = extensions

    def body(self, instance: str) -> bytes:
        document = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            **self.extensions,
        }
        return json_bytes(document)


class _ClientGone(Exception):
    pass


class Request:
    __slots__ = ("scope", "receive", "headers", "path", "numbers_unchecked")

    _WANTED = frozenset(
        (b"content-type", b"content-encoding", b"content-length", b"authorization", b"x-api-key", b"user-agent", b"x-forwarded-for")
    )

    def __init__(self, scope: Scope, receive: Receive):
        self.scope = scope
        self.receive = receive
        self.path: str = scope["path"]
        wanted = self._WANTED
        self.headers: dict[bytes, bytes] = {name: value for name, value in scope["headers"] if name in wanted}
        # Set by _read_json: the body may hold a number that is not exact as a double.
        self.numbers_unchecked = False

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None


def _json(status: int, document: Any, headers: Iterable[tuple[bytes, bytes]] = ()) -> Response:
    return status, [(b"content-type", b"application/json"), *headers], json_bytes(document)


def json_bytes(document: Any) -> bytes:
    """The response document as JSON. A request read by the standard parser can carry a lone
    surrogate (`"\\ud800"`) that a rejection message echoes; UTF-8 cannot hold it, so it is
    written as its escape text instead of failing the request with a 500."""
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        return orjson.dumps(_printable(document))


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(v) for v in value]
    return value


def default_collector_id() -> str:
    host = socket.gethostname() or "collector"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in host)[:40] or "collector"


class CollectorApp:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        sink: LandingSink | None = None,
        taxonomy: Taxonomy | None = None,
    ):
        self.settings = settings
        self.clock = clock
        self.taxonomy = taxonomy or load_taxonomy()
        self.auth = Authenticator(settings, clock)  # refuses to build without any credential
        self.sink = sink if sink is not None else sink_for(settings)
        self.collector_id = settings.collector_id or default_collector_id()
        self.metrics = CollectorMetrics()
        self.limiter = SlidingWindowLimiter()
        # 003: id-less events seen again within the window get the first sighting's id.
        self.fingerprints = FingerprintWindow(settings.dedupe_window_seconds) if settings.dedupe_window_seconds else None
        self._trusted = tuple(ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies)
        # Small memos for per-request work whose answer depends on one short string only.
        self._truncated_ips: dict[str, str | None] = {}
        self.spool: Spool | None = None
        self.flusher: Flusher | None = None
        self.unlanded_segments = 0  # after shutdown: segments left for the next start
        self._routes: dict[str, tuple[str, Callable[[Request], Awaitable[Response]]]] = {
            "/v1/events": ("POST", self._events),
            "/telemetry/playback": ("POST", self._playback),
            "/telemetry/playback/batch": ("POST", self._playback_batch),
            "/healthz": ("GET", self._healthz),
            "/readyz": ("GET", self._readyz),
            "/metrics": ("GET", self._metrics),
            "/openapi.json": ("GET", self._openapi),
            # Source 002's queries, answered from silver (docs/kafka.md)
            "/v1/analytics/events/recent": ("GET", self._recent_events),
            "/v1/analytics/metrics/summary": ("GET", self._metrics_summary),
            # Segment's HTTP Tracking API (docs/segment.md)
            "/v1/batch": ("POST", self._segment_batch),
            **{f"/v1/{call}": ("POST", partial(self._segment_call, call)) for call in segment_api.CALL_TYPES},
        }
        self._openapi_body = orjson.dumps(openapi_document())

    # --- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        route = self._routes.get(path)
        headers: Headers = []
        try:
            if route is None:
                raise Problem(404, "not-found", "Not found", f"no resource at {path}")
            method, handler = route
            if scope["method"] != method and not (method == "GET" and scope["method"] == "HEAD"):
                raise Problem(405, "method-not-allowed", "Method not allowed", f"{path} takes {method}",
                              headers=[(b"allow", method.encode())])
            status, headers, body = await handler(Request(scope, receive))
        except Problem as problem:
            if path in SEGMENT_PATHS:
                # Segment's and RudderStack's SDKs read `code` and `message` from an error
                # body (RudderStack's fails on a body without them); RFC 7807 allows both.
                problem.extensions = {"code": problem.slug, "message": problem.detail, **problem.extensions}
            status, body = problem.status, problem.body(path)
            headers = [(b"content-type", b"application/problem+json"), *problem.headers]
        except _ClientGone:
            return
        except Exception:
            log.exception("unexpected error while serving a request", extra={"path": path})
            internal = Problem(500, "internal-error", "Internal error", "the collector failed to handle this request")
            status, body = 500, internal.body(path)
            headers = [(b"content-type", b"application/problem+json")]
        self.metrics.child(self.metrics.requests, path if route else "other", str(status)).inc()
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as error:
                    log.exception("collector failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        s = self.settings

        def on_sealed(segment: Segment) -> None:
            assert self.flusher is not None  # built below, before the spool starts sealing segments
            self.flusher.submit(segment)

        self.spool = Spool(
            s.spool_dir,
            max_bytes=s.spool_max_bytes,
            segment_bytes=s.flush_bytes,
            segment_seconds=s.flush_seconds,
            on_sealed=on_sealed,
        )
        self.spool.on_commit = self.metrics.on_commit
        self.flusher = Flusher(self.sink, self.spool, self.collector_id, on_landed=self.metrics.on_landed)
        leftovers = self.spool.recover()
        for segment in leftovers:
            self.flusher.submit(segment)
        self.spool.start()
        self.flusher.start()
        self._probe = asyncio.create_task(self.flusher.probe())
        log.info(
            "collector started",
            extra={
                "collector_id": self.collector_id,
                "lake": self.sink.describe(),
                "spool": str(self.spool.directory),
                "recovered_segments": len(leftovers),
                "auth": list(self.auth.algorithms) + (["api-key"] if s.api_keys else [])
                + (["anonymous"] if s.allow_anonymous else []),
            },
        )

    async def shutdown(self) -> None:
        """Stop taking events, make what is queued durable, land every segment."""
        if self.spool is None or self.flusher is None:
            return
        await self.spool.close()
        self.unlanded_segments = await self.flusher.drain()
        if self.unlanded_segments:
            log.error("the lake is unreachable: segments stay in the spool for the next start",
                      extra={"segments": self.unlanded_segments})
        else:
            log.info("collector stopped; spool empty")

    # --- shared request steps ---------------------------------------------------------

    def _authenticate(self, request: Request, *, write_key: bool = False) -> Principal:
        """Who posts. `write_key`: Segment's routes also take HTTP Basic with an API key as the
        user name (Segment's write key)."""
        try:
            return self.auth.authenticate(request.headers.get(b"authorization"), request.headers.get(b"x-api-key"),
                                          basic=write_key)
        except AuthError as error:
            challenge = b'Basic realm="eventlake"' if write_key else b'Bearer realm="eventlake"'
            raise Problem(401, "unauthorized", "Unauthorized", str(error),
                          headers=[(b"www-authenticate", challenge)]) from None

    async def _read_json(self, request: Request, limit: int = MAX_BODY_BYTES) -> Any:
        content_type, _, parameters = (request.header(b"content-type") or "").partition(";")
        content_type = content_type.strip().lower()
        if content_type != "application/json":
            raise Problem(415, "unsupported-media-type", "Unsupported media type",
                          f"send Content-Type: application/json, not {content_type[:60] or 'nothing'!r}")
        charset = _charset(parameters)
        if charset is not None and charset not in ("utf-8", "utf8"):
            raise Problem(415, "unsupported-charset", "Unsupported charset",
                          f"JSON bodies are UTF-8 (RFC 8259), not {charset[:40]!r}")
        encoding = (request.header(b"content-encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "x-gzip"):
            raise Problem(415, "unsupported-encoding", "Unsupported content encoding",
                          f"Content-Encoding {encoding[:40]!r} is not supported; use gzip or none")
        compressed = encoding != "identity"
        # gzip never shrinks incompressible data by more than its header, so a compressed
        # body this much larger than the limit cannot decompress below it.
        wire_limit = limit + 1024 if compressed else limit
        declared = request.header(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > wire_limit:
            raise _too_large(f"the body is {int(declared)} bytes; the limit is {limit} bytes")
        raw = await _read_body(request.receive, wire_limit, limit)
        if compressed:
            raw = gunzip(raw, limit)
        if is_wide_charset(raw):
            raise Problem(415, "unsupported-charset", "Unsupported charset",
                          "the body is UTF-16 or UTF-32; JSON bodies are UTF-8 (RFC 8259)")
        try:
            value, request.numbers_unchecked = parse_body(raw)
        except (ValueError, RecursionError):
            raise Problem(400, "malformed-body", "Malformed body", "the body is not valid JSON", code="MALFORMED_JSON") from None
        return value

    def _client_ip(self, request: Request) -> str | None:
        client = request.scope.get("client")
        peer: str | None = client[0] if client else None
        forwarded = request.headers.get(b"x-forwarded-for")
        if peer and forwarded and self._trusted and self._is_trusted(peer):
            # Walk from the nearest hop; the first address we do not trust is the client.
            hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
            for hop in reversed(hops):
                if not self._is_trusted(hop):
                    return hop
            return hops[0] if hops else peer
        return peer

    def _truncated_ip(self, request: Request) -> str | None:
        ip = self._client_ip(request)
        if not ip:
            return None
        truncated: str | None | Literal[False] = self._truncated_ips.get(ip, False)
        if truncated is False:
            if len(self._truncated_ips) >= 50_000:
                self._truncated_ips.clear()
            truncated = self._truncated_ips[ip] = truncate_ip(ip)
        return truncated

    def _is_trusted(self, address: str) -> bool:
        ip = parse_ip(address)
        return ip is not None and any(ip in network for network in self._trusted)

    def _rate_limit(self, principal: Principal, device_id: Any, route: str, request: Request) -> None:
        """000's per-device window (or its per-user fallback when no device is named), and a
        window per identity whatever device ids the request names: a client that rotates
        `device_id` is still one user, one API key or one address."""
        s = self.settings
        if principal.kind == "producer":
            # Server-side producers post for many devices: no device window, one per key.
            windows = [("key", "k:" + (principal.key_id or ""), s.rate_limit_api_key_per_minute)]
        else:
            # Who is posting: the token's user, else the client address.
            identity = "u:" + principal.user_id if principal.user_id else "ip:" + (self._client_ip(request) or "")
            if isinstance(device_id, str) and device_id:
                windows = [("device", "d:" + device_id, s.rate_limit_per_minute)]
            else:  # 000's fallback for a request naming no device
                windows = [("user" if principal.user_id else "address", identity, s.rate_limit_user_per_minute)]
            windows.append(("identity", "i:" + identity, s.rate_limit_identity_per_minute))
        now = self.clock().timestamp()
        for kind, key, limit in windows:
            retry_after = self.limiter.hit(key, limit, now)
            if retry_after is not None:
                self.metrics.rate_limited.labels(route).inc()
                log.warning("rate limit exceeded", extra={"route": route, "key_kind": kind})
                raise Problem(429, "rate-limit-exceeded", "Too many requests",
                              f"at most {limit} requests a minute per {kind}; retry in {int(retry_after)} s",
                              headers=[(b"retry-after", str(int(retry_after)).encode())])

    def _admit(
        self, events: list[Any], principal: Principal, request: Request, now: datetime,
        counts: Counter[tuple[str, str]], *, land_rejected: bool = False,
    ) -> tuple[list[bytes], list[dict[str, Any]], int, list[float]]:
        """Judge, filter by consent and enrich each event. Returns (spool lines, errors, dropped).

        With `land_rejected`, an event the judge refuses is landed anyway (enriched, so it
        holds no full IP) for silver to quarantine with the same reason: for senders that
        never read the answer (Segment's SDKs), quarantine is where a rejection is seen."""
        stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        unix_ms = int(now.timestamp() * 1000)
        enrichment = {
            "event_timestamp": stamp,
            "collector_id": self.collector_id,
            "ip_truncated": self._truncated_ip(request),
            "user_agent": (request.header(b"user-agent") or None),
        }
        if enrichment["user_agent"] is not None:
            enrichment["user_agent"] = enrichment["user_agent"][:512]
        if principal.kind == "user":
            # A token decides the user, also when it names none: a token without `sub` does
            # not let the client attribute its events to a user of its choosing.
            enrichment["user_id"] = principal.user_id
        taxonomy, dumps = self.taxonomy, orjson.dumps
        new_event_id = uuid7_maker(unix_ms)
        lines: list[bytes] = []
        errors: list[dict[str, Any]] = []
        ages: list[float] = []
        dropped = 0
        numbers_unchecked = request.numbers_unchecked
        for index, event in enumerate(events):
            # Numbers first: the shared judge reads an integer beyond 64 bits as unwritable
            # JSON, while the collector names the field that cannot be kept exactly.
            problem = number_problem(event) if numbers_unchecked else None
            rejection = (
                Rejection(INVALID_FIELD, problem) if problem is not None
                else check_event(event, taxonomy, server_side=True)
            )
            if rejection is not None:
                errors.append({"index": index, "code": rejection.reason, "message": rejection.detail})
                name = event.get("event_name") if isinstance(event, dict) else None
                label = name if isinstance(name, str) and name in taxonomy else "unknown"
                status = "rejected"
                # Not an inexact number: silver's judge does not apply that rule, and would
                # keep the line with the number rounded (docs/collector.md).
                if land_rejected and isinstance(event, dict) and problem is None:
                    event.update(enrichment)
                    if event.get("event_id") is None:
                        event["event_id"] = new_event_id()
                    try:
                        lines.append(dumps(event))
                        status = "quarantined"
                    except TypeError:  # an integer beyond 64 bits: no lake reader could read the line
                        pass
                counts[(label, status)] += 1
                continue
            name = event["event_name"]
            spec = taxonomy.get(name)
            assert spec is not None  # check_event passed: the taxonomy holds the name
            if not consent_keeps(event, spec.consent):
                dropped += 1
                counts[(name, "dropped_consent")] += 1
                continue
            event.update(enrichment)
            if event.get("event_id") is None:
                if self.fingerprints is None:
                    event["event_id"] = new_event_id()
                else:
                    event["event_id"], repeated = self.fingerprints.event_id(event, now.timestamp(), new_event_id)
                    if repeated:
                        self.metrics.fingerprint_repeats.inc()
            client_ts = event.get("client_timestamp")
            if client_ts is not None:
                parsed = parse_timestamp(client_ts)
                if parsed is not None:
                    ages.append((now - parsed).total_seconds())
            try:
                lines.append(dumps(event))
            except TypeError:  # an integer beyond 64 bits: JSON allows it, the lake's readers do not
                errors.append({"index": index, "code": "INVALID_FIELD", "message": "a number is outside the 64-bit range"})
                counts[(name, "rejected")] += 1
                continue
            counts[(name, "accepted")] += 1
        return lines, errors, dropped, ages

    async def _commit(self, now: datetime, lines: list[bytes]) -> None:
        if not lines:
            return
        hour = now.replace(minute=0, second=0, microsecond=0)
        assert self.spool is not None  # startup() ran: requests come after the lifespan start
        try:
            await self.spool.append(hour, b"\n".join(lines) + b"\n")
        except SpoolFull as error:
            self.metrics.spool_refusals.labels("full").inc()
            raise Problem(503, "spool-full", "Service unavailable", f"events cannot be made durable now: {error}",
                          headers=[(b"retry-after", SPOOL_RETRY_AFTER.encode())]) from None
        except SpoolUnavailable as error:
            self.metrics.spool_refusals.labels("unavailable").inc()
            raise Problem(503, "spool-unavailable", "Service unavailable", f"events cannot be made durable now: {error}",
                          headers=[(b"retry-after", SPOOL_RETRY_AFTER.encode())]) from None

    def _record(self, counts: Counter[tuple[str, str]], batch_size: int, ages: list[float]) -> None:
        m = self.metrics
        for (event_type, status), n in counts.items():
            m.child(m.ingested, event_type, status).inc(n)
        m.batch_size.observe(batch_size)
        m.event_age.observe_many(ages)

    # --- endpoints --------------------------------------------------------------------

    async def _events(self, request: Request) -> Response:
        principal = self._authenticate(request)
        body = await self._read_json(request)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise Problem(400, "malformed-body", "Malformed body", 'the body must be {"events": [event, ...]}',
                          code="MALFORMED_JSON")
        if len(events) > MAX_EVENTS:
            raise _too_large(f"{len(events)} events in one request; the limit is {MAX_EVENTS}")
        device = next((e.get("device_id") for e in events if isinstance(e, dict) and e.get("device_id")), None)
        self._rate_limit(principal, device, "/v1/events", request)
        now = self.clock()
        counts: Counter[tuple[str, str]] = Counter()
        lines, errors, dropped, ages = self._admit(events, principal, request, now, counts)
        await self._commit(now, lines)
        self._record(counts, len(events), ages)
        log.debug("batch accepted", extra={"accepted": len(lines), "rejected": len(errors), "dropped": dropped})
        return _json(202, {"accepted": len(lines) + dropped, "rejected": len(errors), "dropped": dropped,
                           "errors": errors})

    async def _playback(self, request: Request) -> Response:
        principal = self._authenticate(request)
        body = await self._read_json(request)
        self._rate_limit(principal, body.get("deviceId") if isinstance(body, dict) else None,
                         "/telemetry/playback", request)
        now = self.clock()
        correlation_id = ulid(int(now.timestamp() * 1000))
        counts: Counter[tuple[str, str]] = Counter()
        rejection = telemetry.check_playback(body, now, max_age=telemetry.MAX_AGE_SINGLE)
        if rejection is not None:
            counts[(_playback_label(body), "rejected")] += 1
            self._record(counts, 1, [])
            log.warning("playback event rejected", extra={"code": rejection.code})
            slug, title = telemetry.TITLES[rejection.code]
            raise Problem(400, slug, title, rejection.message, code=rejection.code, correlationId=correlation_id)
        event = telemetry.to_envelope(body, user_id=principal.user_id, correlation_id=correlation_id, now=now,
                                      salt=self.settings.pseudonym_salt)
        lines, errors, dropped, ages = self._admit([event], principal, request, now, counts)
        if errors:  # the mapping always yields a valid envelope; this is a safety net
            raise Problem(400, "validation-error", "Invalid event data", errors[0]["message"], code=errors[0]["code"])
        await self._commit(now, lines)
        self._record(counts, 1, ages)
        return _json(202, {"accepted": True, "correlationId": correlation_id})

    async def _playback_batch(self, request: Request) -> Response:
        principal = self._authenticate(request)
        body = await self._read_json(request)
        items = body.get("events") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise Problem(400, "validation-error", "Invalid event data", 'the body must be {"events": [event, ...]}',
                          code="MALFORMED_JSON")
        if len(items) > telemetry.MAX_BATCH:
            raise Problem(400, "batch-too-large", "Batch too large", f"Maximum {telemetry.MAX_BATCH} events per batch.")
        device = next((e.get("deviceId") for e in items if isinstance(e, dict) and e.get("deviceId")), None)
        self._rate_limit(principal, device, "/telemetry/playback/batch", request)
        now = self.clock()
        correlation_id = ulid(int(now.timestamp() * 1000))
        counts: Counter[tuple[str, str]] = Counter()
        envelopes: list[dict[str, Any]] = []
        positions: list[int] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            rejection = telemetry.check_playback(item, now, max_age=telemetry.MAX_AGE_BATCH)
            if rejection is not None:
                errors.append({"index": index, "code": rejection.code, "message": rejection.message})
                counts[(_playback_label(item), "rejected")] += 1
                continue
            envelopes.append(telemetry.to_envelope(item, user_id=principal.user_id, correlation_id=correlation_id,
                                                   now=now, salt=self.settings.pseudonym_salt))
            positions.append(index)
        lines, late_errors, dropped, ages = self._admit(envelopes, principal, request, now, counts)
        errors = _in_request_order(errors, late_errors, positions)
        await self._commit(now, lines)
        self._record(counts, len(items), ages)
        log.info("telemetry batch processed",
                 extra={"accepted": len(lines) + dropped, "rejected": len(errors), "correlation_id": correlation_id})
        return _json(202, {"accepted": len(lines) + dropped, "rejected": len(errors), "correlationId": correlation_id,
                           "errors": errors})

    async def _segment_batch(self, request: Request) -> Response:
        principal = self._authenticate(request, write_key=True)
        body = await self._read_json(request, segment_api.MAX_BATCH_BYTES)
        messages = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            raise Problem(400, "malformed-body", "Malformed body", 'the body must be {"batch": [message, ...]}',
                          code="MALFORMED_JSON")
        if len(messages) > segment_api.MAX_BATCH_MESSAGES:
            raise _too_large(f"{len(messages)} messages in one request; the limit is {segment_api.MAX_BATCH_MESSAGES}")
        return await self._segment(request, principal, "/v1/batch", messages, None, body.get("sentAt"))

    async def _segment_call(self, call_type: str, request: Request) -> Response:
        principal = self._authenticate(request, write_key=True)
        body = await self._read_json(request, segment_api.MAX_CALL_BYTES)
        if not isinstance(body, dict):
            raise Problem(400, "malformed-body", "Malformed body", f"the body must be one {call_type} message (an object)",
                          code="MALFORMED_JSON")
        return await self._segment(request, principal, f"/v1/{call_type}", [body], call_type, None)

    async def _segment(
        self, request: Request, principal: Principal, route: str, messages: list[Any], call_type: str | None,
        sent_at: Any,
    ) -> Response:
        """Segment messages → envelopes → the same judge, consent, enrichment and spool as
        /v1/events. Segment's SDKs ignore the answer, so a message that maps but fails the
        judge is landed for silver's quarantine (`quarantined`); one that is no Segment call
        at all is refused (`rejected`) and listed, as /v1/events lists its refusals."""
        now = self.clock()
        counts: Counter[tuple[str, str]] = Counter()
        envelopes: list[dict[str, Any]] = []
        positions: list[int] = []
        errors: list[dict[str, Any]] = []
        for index, message in enumerate(messages):
            try:
                envelopes.append(segment_api.to_envelope(message, call_type=call_type, received_at=now,
                                                     batch_sent_at=sent_at, salt=self.settings.pseudonym_salt))
                positions.append(index)
            except segment_api.UnmappableMessage as error:
                errors.append({"index": index, "code": error.code, "message": str(error)})
                counts[("unknown", "rejected")] += 1
        device = next((e["device_id"] for e in envelopes if isinstance(e.get("device_id"), str)), None)
        self._rate_limit(principal, device, route, request)
        lines, judged, dropped, ages = self._admit(envelopes, principal, request, now, counts, land_rejected=True)
        errors = _in_request_order(errors, judged, positions)
        await self._commit(now, lines)
        self._record(counts, len(messages), ages)
        quarantined = sum(n for (_, status), n in counts.items() if status == "quarantined")
        return _json(200, {"success": True, "accepted": len(lines) - quarantined + dropped, "quarantined": quarantined,
                           "rejected": len(errors) - quarantined, "dropped": dropped, "errors": errors})

    async def _recent_events(self, request: Request) -> Response:
        self._authenticate(request)
        limit = _query_int(request, "limit", analytics.DEFAULT_LIMIT, 1, analytics.MAX_LIMIT)
        events = await asyncio.to_thread(analytics.recent_events, self.settings, self.clock(), limit)
        return _json(200, {"limit": limit, "count": len(events), "events": events})

    async def _metrics_summary(self, request: Request) -> Response:
        self._authenticate(request)
        window = _query_int(request, "windowMinutes", self.settings.metrics_window_minutes, 1,
                            analytics.MAX_WINDOW_MINUTES)
        summary = await asyncio.to_thread(analytics.metrics_summary, self.settings, self.clock(), window)
        return _json(200, summary)

    async def _healthz(self, request: Request) -> Response:
        return _json(200, {"status": "ok"})

    def readiness(self) -> dict[str, bool]:
        spool, flusher = self.spool, self.flusher
        return {
            "spool_writable": bool(spool and spool.alive and spool.healthy and not spool.full),
            "flusher_alive": bool(flusher and flusher.alive),
            "sink_reachable": bool(flusher and flusher.sink_ok),
        }

    async def _readyz(self, request: Request) -> Response:
        checks = self.readiness()
        if all(checks.values()):
            return _json(200, {"status": "ready", "checks": checks})
        failing = ", ".join(name for name, ok in checks.items() if not ok)
        raise Problem(503, "not-ready", "Not ready", f"failing checks: {failing}", checks=checks)

    async def _metrics(self, request: Request) -> Response:
        spool = self.spool
        body = self.metrics.render(spool.bytes_on_disk if spool else 0, spool.segments_on_disk if spool else 0)
        return 200, [(b"content-type", self.metrics.content_type.encode())], body

    async def _openapi(self, request: Request) -> Response:
        return 200, [(b"content-type", b"application/json")], self._openapi_body


def _in_request_order(
    early: list[dict[str, Any]], judged: list[dict[str, Any]], positions: list[int]
) -> list[dict[str, Any]]:
    """One error list in the request's order: `early` errors carry request positions, the
    judge's carry positions among the admitted envelopes, `positions[i]` being the request
    position of admitted envelope i."""
    remapped = [{**error, "index": positions[error["index"]]} for error in judged]
    return sorted(early + remapped, key=lambda error: error["index"])


def _playback_label(body: Any) -> str:
    event_type = body.get("eventType") if isinstance(body, dict) else None
    if isinstance(event_type, str) and event_type.lower() in telemetry.EVENT_TYPES:
        return f"track.{event_type.lower()}"
    return "unknown"


def _query_int(request: Request, name: str, default: int, lowest: int, highest: int) -> int:
    """A whole-number query parameter within bounds, or a 400 problem naming it."""
    values = parse_qs(request.scope.get("query_string", b"").decode("latin-1")).get(name)
    if not values:
        return default
    text = values[-1].strip()
    # ASCII digits only: str.isdigit() also holds for "²" or "①", which int() refuses.
    if not (text.isascii() and text.isdigit()) or not lowest <= int(text) <= highest:
        raise Problem(400, "invalid-parameter", "Invalid parameter",
                      f"{name} must be a whole number from {lowest} to {highest}, not {text[:20]!r}",
                      code="INVALID_FIELD")
    return int(text)


def _charset(parameters: str) -> str | None:
    """The charset parameter of a Content-Type (lower case, unquoted), or None."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip().lower()
    return None


def _too_large(detail: str) -> Problem:
    return Problem(413, "payload-too-large", "Payload too large", detail)


async def _read_body(receive: Receive, limit: int, body_limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(f"the body is larger than {body_limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip (one or more members) but never more than `limit` bytes: a small
    compressed body that would inflate to gigabytes is refused after limit + 1 bytes."""
    out: list[bytes] = []
    total = 0
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            chunk = inflater.decompress(data, limit + 1 - total)
        except zlib.error:
            raise Problem(400, "malformed-body", "Malformed body", "the body is not valid gzip",
                          code="MALFORMED_JSON") from None
        total += len(chunk)
        if total > limit or inflater.unconsumed_tail:
            raise _too_large(f"the body inflates to more than {limit} bytes")
        if not inflater.eof:
            raise Problem(400, "malformed-body", "Malformed body", "the gzip body is truncated", code="MALFORMED_JSON")
        out.append(chunk)
        data = inflater.unused_data
    return b"".join(out)
