"""Prometheus metrics: source 000 §11's names for ingestion, eventlake's for the spool and lake.

Each app owns its registry (several collectors can live in one test process). Label values
are bounded: event types are taxonomy names or "unknown", never what a client typed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class BulkHistogram:
    """A label-less histogram fed many values at once (every event of a request) without
    prometheus_client's per-observation lock; the event loop is its only writer."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry):
        self.name, self.documentation, self.buckets = name, documentation, buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        counts, buckets = self.counts, self.buckets
        for value in values:
            counts[bisect_left(buckets, value)] += 1
            self.total += value

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation)
        cumulative, running = [], 0
        for bound, count in zip((*map(str, self.buckets), "+Inf"), self.counts):
            running += count
            cumulative.append((bound, running))
        family.add_metric([], cumulative, self.total)
        yield family


class CollectorMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self._children: dict[tuple[Counter, tuple[str, ...]], Counter] = {}
        self.ingested = Counter(
            "telemetry_events_ingested_total",
            "Events received, by event type and status (accepted, rejected, dropped_consent).",
            ["event_type", "status"],
            registry=r,
        )
        self.batch_size = Histogram(
            "telemetry_batch_size",
            "Events per request.",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=r,
        )
        self.event_age = BulkHistogram(
            "telemetry_event_age_seconds",
            "Server receipt time minus client time, for events with a client timestamp.",
            (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0, 604800.0),
            r,
        )
        self.requests = Counter(
            "eventlake_collector_requests_total", "HTTP requests by route and status code.", ["route", "code"], registry=r
        )
        self.rate_limited = Counter(
            "eventlake_collector_rate_limited_total", "Requests refused with 429.", ["route"], registry=r
        )
        self.commit_seconds = Histogram(
            "eventlake_spool_commit_seconds", "Write + fsync time of one group commit.", buckets=LATENCY_BUCKETS, registry=r
        )
        self.commit_requests = Histogram(
            "eventlake_spool_commit_requests",
            "Requests made durable by one fsync (group commit size).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.spool_bytes = Gauge("eventlake_spool_bytes", "Bytes in the spool not yet landed.", registry=r)
        self.spool_segments = Gauge("eventlake_spool_segments", "Spool segments not yet landed.", registry=r)
        self.flush_seconds = Histogram(
            "eventlake_flush_duration_seconds",
            "Time to write one landing file (compress + put).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.fingerprint_repeats = Counter(
            "eventlake_fingerprint_repeats_total",
            "Events without an event_id whose fingerprint was seen within the dedupe window: they got the "
            "first sighting's id, so silver keeps one (source 003).", registry=r)
        self.landed_files = Counter("eventlake_landed_files_total", "Landing files written.", registry=r)
        self.landed_events = Counter("eventlake_landed_events_total", "Events written to landing files.", registry=r)
        self.landed_bytes = Counter("eventlake_landed_bytes_total", "Compressed bytes written to the lake.", registry=r)
        self.spool_refusals = Counter(
            "eventlake_spool_refusals_total", "Requests answered 503 because the spool could not take them.", ["reason"], registry=r
        )

    def child(self, metric: Counter, *labels: str) -> Counter:
        """metric.labels(*labels), remembered: label lookup is the slow part of an increment."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def on_commit(self, requests: int, size: int, seconds: float) -> None:
        self.commit_requests.observe(requests)
        self.commit_seconds.observe(seconds)

    def on_landed(self, events: int, size: int, seconds: float) -> None:
        self.landed_files.inc()
        self.landed_events.inc(events)
        self.landed_bytes.inc(size)
        self.flush_seconds.observe(seconds)

    def render(self, spool_bytes: int, spool_segments: int) -> bytes:
        self.spool_bytes.set(spool_bytes)
        self.spool_segments.set(spool_segments)
        return generate_latest(self.registry)
