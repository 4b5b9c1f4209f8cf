"""Whole-request failures as RFC 7807 problems: 400, 404, 405, 413 (size, gzip bombs), 415."""

from __future__ import annotations

import gzip

import orjson
import pytest

from .helpers import bearer, event, landed_events

pytestmark = pytest.mark.collector

JSON = {"content-type": "application/json"}


def post(client, body: bytes, **headers):
    return client.post("/v1/events", content=body, headers={**JSON, **bearer(), **headers})


def problem(response) -> dict:
    assert response.headers["content-type"] == "application/problem+json"
    document = response.json()
    assert document["status"] == response.status_code
    return document


def test_gzip_bodies_are_accepted(collector):
    body = gzip.compress(orjson.dumps({"events": [event(event_id="gz-1")]}))
    with collector.client() as client:
        response = post(client, body, **{"content-encoding": "gzip"})
    assert response.status_code == 202
    assert response.json()["accepted"] == 1


@pytest.mark.parametrize(
    "body, slug, detail",
    [
        (b"{not json", "malformed-body", "the body is not valid JSON"),
        (b'{"events": 3}', "malformed-body", 'the body must be {"events": [event, ...]}'),
        (b"[1, 2]", "malformed-body", 'the body must be {"events": [event, ...]}'),
        (b'{"events": [NaN]}', "malformed-body", "the body is not valid JSON"),
    ],
)
def test_malformed_bodies_are_400(collector, body, slug, detail):
    with collector.client() as client:
        response = post(client, body)
    assert response.status_code == 400
    assert problem(response) == {
        "type": f"https://eventlake.dev/problems/{slug}",
        "title": "Malformed body",
        "status": 400,
        "detail": detail,
        "instance": "/v1/events",
        "code": "MALFORMED_JSON",
    }


def test_broken_gzip_is_400(collector):
    with collector.client() as client:
        garbage = post(client, b"this is not gzip at all", **{"content-encoding": "gzip"})
        truncated = post(client, gzip.compress(b'{"events": []}')[:-6], **{"content-encoding": "gzip"})
    assert problem(garbage)["detail"] == "the body is not valid gzip"
    assert problem(truncated)["detail"] == "the gzip body is truncated"


def test_oversized_body_is_413(collector):
    events = [event(properties={"content_id": "x" * 1000, "position_ms": 1})] * 120  # ~130 KB
    body = orjson.dumps({"events": events})
    assert len(body) > 100 * 1024
    with collector.client() as client:
        plain = post(client, body)
        compressed = post(client, gzip.compress(body), **{"content-encoding": "gzip"})
    assert plain.status_code == 413 and problem(plain)["title"] == "Payload too large"
    # small on the wire, too large once inflated
    assert compressed.status_code == 413
    assert problem(compressed)["detail"] == "the body inflates to more than 102400 bytes"
    assert landed_events(collector.lake) == []


def test_gzip_bomb_is_refused_without_inflating_it(collector):
    bomb = gzip.compress(b"{" + b" " * (200 * 1024 * 1024), compresslevel=9)  # 200 MB of spaces
    assert len(bomb) < 300 * 1024
    with collector.client() as client:
        response = post(client, bomb, **{"content-encoding": "gzip"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "headers, slug",
    [
        ({"content-type": "text/plain"}, "unsupported-media-type"),
        ({"content-type": "application/x-www-form-urlencoded"}, "unsupported-media-type"),
        ({"content-encoding": "br"}, "unsupported-encoding"),
        ({"content-encoding": "deflate"}, "unsupported-encoding"),
    ],
)
def test_unsupported_media_type_or_encoding_is_415(collector, headers, slug):
    with collector.client() as client:
        response = post(client, orjson.dumps({"events": [event()]}), **headers)
    assert response.status_code == 415
    assert problem(response)["type"] == f"https://eventlake.dev/problems/{slug}"


def test_unknown_path_is_404_and_wrong_method_is_405(collector):
    with collector.client() as client:
        missing = client.get("/v2/nothing")
        wrong = client.get("/v1/events")
    assert problem(missing)["status"] == 404
    assert problem(wrong)["status"] == 405
    assert wrong.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-16", "application/json; charset=ISO-8859-1",
     'application/json; charset="utf-32"', "application/json;charset=latin1"],
)
def test_a_charset_other_than_utf8_is_415(collector, content_type):
    with collector.client() as client:
        response = post(client, orjson.dumps({"events": [event()]}), **{"content-type": content_type})
    assert response.status_code == 415
    assert problem(response)["type"] == "https://eventlake.dev/problems/unsupported-charset"
    assert landed_events(collector.lake) == []


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_body_is_415(collector, codec):
    body = orjson.dumps({"events": [event(event_id="wide")]}).decode().encode(codec)
    with collector.client() as client:
        response = post(client, body)
        utf8 = post(client, orjson.dumps({"events": [event(event_id="narrow")]}),
                    **{"content-type": "application/json; charset=UTF-8"})
    assert response.status_code == 415
    assert problem(response)["detail"] == "the body is UTF-16 or UTF-32; JSON bodies are UTF-8 (RFC 8259)"
    assert utf8.status_code == 202


def test_bytes_that_are_not_utf8_are_400(collector):
    with collector.client() as client:
        response = post(client, b'{"events": [{"event_name": "caf\xe9"}]}')
    assert response.status_code == 400
    assert problem(response)["code"] == "MALFORMED_JSON"
