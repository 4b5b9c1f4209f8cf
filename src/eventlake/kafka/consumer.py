"""Ingest 002's Kafka topic into the lake's landing zone, as far as it reaches right now.

A run joins the consumer group, notes where each assigned partition ends, reads every
record up to there and stops (Spark's `availableNow`, for a plain Python consumer: no JVM,
no streaming checkpoint, the group's committed offsets are the only progress). Records are
handled in batches; for each batch, in this order:

1. every record is normalised (`eventlake.kafka.normalise`);
2. the envelopes are landed, one gzip JSON-lines file per partition and event hour, with the
   same atomic put the collector uses; the file name holds the partition and offsets, so a
   batch read twice lands under the same name;
3. records that are no 002 record go to `bronze/kafka_quarantine` (Delta, written with
   delta-rs), merged on their coordinates, so a second attempt adds nothing;
4. only then the offsets are committed.

A crash anywhere before step 4 makes the next run read the batch again: nothing is lost,
and the copies are removed downstream (bronze ingests a landing name once; silver keeps one
row per event_id, and an event_id is stable per record, see `Coordinates.event_id`). The
consumer group gives each partition to one member, so two runs at once split the work
instead of doubling it; a member that loses partitions lands and commits what it read first.
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.lake import Lake, delta_writer_location
from eventlake.landing import LandingSink, encode_lines, landing_key, sink_for
from eventlake.lease import lake_lease
from eventlake.schemas import PERSONAL_COLUMNS

from .normalise import Coordinates, RecordRejection, iso, normalise

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Message, TopicPartition

log = logging.getLogger(__name__)

QUARANTINE_KEY = ("topic", "kafka_partition", "kafka_offset")


@dataclass(frozen=True)
class KafkaOptions:
    bootstrap_servers: str
    topic: str
    group: str
    batch_records: int = 10_000
    # How long a run waits to be given partitions (an unreachable broker, a missing topic).
    assign_timeout_seconds: float = 60.0


@dataclass
class IngestResult:
    records: int = 0
    landed: int = 0
    quarantined: int = 0
    files: int = 0
    batches: int = 0
    seconds: float = 0.0
    partitions: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        rate = self.records / self.seconds if self.seconds else 0.0
        return {**self.__dict__, "records_per_second": round(rate, 1)}


def options_from(settings: Settings, **overrides: Any) -> KafkaOptions:
    chosen = {k: v for k, v in overrides.items() if v is not None}
    servers = chosen.pop("bootstrap_servers", None) or settings.kafka_bootstrap_servers
    if not servers:
        raise UserError("no Kafka broker: set EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS or pass --bootstrap-servers")
    return KafkaOptions(
        bootstrap_servers=servers,
        topic=chosen.pop("topic", None) or settings.kafka_topic,
        group=chosen.pop("group", None) or settings.kafka_group,
        **chosen,
    )


def quarantine_row(rejection: RecordRejection, where: Coordinates, key: bytes | None, value: bytes | None,
                   now: datetime) -> dict[str, Any]:
    """A record that is no 002 record, with everything needed to find, read and replay it."""
    raw = value or b""
    return {
        "topic": where.topic,
        "kafka_partition": where.partition,
        "kafka_offset": where.offset,
        "kafka_timestamp": where.timestamp,
        "key": key.decode("utf-8", "backslashreplace") if key is not None else None,
        "raw": raw.decode("utf-8", "backslashreplace"),  # readable; erasure matches on it
        "raw_bytes": raw,  # exact
        "reason": rejection.reason,
        "detail": rejection.detail,
        "quarantined_at": now,
        "quarantine_date": now.date(),
    }


def _arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("topic", pa.string()), ("kafka_partition", pa.int32()), ("kafka_offset", pa.int64()),
        ("kafka_timestamp", pa.timestamp("us", tz="UTC")), ("key", pa.string()), ("raw", pa.string()),
        ("raw_bytes", pa.binary()), ("reason", pa.string()), ("detail", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")), ("quarantine_date", pa.date32()),
    ])


def quarantine_properties() -> dict[str, str]:
    """Statistics on no personal column: Delta copies min/max of indexed columns into
    `_delta_log`, which outlives VACUUM. The Spark-written tables' rule
    (schemas.PERSONAL_COLUMNS, no partition column), and the record's key, which producers
    set to a user id; a binary column has no statistics."""
    import pyarrow as pa

    skipped = PERSONAL_COLUMNS | {"key", "quarantine_date"}
    return {"delta.dataSkippingStatsColumns": ",".join(
        field.name for field in _arrow_schema() if field.name not in skipped and not pa.types.is_binary(field.type)
    )}


def write_quarantine(settings: Settings, rows: list[dict[str, Any]]) -> None:
    """Merge on (topic, partition, offset): a record quarantined twice is one row.

    A Delta table of the lake has one writer at a time (eventlake.lease): the merge holds
    the lake's lease, as the erasure job does when it deletes a user's rows here. Landing
    files need no lease (immutable, new names), so only batches with rejects wait for it.
    """
    if not rows:
        return
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake
    from deltalake.exceptions import TableNotFoundError

    uri, options = delta_writer_location(settings, Lake.from_settings(settings).kafka_quarantine.path)
    batch = pa.Table.from_pylist(rows, schema=_arrow_schema())
    with lake_lease(settings, "kafka-ingest"):
        try:
            table = DeltaTable(uri, storage_options=options or None)
        except TableNotFoundError:
            write_deltalake(uri, batch, mode="append", partition_by=["quarantine_date"],
                            configuration=quarantine_properties(), storage_options=options or None)
            return
        configured, wanted = table.metadata().configuration, quarantine_properties()
        if any(configured.get(name) != value for name, value in wanted.items()):
            # A table created before the properties: its next files carry no personal stats.
            table.alter.set_table_properties(wanted)
        predicate = " AND ".join(f"t.{c} = s.{c}" for c in QUARANTINE_KEY)
        table.merge(batch, predicate, source_alias="s", target_alias="t").when_not_matched_insert_all().execute()


def _position(message: Message) -> tuple[int, int]:
    partition, offset = message.partition(), message.offset()
    assert partition is not None and offset is not None  # a consumed record (or EOF event) has both
    return partition, offset


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


class _Batches:
    """The records read and not yet landed, and how far each assigned partition must go."""

    def __init__(self, settings: Settings, options: KafkaOptions, sink: LandingSink, clock: Callable[[], datetime]):
        self.settings, self.options, self.sink, self.clock = settings, options, sink, clock
        self.pending: list[Message] = []
        self.end: dict[int, int] = {}  # partition -> its end offset when it was assigned
        self.next: dict[int, int] = {}  # partition -> the next offset to read
        self.at_end: set[int] = set()
        self.failed = False  # a run that failed lands nothing more while it closes
        self.result = IngestResult()

    def on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            self.end[tp.partition] = high
        self.result.partitions = sorted(set(self.result.partitions) | {tp.partition for tp in partitions})
        log.info("partitions assigned", extra={"partitions": [tp.partition for tp in partitions], "ends": self.end})

    def on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if not self.failed:
            self.flush(consumer)  # what was read is landed and committed before another member reads on
        for tp in partitions:
            self.end.pop(tp.partition, None)
            self.next.pop(tp.partition, None)
            self.at_end.discard(tp.partition)

    def add(self, message: Message) -> None:
        self.pending.append(message)
        partition, offset = _position(message)
        self.next[partition] = offset + 1

    def caught_up(self) -> bool:
        return bool(self.end) and all(p in self.at_end or self.next.get(p, -1) >= end for p, end in self.end.items())

    def flush(self, consumer: Consumer) -> None:
        if not self.pending:
            return
        from confluent_kafka import TopicPartition

        now = self.clock()
        lines: dict[tuple[int, datetime], list[tuple[int, bytes]]] = defaultdict(list)
        rejected: list[dict[str, Any]] = []
        last: dict[int, int] = {}
        for message in self.pending:
            _, stamp = message.timestamp()
            partition, offset = _position(message)
            where = Coordinates(message.topic() or self.options.topic, partition, offset,
                                stamp if stamp > 0 else int(now.timestamp() * 1000))
            last[where.partition] = max(last.get(where.partition, -1), where.offset)
            outcome = normalise(message.value(), where, salt=self.settings.pseudonym_salt)
            if isinstance(outcome, RecordRejection):
                # 002: an unknown shape is skipped with a structured log, never poisoning the group.
                log.warning("kafka record quarantined", extra={
                    "topic": where.topic, "partition": where.partition, "offset": where.offset,
                    "reason": outcome.reason})
                rejected.append(quarantine_row(outcome, where, message.key(), message.value(), now))
                continue
            # The broker's timestamp is the receipt time (the collector's event_timestamp).
            outcome["event_timestamp"] = iso(where.timestamp)
            outcome["collector_id"] = f"kafka-{_safe(where.topic)}"[:64]
            hour = where.timestamp.replace(minute=0, second=0, microsecond=0)
            lines[(where.partition, hour)].append((where.offset, orjson.dumps(outcome)))
        for (partition, hour), numbered in sorted(lines.items()):
            numbered.sort()
            name = (f"kafka-{_safe(self.options.topic)}-p{partition}"
                    f"-o{numbered[0][0]:019d}-{numbered[-1][0]:019d}.jsonl.gz")
            self.sink.put(landing_key(hour, name), encode_lines(line for _, line in numbered))
            self.result.files += 1
            self.result.landed += len(numbered)
        write_quarantine(self.settings, rejected)
        consumer.commit(offsets=[TopicPartition(self.options.topic, p, o + 1) for p, o in sorted(last.items())],
                        asynchronous=False)
        self.result.records += len(self.pending)
        self.result.quarantined += len(rejected)
        self.result.batches += 1
        self.pending = []


def ingest(settings: Settings, options: KafkaOptions, *, clock: Callable[[], datetime] | None = None,
           sink: LandingSink | None = None) -> IngestResult:
    """Read every record the group has not committed, up to each partition's current end."""
    from confluent_kafka import Consumer, KafkaError, KafkaException

    started = time.monotonic()
    batches = _Batches(settings, options, sink or sink_for(settings), clock or (lambda: datetime.now(timezone.utc)))
    consumer = Consumer({
        "bootstrap.servers": options.bootstrap_servers,
        "group.id": options.group,
        "auto.offset.reset": "earliest",  # 002: a fresh group replays the topic's history
        "enable.auto.commit": False,  # offsets are committed after the batch is durable
        "enable.partition.eof": True,
        "client.id": "eventlake-kafka-ingest",
    })
    try:
        consumer.subscribe([options.topic], on_assign=batches.on_assign, on_revoke=batches.on_revoke)
        assign_deadline = time.monotonic() + options.assign_timeout_seconds
        while True:
            for message in consumer.consume(num_messages=min(1000, options.batch_records), timeout=1.0):
                error = message.error()
                if error is None:
                    batches.add(message)
                elif error.code() == KafkaError._PARTITION_EOF:
                    batches.at_end.add(_position(message)[0])
                elif error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
                    raise UserError(f"Kafka topic {options.topic!r} does not exist on {options.bootstrap_servers}")
                elif error.fatal():
                    raise KafkaException(error)
                else:
                    log.warning("kafka: %s", error.str())
            if len(batches.pending) >= options.batch_records:
                batches.flush(consumer)
            if batches.caught_up():
                break
            if not batches.end and time.monotonic() > assign_deadline:
                raise UserError(
                    f"no partition of Kafka topic {options.topic!r} was assigned within "
                    f"{options.assign_timeout_seconds:.0f} s: is {options.bootstrap_servers} reachable?")
        batches.flush(consumer)
    except BaseException:
        batches.failed = True  # nothing is committed: the next run reads these records again
        raise
    finally:
        consumer.close()
    batches.result.seconds = round(time.monotonic() - started, 3)
    return batches.result
