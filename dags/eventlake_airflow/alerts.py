"""Failure alerts: an Airflow notifier that posts a failed task to a webhook.

Configure it with the Airflow connection `eventlake_alerts` (an environment variable, a
secrets backend or the UI; the URL of a webhook usually carries a token, so it never lives
in the repository):

    AIRFLOW_CONN_EVENTLAKE_ALERTS='{"conn_type": "http", "host": "https://hooks.example.com/T0/B1/xyz"}'

The host is the whole URL, or the connection's schema, host, port and `extra.endpoint` make
it. The body is JSON with a `text` (Slack, Mattermost and Teams incoming webhooks show it)
and the failure record's fields (dag_id, task_id, run_id, logical_date, error, log_url…).
Without the connection the notifier does nothing: alerts are opt-in. A webhook that does
not answer is logged, never raised: the task's own failure stays the failure.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

log = logging.getLogger("eventlake.airflow")

ALERTS_CONN_ID = "eventlake_alerts"


class WebhookNotifier(BaseNotifier):
    """Posts one JSON document per failed task to the `eventlake_alerts` connection's URL."""

    def __init__(self, conn_id: str = ALERTS_CONN_ID, timeout_seconds: float = 10.0):
        super().__init__()
        self.conn_id = conn_id
        self.timeout_seconds = timeout_seconds

    def webhook_url(self) -> str | None:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            connection = Connection.get(self.conn_id)
        except AirflowNotFoundException:
            return None
        host = (connection.host or "").strip()
        if not host:
            return None
        if "://" in host:
            return host
        port = f":{connection.port}" if connection.port else ""
        endpoint = str(connection.extra_dejson.get("endpoint", "")).lstrip("/")
        return f"{connection.schema or 'https'}://{host}{port}/{endpoint}"

    def notify(self, context: Any) -> None:
        from eventlake_airflow.common import failure_record

        url = self.webhook_url()
        if url is None:
            return
        record = failure_record(context)
        first_line = record["error"].splitlines()[0] if record["error"] else "no error message"
        body = {
            "text": f"eventlake: {record['dag_id']}.{record['task_id']} failed "
                    f"(run {record['run_id']}): {first_line}",
            **{key: str(value) for key, value in record.items()},
        }
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "eventlake-alerts"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
        except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts, bad URLs
            # The URL may hold a token: name the connection, not the URL.
            log.warning("eventlake alert through connection %s failed: %s", self.conn_id,
                        type(error).__name__)
