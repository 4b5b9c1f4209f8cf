"""`eventlake kafka`: ingest 002's Kafka topic into landing, up to the topic's current end.

    EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS=broker:9092 eventlake kafka [--topic T] [--group G]

Prints what it did as one JSON line. Run it on a schedule (the eventlake_kafka_ingest DAG);
the pipeline then takes the landed files like the collector's.
"""

from __future__ import annotations

import argparse
import json
import logging

from eventlake.config import Settings


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bootstrap-servers", help="brokers, host:port[,host:port] (default: EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS)")
    parser.add_argument("--topic", help="the topic (default: EVENTLAKE_KAFKA_TOPIC, analytics.events)")
    parser.add_argument("--group", help="the consumer group (default: EVENTLAKE_KAFKA_GROUP, eventlake)")
    parser.add_argument("--batch-records", type=_positive, default=10_000,
                        help="records landed and committed together (default 10000)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from .consumer import ingest, options_from

    logging.getLogger("eventlake.kafka").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    options = options_from(settings, bootstrap_servers=args.bootstrap_servers, topic=args.topic,
                           group=args.group, batch_records=args.batch_records)
    result = ingest(settings, options)
    print(json.dumps(result.as_dict()))
    return 0
