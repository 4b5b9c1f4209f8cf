"""`--to`: POST to a collector. A tiny real HTTP server on loopback stands in for it."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest

from eventlake.generate.post import COLLECTOR_SET_FIELDS

pytestmark = pytest.mark.unit

SECRET = "test-secret-for-hs256-tokens-32bytes!"


@pytest.fixture
def collector():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            events = json.loads(gzip.decompress(body))["events"]
            bad = sum(1 for e in events if not isinstance(e, dict) or not e.get("event_id"))
            answer = json.dumps({"accepted": len(events) - bad, "rejected": bad, "errors": []}).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_posts_gzip_batches_with_a_bearer_token_per_user(cli_main, collector, tmp_path, monkeypatch, capsys):
    url, received = collector
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("EVENTLAKE_JWT_SECRET", SECRET)
    assert cli_main(["generate", "--to", url, "--events", "600", "--days", "1", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert not (tmp_path / "lake").exists()  # nothing written to landing/
    sent = accepted = rejected = 0
    for request in received:
        assert request["path"] == "/v1/events"
        assert request["headers"]["Content-Encoding"] == "gzip"
        assert request["headers"]["Content-Type"] == "application/json"
        scheme, token = request["headers"]["Authorization"].split(" ")
        assert scheme == "Bearer"
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        assert claims["exp"] > claims["iat"]
        raw = gzip.decompress(request["body"])
        assert len(raw) <= 100_000
        events = json.loads(raw)["events"]
        assert 1 <= len(events) <= 100
        for event in events:
            if isinstance(event, dict):
                assert not set(COLLECTOR_SET_FIELDS) & set(event)
                if isinstance(event.get("user_id"), str):
                    assert event["user_id"] == claims["sub"]  # batches are per user
                elif "user_id" in event and event["user_id"] is None:
                    assert "sub" not in claims
        sent += len(events)
        accepted += sum(1 for e in events if isinstance(e, dict) and e.get("event_id"))
    rejected = sent - accepted
    assert any(len(json.loads(gzip.decompress(r["body"]))["events"]) >= 20 for r in received)
    assert f"Posted {sent} events in {len(received)} requests to {url}: {accepted} accepted, {rejected} rejected" in out
    assert 550 < sent <= 600


def test_an_unreachable_collector_is_one_line(cli_main, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setenv("EVENTLAKE_JWT_SECRET", SECRET)
    import eventlake.generate.post as post

    monkeypatch.setattr(post.time, "sleep", lambda _seconds: None)  # no waiting between retries
    assert cli_main(["generate", "--to", "http://127.0.0.1:9", "--events", "50", "--days", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot reach the collector" in err
