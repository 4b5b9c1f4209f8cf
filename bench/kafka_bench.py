"""Kafka ingestion speed: `eventlake kafka` against a plain consumer that lands raw values.

    python bench/kafka_bench.py [--records 200000] [--partitions 3] [--dir /tmp/eventlake-kafka-bench]

Starts a real broker on loopback (tests/kafka_broker.py), produces N records of 002's shapes
(the canonical command and the six upstream ones in turn, 1 in 1,000 unreadable), then, in
one run and on the same topic, reads it twice under two consumer groups:

- eventlake: `eventlake.kafka.consumer.ingest` (normalise, land envelopes, quarantine,
  commit per batch);
- reference: the least a consumer can do with the same client: read every record and write
  the raw values, gzip JSON lines, one file per batch, committing per batch.

Prints records per second for both, their ratio, and the load average before and after.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from kafka_broker import kafka_broker  # noqa: E402

SHAPES = [
    {"eventType": "challenge.completed", "source": "challenge-service", "occurredAt": "2025-11-16T18:14:00Z",
     "tenantId": "academy-123", "payload": {"challengeId": "c-1", "studentId": "s-1", "score": 97}},
    {"userId": "u-7", "tenantId": "academy-123", "registeredAt": [2025, 11, 16, 18, 14, 0, 123456789]},
    {"guideId": "g-3", "challengeId": "c-9", "tenantId": "academy-123", "occurredAt": 1763316840.25},
    {"executionId": "x-5", "userId": "u-7", "durationMs": 812, "occurredAt": "2025-11-16T18:14:00.123456789Z"},
    {"userId": "u-8", "username": "ann", "profileUrl": None},
    {"userId": "u-8", "username": "ann", "profileUrl": "https://x.test/ann"},
    {"challengeId": "c-9", "userId": "u-7", "experience": 120, "occurredOn": "2025-11-16T20:14:00+02:00"},
]


def reference_ingest(bootstrap: str, topic: str, group: str, out: Path, batch: int) -> int:
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    ends: dict[int, int] = {}
    done: set[int] = set()

    def on_assign(c, partitions):
        for tp in partitions:
            ends[tp.partition] = c.get_watermark_offsets(tp, timeout=10, cached=False)[1]

    consumer.subscribe([topic], on_assign=on_assign)
    pending, total, files = [], 0, 0
    last: dict[int, int] = {}
    while not ends or len(done) < len(ends):
        for message in consumer.consume(1000, 1.0):
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    done.add(message.partition())
                continue
            pending.append(message.value() or b"")
            last[message.partition()] = message.offset()
        if pending and (len(pending) >= batch or len(done) == len(ends)):
            (out / f"raw-{files:06d}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(pending) + b"\n", 6))
            consumer.commit(offsets=[TopicPartition(topic, p, o + 1) for p, o in last.items()], asynchronous=False)
            total, files, pending = total + len(pending), files + 1, []
    consumer.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "eventlake-kafka-bench")
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    load_start = os.getloadavg()
    with kafka_broker(args.dir) as broker:
        topic = "analytics.events"
        broker.create_topic(topic, args.partitions)
        values = [orjson.dumps(SHAPES[i % len(SHAPES)] | {"eventId": f"b-{i}"}) if i % 1000 else b"\xffjunk"
                  for i in range(args.records)]
        started = time.monotonic()
        broker.produce(topic, [(i % args.partitions, v) for i, v in enumerate(values)])
        produce_seconds = time.monotonic() - started

        from eventlake.config import Settings
        from eventlake.kafka.consumer import ingest, options_from

        settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(args.dir / "lake"),
                                      "EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap})
        started = time.monotonic()
        result = ingest(settings, options_from(settings, topic=topic, group="bench-eventlake",
                                               batch_records=args.batch))
        eventlake_seconds = time.monotonic() - started
        raw = args.dir / "raw"
        raw.mkdir()
        started = time.monotonic()
        reference = reference_ingest(broker.bootstrap, topic, "bench-reference", raw, args.batch)
        reference_seconds = time.monotonic() - started
    figures = {
        "records": args.records, "partitions": args.partitions, "batch_records": args.batch,
        "produce_seconds": round(produce_seconds, 2),
        "eventlake": {**result.as_dict(), "wall_seconds": round(eventlake_seconds, 2),
                      "records_per_second": round(result.records / eventlake_seconds)},
        "reference": {"records": reference, "wall_seconds": round(reference_seconds, 2),
                      "records_per_second": round(reference / reference_seconds)},
        "ratio_eventlake_to_reference": round(eventlake_seconds / reference_seconds, 2),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
