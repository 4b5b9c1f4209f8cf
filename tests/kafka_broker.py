"""A real Apache Kafka broker on loopback, in KRaft mode (broker and controller in one JVM).

No Docker: the broker's jars come from Maven Central through the Ivy jar that ships in the
pyspark wheel, resolved once into ~/.cache/eventlake/kafka (about 40 s cold, 45 jars) and
reused offline afterwards; `kafka.tools.StorageTool format` prepares the log folder and
`kafka.Kafka` serves, exactly as `bin/kafka-storage.sh` and `bin/kafka-server-start.sh` do.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyspark
from reaper import kill_group, reap_on_exit, stop
from short_lived import SHORT_LIVED_JAVA_OPTIONS

KAFKA_VERSION = "4.1.1"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eventlake" / "kafka"
# A broker that serves one test run: the suite's short-lived JVM options (C1 only, the
# serial collector) and a small heap.
JVM_OPTIONS = ["-Xms64m", "-Xmx512m", *SHORT_LIVED_JAVA_OPTIONS.split(), "-Djava.awt.headless=true"]


@dataclass
class Broker:
    bootstrap: str
    log: Path

    def create_topic(self, name: str, partitions: int) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(30)

    def produce(self, topic: str, records: list[tuple[int, bytes | None]]) -> None:
        """(partition, value) pairs, in order per partition; waits until each is acknowledged."""
        from confluent_kafka import Producer

        # Idempotent: a retried request (a slow broker on a busy machine) must not write a
        # record twice or out of order, since tests derive ids from each record's offset.
        producer = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "linger.ms": 5,
                             "enable.idempotence": True})
        failures: list[str] = []
        for partition, value in records:
            producer.produce(topic, value=value, partition=partition,
                             on_delivery=lambda error, _: failures.append(str(error)) if error else None)
            producer.poll(0)
        assert producer.flush(60) == 0 and not failures, failures

    def committed(self, topic: str, group: str, partitions: int) -> list[int]:
        """The group's committed offset per partition (-1001: none yet)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            return [tp.offset for tp in consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 30)]
        finally:
            consumer.close()


def classpath() -> str:
    """The broker's classpath, resolved once from Maven Central and cached."""
    listed = CACHE / f"classpath-{KAFKA_VERSION}.txt"
    if listed.exists() and all(Path(j).exists() for j in listed.read_text().strip().split(":")):
        return listed.read_text().strip()
    CACHE.mkdir(parents=True, exist_ok=True)
    ivy = next((Path(pyspark.__file__).parent / "jars").glob("ivy-*.jar"))
    subprocess.run(
        ["java", "-jar", str(ivy), "-dependency", "org.apache.kafka", "kafka_2.13", KAFKA_VERSION,
         "-confs", "default", "-cache", str(CACHE / "ivy"), "-cachepath", str(listed)],
        check=True, capture_output=True, timeout=600,
    )
    return listed.read_text().strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def kafka_broker(root: Path) -> Iterator[Broker]:
    jars = classpath()
    port, controller = _free_port(), _free_port()
    data = root / "kafka-data"
    properties = root / "server.properties"
    properties.write_text("\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=3",
        # One broker: every internal topic has one replica.
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ]))
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    java = ["java", *JVM_OPTIONS, "-cp", jars]
    subprocess.run([*java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(properties)],
                   check=True, capture_output=True, timeout=120)
    log = root / "kafka.log"
    process = subprocess.Popen([*java, "kafka.Kafka", str(properties)], stdout=log.open("wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    broker = Broker(f"127.0.0.1:{port}", log)
    # Its own session: without the watchdog it would outlive a SIGKILLed pytest.
    with reap_on_exit(*kill_group(process.pid)):
        try:
            _wait_ready(broker, process)
            yield broker
        finally:
            stop(process, timeout=30)


def _wait_ready(broker: Broker, process: subprocess.Popen) -> None:
    from confluent_kafka.admin import AdminClient

    deadline = time.monotonic() + 120
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the Kafka broker exited with {process.returncode}: {broker.log.read_text()[-3000:]}")
        try:
            if admin.list_topics(timeout=2).brokers:
                return
        except Exception:  # not listening yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Kafka broker did not start: {broker.log.read_text()[-3000:]}")
        time.sleep(0.5)
