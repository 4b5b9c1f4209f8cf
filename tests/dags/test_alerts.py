"""Failure alerts reach a webhook: a real HTTP receiver on loopback, the real notifier."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def receiver():
    """A loopback webhook that keeps what it is sent; answers 500 on /broken."""
    received: list[tuple[str, dict, dict]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), json.loads(body)))
            self.send_response(500 if self.path == "/broken" else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


@pytest.fixture
def alerts(monkeypatch):
    monkeypatch.syspath_prepend(str(DAGS))
    from eventlake_airflow import alerts

    return alerts


def failed_context(message: str) -> dict:
    ti = SimpleNamespace(dag_id="eventlake_pipeline", task_id="run_pipeline",
                         run_id="scheduled__2026-11-03T10:10:00+00:00", try_number=4,
                         log_url="http://airflow.example/log")
    return {"ti": ti, "exception": RuntimeError(message), "logical_date": "2026-11-03T10:10:00+00:00"}


def test_a_failed_task_is_posted_to_the_alerts_webhook(receiver, alerts, monkeypatch):
    url, received = receiver
    monkeypatch.setenv("AIRFLOW_CONN_EVENTLAKE_ALERTS", json.dumps({"conn_type": "http", "host": f"{url}/hook"}))
    message = "run_pipeline failed (exit 3): eventlake pipeline: silver quality gate failed.\nmore"

    alerts.WebhookNotifier()(failed_context(message))  # as Airflow calls a callback

    [(path, headers, body)] = received
    assert path == "/hook" and headers["Content-Type"] == "application/json"
    assert body["text"] == ("eventlake: eventlake_pipeline.run_pipeline failed (run "
                            "scheduled__2026-11-03T10:10:00+00:00): run_pipeline failed (exit 3): "
                            "eventlake pipeline: silver quality gate failed.")
    assert body["error"] == message and body["error_type"] == "RuntimeError"
    assert (body["dag_id"], body["task_id"], body["try_number"]) == ("eventlake_pipeline", "run_pipeline", "4")
    assert body["logical_date"] == "2026-11-03T10:10:00+00:00" and body["log_url"] == "http://airflow.example/log"


def test_the_url_can_be_built_from_the_connections_parts(receiver, alerts, monkeypatch):
    url, received = receiver
    port = int(url.rsplit(":", 1)[1])
    monkeypatch.setenv("AIRFLOW_CONN_EVENTLAKE_ALERTS", json.dumps(
        {"conn_type": "http", "schema": "http", "host": "127.0.0.1", "port": port,
         "extra": {"endpoint": "/services/T0/B1"}}))
    alerts.WebhookNotifier()(failed_context("boom"))
    assert [path for path, _, _ in received] == ["/services/T0/B1"]


def test_without_the_connection_nothing_is_sent_and_a_broken_webhook_never_raises(
    receiver, alerts, monkeypatch, caplog
):
    url, received = receiver
    monkeypatch.delenv("AIRFLOW_CONN_EVENTLAKE_ALERTS", raising=False)
    alerts.WebhookNotifier()(failed_context("boom"))
    assert received == []

    monkeypatch.setenv("AIRFLOW_CONN_EVENTLAKE_ALERTS", json.dumps({"conn_type": "http", "host": f"{url}/broken"}))
    with caplog.at_level("WARNING", logger="eventlake.airflow"):
        alerts.WebhookNotifier()(failed_context("boom"))
    assert len(received) == 1
    assert "alert through connection eventlake_alerts failed: HTTPError" in caplog.text
    assert "/broken" not in caplog.text  # a webhook URL may carry a token
