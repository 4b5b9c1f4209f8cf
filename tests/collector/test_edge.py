"""The HTTP edge over raw loopback sockets: idle, head and body deadlines, head size and
field count limits, and the connection cap that keeps idle or half-open connections from
exhausting the open-file limit."""

from __future__ import annotations

import socket
import threading
import time

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import bearer, collector_settings, event, serve, token

pytestmark = pytest.mark.collector

IDLE, HEAD, BODY = 0.6, 0.6, 0.6
CAP = 40


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edge")
    settings = collector_settings(
        tmp,
        EVENTLAKE_HTTP_IDLE_SECONDS=str(IDLE),
        EVENTLAKE_HTTP_HEADER_SECONDS=str(HEAD),
        EVENTLAKE_HTTP_BODY_SECONDS=str(BODY),
        EVENTLAKE_HTTP_MAX_HEADER_BYTES="8192",
        EVENTLAKE_HTTP_MAX_HEADERS="30",
        EVENTLAKE_HTTP_MAX_CONNECTIONS=str(CAP),
        EVENTLAKE_RATE_LIMIT_PER_MINUTE="0",
        EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE="0",
    )
    with serve(settings) as running:
        yield running


def connect(running) -> socket.socket:
    host, port = running.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def read_until_closed(sock: socket.socket, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_body(response: bytes) -> tuple[int, dict | None]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, (orjson.loads(body) if body else None)


def post_head(length: int, extra: str = "") -> bytes:
    return (
        f"POST /v1/events HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token()}\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


def test_a_connection_that_never_sends_is_closed_after_the_idle_time(edge):
    with connect(edge) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        waited = time.monotonic() - started
    assert IDLE * 0.8 <= waited < IDLE + 2


def test_a_kept_alive_connection_is_closed_when_idle(edge):
    with connect(edge) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: collector\r\n\r\n")
        started = time.monotonic()
        response = read_until_closed(sock)
        waited = time.monotonic() - started
    assert response.startswith(b"HTTP/1.1 200 ")
    assert IDLE * 0.8 <= waited < IDLE + 2


def test_a_head_that_stops_half_way_is_answered_408_and_closed(edge):
    with connect(edge) as sock:
        sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: collector\r\nContent-Ty")
        started = time.monotonic()
        response = read_until_closed(sock)
        waited = time.monotonic() - started
    status, problem = status_and_body(response)
    assert status == 408
    assert problem["type"] == "https://eventlake.dev/problems/request-timeout"
    assert problem["detail"] == f"the request head did not arrive within {HEAD:g} s"
    assert HEAD * 0.8 <= waited < HEAD + LINGER_MARGIN


LINGER_MARGIN = 3  # the 408 comes at the deadline; the close after a 1 s lingering read


def test_a_body_that_stops_half_way_is_answered_408_and_nothing_is_kept(edge):
    body = orjson.dumps({"events": [event(event_id="never-finished")]})
    with connect(edge) as sock:
        sock.sendall(post_head(len(body)) + body[: len(body) // 2])
        started = time.monotonic()
        response = read_until_closed(sock)
        waited = time.monotonic() - started
    status, problem = status_and_body(response)
    assert status == 408
    assert problem["detail"] == f"the request body did not arrive within {BODY:g} s"
    assert BODY * 0.8 <= waited < BODY + LINGER_MARGIN
    # the collector still serves, and the unfinished event was never accepted
    with edge.client() as client:
        ok = client.post("/v1/events", content=orjson.dumps({"events": [event(event_id="finished")]}),
                         headers={"content-type": "application/json", **bearer()})
        metrics = client.get("/metrics").text
    assert ok.status_code == 202
    assert 'telemetry_events_ingested_total{event_type="playback.heartbeat",status="accepted"} 1.0' in metrics


def test_a_slow_but_steady_request_within_the_deadlines_is_served(edge):
    body = orjson.dumps({"events": [event()]})
    with connect(edge) as sock:
        head = post_head(len(body), "Connection: close\r\n")
        for part in (head[:20], head[20:], body[:10], body[10:]):
            sock.sendall(part)
            time.sleep(HEAD / 4)
        response = read_until_closed(sock)
    assert status_and_body(response)[0] == 202


@pytest.mark.parametrize(
    "extra, slug, detail",
    [
        ("X-Padding: " + "a" * 9000 + "\r\n", "header-too-large", "the request head is larger than 8192 bytes"),
        ("".join(f"X-F{n}: v\r\n" for n in range(30)), "too-many-headers", "more than 30 header fields"),
    ],
)
def test_a_head_over_the_limits_is_431(edge, extra, slug, detail):
    body = orjson.dumps({"events": [event()]})
    with connect(edge) as sock:
        sock.sendall(post_head(len(body), extra) + body)
        response = read_until_closed(sock)
    status, problem = status_and_body(response)
    assert (status, problem["type"], problem["detail"]) == (
        431, f"https://eventlake.dev/problems/{slug}", detail)


def test_a_head_just_within_the_limits_is_served(edge):
    body = orjson.dumps({"events": [event()]})
    fields = "".join(f"X-F{n}: v\r\n" for n in range(24))  # 6 fields in post_head + Connection
    with connect(edge) as sock:
        sock.sendall(post_head(len(body), fields + "Connection: close\r\n") + body)
        response = read_until_closed(sock)
    assert status_and_body(response)[0] == 202


def test_an_endless_header_is_refused_after_reading_little_of_it(edge):
    """A 64 MB header: before the edge existed the parser re-joined the value chunk by chunk
    (quadratic; 128 MB took 16 s of CPU). Now it is refused after the first chunk past 8 KB."""
    sent = [0]

    def flood(sock: socket.socket) -> None:
        piece = b"a" * 65536
        try:
            sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: collector\r\nX-Huge: ")
            for _ in range(1024):  # 64 MB
                sock.sendall(piece)
                sent[0] += len(piece)
        except OSError:
            pass  # the collector closed the connection: what we want

    with connect(edge) as sock:
        started = time.monotonic()
        writer = threading.Thread(target=flood, args=(sock,), daemon=True)
        writer.start()
        response = read_until_closed(sock)
        elapsed = time.monotonic() - started
        writer.join(10)
    assert status_and_body(response)[0] == 431
    assert elapsed < 3
    assert sent[0] < 8 * 1024 * 1024  # the collector stopped reading long before the end


def test_idle_and_half_open_connections_cannot_exhaust_the_collector(edge):
    """300 connections (idle, or stuck in their head) against a cap of 40: the oldest that
    are not inside a request are closed, and a new client is still served at once."""
    host, port = edge.url.removeprefix("http://").split(":")
    flood = []
    try:
        for n in range(300):
            sock = socket.create_connection((host, int(port)), timeout=10)
            if n % 2:
                sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: collector\r\n")  # never finished
            flood.append(sock)
        started = time.monotonic()
        with edge.client() as client:
            response = client.post("/v1/events", content=orjson.dumps({"events": [event()]}),
                                   headers={"content-type": "application/json", **bearer()})
        answered_in = time.monotonic() - started
        time.sleep(0.2)
        still_open = 0
        for sock in flood:
            sock.setblocking(False)
            try:
                still_open += sock.recv(1) != b""
            except BlockingIOError:
                still_open += 1  # nothing to read and not closed
            except ConnectionResetError:
                pass
    finally:
        for sock in flood:
            sock.close()
    assert response.status_code == 202
    assert answered_in < 2
    assert still_open <= CAP


def test_the_connection_cap_derives_from_the_open_file_limit(tmp_path):
    import resource

    from eventlake.collector.http import FD_RESERVE, HttpLimits, server_config

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    derived = HttpLimits.from_settings(collector_settings(tmp_path))
    assert derived.max_connections == max(16, soft - FD_RESERVE)
    assert HttpLimits.from_settings(collector_settings(tmp_path, EVENTLAKE_HTTP_MAX_CONNECTIONS="77")).max_connections == 77
    # the CLI and the tests run the same configuration: the guarded protocol, idle = keep-alive
    config = server_config(object(), collector_settings(tmp_path, EVENTLAKE_HTTP_IDLE_SECONDS="7"),
                           host="127.0.0.1", port=1)
    assert config.http.limits.idle_seconds == 7 and config.timeout_keep_alive == 7


header_names = st.one_of(st.sampled_from(["Content-Type", "Content-Length", "Authorization", "Content-Encoding",
                                          "Transfer-Encoding", "Expect", "Connection", "X-Forwarded-For"]),
                         st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
                                 min_size=1, max_size=12))
header_values = st.one_of(st.sampled_from(["application/json", "gzip", "chunked", "100-continue", "close", "0",
                                           "5", "-1", "99999999999999999999", "Bearer x.y.z"]),
                          st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
heads = st.builds(
    lambda method, path, fields, body, finish: (
        f"{method} {path} HTTP/1.1\r\n".encode("latin-1")
        + b"".join(f"{n}: {v}\r\n".encode("latin-1") for n, v in fields)
        + (b"\r\n" + body if finish else b"")
    ),
    st.sampled_from(["POST", "GET", "PUT", "HEAD", "OPTIONS", "BREW"]),
    st.sampled_from(["/v1/events", "/telemetry/playback", "/healthz", "/%00", "*", "/" + "a" * 300]),
    st.lists(st.tuples(header_names, header_values), max_size=8),
    st.binary(max_size=200),
    st.booleans(),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=heads)
def test_any_request_head_gets_a_4xx_or_an_answer_never_a_5xx_or_a_hang(edge, head):
    with connect(edge) as sock:
        sock.sendall(head)
        started = time.monotonic()
        response = read_until_closed(sock, timeout=HEAD + BODY + 3)
        elapsed = time.monotonic() - started
    assert elapsed < HEAD + BODY + 2.5  # every connection ends: answered, or closed at a deadline
    for status_line in (line for line in response.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")):
        assert int(status_line.split(b" ")[1]) < 500, response[:500]
    with edge.client() as client:
        assert client.get("/healthz").status_code == 200
