"""The collector's OpenAPI 3.1 document, written by hand to match app.py (a test holds the
two together: every route served is documented, and nothing else is)."""

from __future__ import annotations

from typing import Any

from eventlake.taxonomy import load_taxonomy

from .segment_api import CALL_TYPES, MAX_BATCH_MESSAGES

_NULLABLE_STRING = {"type": ["string", "null"], "maxLength": 512}
_NULLABLE_ID = {"type": ["string", "null"], "maxLength": 64}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _retry_after() -> dict[str, Any]:
    return {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}


def _write_errors(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    responses = {
        "400": _problem("Malformed body (not JSON, not the documented shape, broken gzip)."),
        "401": _problem("Missing, malformed, unsigned, wrongly signed or expired credentials."),
        "408": _problem("The request head or body did not arrive in time; the connection is closed."),
        "413": _problem("Body larger than 100 KB after decompression, or too many events."),
        "415": _problem("Content-Type is not application/json, its charset is not UTF-8, the body is UTF-16/32, "
                        "or the Content-Encoding is not gzip/identity."),
        "429": {**_problem("Rate limited (sliding minute per device, per user without a device, and per identity: "
                           "user, address or API key)."), "headers": _retry_after()},
        "431": _problem("Request head larger than the limit, or too many header fields."),
        "503": {**_problem("The events cannot be made durable now (spool full or failing)."), "headers": _retry_after()},
    }
    responses.update(extra or {})
    return responses


def _segment_operation(operation_id: str, summary: str, body_schema: dict[str, Any]) -> dict[str, Any]:
    counts = {name: {"type": "integer"} for name in ("accepted", "quarantined", "rejected", "dropped")}
    return {"post": {
        "operationId": operation_id,
        "summary": summary,
        "security": [{"writeKey": []}, {"bearer": []}, {"apiKey": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body_schema}}},
        "responses": _write_errors({
            "200": {"description": "Durable: mapped messages are in the spool; those the judge refuses land too, for "
                                   "silver's quarantine (`quarantined`); what is no Segment call is `rejected`.",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["success", *counts, "errors"],
                        "properties": {"success": {"const": True}, **counts, "errors": {"type": "array", "items": {
                            "type": "object", "required": ["index", "code", "message"]}}}}}}},
            "413": _problem("Body larger than 500 KB (batch) or 32 KB (one call) after decompression."),
        }),
    }}


def openapi_document() -> dict[str, Any]:
    names = sorted(spec.name for spec in load_taxonomy())
    playback_event = {
        "type": "object",
        "required": ["eventType", "trackId", "clientTimestamp"],
        "properties": {
            "eventType": {"type": "string", "enum": ["play_start", "play_stop", "play_progress", "play_complete", "seek"],
                          "description": "case-insensitive; INVALID_EVENT_TYPE otherwise"},
            "trackId": {"type": "string", "minLength": 26, "maxLength": 26, "description": "a ULID; INVALID_TRACK_ID otherwise"},
            "clientTimestamp": {"type": "string", "format": "date-time",
                                "description": "at most 24 h (single) or 7 days (batch) old and 5 min ahead; INVALID_TIMESTAMP"},
            "positionSeconds": {"type": ["number", "null"], "minimum": 0, "description": "INVALID_POSITION"},
            "durationPlayedSeconds": {"type": ["number", "null"], "minimum": 0, "description": "INVALID_DURATION"},
            "sessionId": {**_NULLABLE_ID, "description": "INVALID_SESSION_ID"},
            "deviceId": {**_NULLABLE_ID, "description": "INVALID_DEVICE_ID"},
            "clientVersion": {"type": ["string", "null"], "maxLength": 32},
        },
    }
    item_error = {
        "type": "object",
        "required": ["index", "code", "message"],
        "properties": {"index": {"type": "integer", "minimum": 0}, "code": {"type": "string"}, "message": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "eventlake collector",
            "version": "1",
            "description": "Durable HTTP front door of the eventlake lakehouse. 202 means the events are fsynced to the "
            "collector's spool; they reach landing/ in the lake within EVENTLAKE_FLUSH_SECONDS.",
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": {
            "/v1/events": {
                "post": {
                    "operationId": "postEvents",
                    "summary": "A batch of envelopes (contract §2), at most 500 events and 100 KB after decompression.",
                    "parameters": [{"name": "Content-Encoding", "in": "header", "required": False,
                                    "schema": {"type": "string", "enum": ["gzip", "identity"]}}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["events"],
                        "properties": {"events": {"type": "array", "maxItems": 500,
                                                  "items": {"$ref": "#/components/schemas/Envelope"}}}}}}},
                    "responses": _write_errors({"202": {"description": "Valid events are durable; the others are listed.",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["accepted", "rejected", "dropped", "errors"],
                            "properties": {
                                "accepted": {"type": "integer", "description": "events taken (stored, or dropped for consent)"},
                                "rejected": {"type": "integer"},
                                "dropped": {"type": "integer", "description": "accepted events not stored: analytics consent off"},
                                "errors": {"type": "array", "items": item_error}}}}}}}),
                }
            },
            "/telemetry/playback": {
                "post": {
                    "operationId": "ingestPlaybackEvent",
                    "summary": "One playback telemetry event (source 000), stored as track.<eventType>.",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": playback_event}}},
                    "responses": _write_errors({"202": {"description": "Durable.", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["accepted", "correlationId"],
                        "properties": {"accepted": {"const": True}, "correlationId": {"type": "string"}}}}}},
                        "400": _problem("A 000 validation rule failed; `code` names it (INVALID_EVENT_TYPE, ...).")}),
                }
            },
            "/telemetry/playback/batch": {
                "post": {
                    "operationId": "ingestPlaybackEventBatch",
                    "summary": "Up to 50 buffered playback events; valid ones are accepted even if others are not.",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["events"],
                        "properties": {"events": {"type": "array", "maxItems": 50, "items": playback_event}}}}}},
                    "responses": _write_errors({"202": {"description": "Valid events are durable.", "content": {
                        "application/json": {"schema": {
                            "type": "object", "required": ["accepted", "rejected", "correlationId", "errors"],
                            "properties": {"accepted": {"type": "integer"}, "rejected": {"type": "integer"},
                                           "correlationId": {"type": "string"},
                                           "errors": {"type": "array", "items": item_error}}}}}},
                        "400": _problem("Malformed body, or more than 50 events (batch-too-large).")}),
                }
            },
            "/v1/analytics/events/recent": {"get": {
                "operationId": "recentEvents",
                "summary": "Source 002: the newest events in silver, newest first (as fresh as the pipeline's last run).",
                "parameters": [{"name": "limit", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}],
                "responses": {
                    "200": {"description": "002's analytics_events rows", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["limit", "count", "events"], "properties": {
                            "limit": {"type": "integer"}, "count": {"type": "integer"},
                            "events": {"type": "array", "items": {"type": "object", "required": [
                                "id", "event_type", "source", "occurred_at", "ingested_at", "tenant_id", "payload"]}}}}}}},
                    "400": _problem("limit is not a whole number from 1 to 1000."),
                    "401": _problem("Missing or bad credentials."),
                }}},
            "/v1/analytics/metrics/summary": {"get": {
                "operationId": "metricsSummary",
                "summary": "Source 002: counts per event type and a time histogram of the events received in the last "
                           "windowMinutes (default ANALYTICS_METRICS_WINDOW_MINUTES).",
                "parameters": [{"name": "windowMinutes", "in": "query", "required": False,
                                "schema": {"type": "integer", "minimum": 1, "maximum": 10080}}],
                "responses": {
                    "200": {"description": "the summary", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["window_minutes", "from", "to", "total", "counts_by_event_type",
                                                       "bucket_minutes", "histogram"]}}}},
                    "400": _problem("windowMinutes is not a whole number from 1 to 10080."),
                    "401": _problem("Missing or bad credentials."),
                }}},
            "/v1/batch": _segment_operation(
                "segmentBatch", "Segment's batch call: up to 500 KB of messages of any type (docs/segment.md).",
                {"type": "object", "required": ["batch"], "properties": {
                    "batch": {"type": "array", "maxItems": MAX_BATCH_MESSAGES,
                              "items": {"$ref": "#/components/schemas/SegmentMessage"}},
                    "sentAt": {"type": "string", "format": "date-time"}}}),
            **{f"/v1/{call}": _segment_operation(
                f"segment{call.capitalize()}", f"Segment's {call} call: one message, at most 32 KB (docs/segment.md).",
                {"$ref": "#/components/schemas/SegmentMessage"}) for call in CALL_TYPES},
            "/healthz": {"get": {"operationId": "health", "summary": "The process serves HTTP.", "security": [],
                                 "responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"operationId": "ready", "summary": "Spool writable, flusher alive, lake reachable.",
                                "security": [],
                                "responses": {"200": {"description": "ready"}, "503": _problem("not ready; `checks` says why")}}},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus text exposition.", "security": [],
                                 "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document.", "security": [],
                                      "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "HS256, RS256 or ES256 per configuration; exp required; sub becomes user_id."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "server-side producers; rate limited per key, not per device"},
                "writeKey": {"type": "http", "scheme": "basic",
                             "description": "Segment's routes only: an API key as the user name (the write key), "
                                            "no password; rate limited per key"},
            },
            "schemas": {
                "Problem": {"type": "object", "required": ["type", "title", "status"], "properties": {
                    "type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"}, "instance": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string", "description": "Segment's routes: the detail again, where "
                                                                 "Segment's and RudderStack's SDKs read it"}}},
                "SegmentMessage": {
                    "type": "object", "additionalProperties": True,
                    "description": "A message of Segment's Spec; docs/segment.md maps each field to the envelope.",
                    "properties": {
                        "type": {"enum": list(CALL_TYPES), "description": "batch items only; a route names its own"},
                        "event": {"type": "string", "description": "track: the event_name (a taxonomy name)"},
                        "messageId": {**_NULLABLE_ID, "description": "the event_id"},
                        "userId": _NULLABLE_ID, "anonymousId": _NULLABLE_ID,
                        "timestamp": {"type": "string", "format": "date-time"},
                        "sentAt": {"type": "string", "format": "date-time"},
                        "context": {"type": "object"}, "properties": {"type": "object"}, "traits": {"type": "object"},
                        "integrations": {"description": "ignored"},
                    },
                },
                "Envelope": {
                    "type": "object",
                    "required": ["event_name", "session_id"],
                    "additionalProperties": True,
                    "properties": {
                        "event_id": {**_NULLABLE_ID, "description": "assigned (UUIDv7) when absent"},
                        "event_name": {"type": "string", "enum": names},
                        "client_timestamp": {"type": ["string", "null"], "format": "date-time"},
                        "session_id": {"type": "string", "minLength": 1, "maxLength": 64},
                        "user_id": {**_NULLABLE_ID, "description": "replaced by the token's sub"},
                        "profile_id": _NULLABLE_ID,
                        "device_id": _NULLABLE_ID,
                        "profile_kind": {"enum": ["standard", "kids", None]},
                        "device_type": _NULLABLE_STRING, "platform": _NULLABLE_STRING,
                        "app_version": _NULLABLE_STRING, "os_version": _NULLABLE_STRING,
                        "connection_type": _NULLABLE_STRING,
                        "market": {"type": ["string", "null"], "pattern": "^[A-Za-z]{2}$"},
                        "consent": {"type": ["object", "null"], "properties": {
                            "analytics": {"type": "boolean"}, "personalization": {"type": "boolean"},
                            "ad_targeting": {"type": "boolean"}}},
                        "schema_version": {"type": "integer", "minimum": 1},
                        "properties": {"type": "object", "description": "validated per event_name (the taxonomy)"},
                        "event_timestamp": {"description": "ignored: set by the collector"},
                        "ip_truncated": {"description": "ignored: set by the collector"},
                        "user_agent": {"description": "ignored: set by the collector"},
                        "collector_id": {"description": "ignored: set by the collector"},
                    },
                },
            },
        },
    }
