"""002's Kafka feed: the shapes by hand, then a real broker on loopback, a run killed half
way, a rerun, and landing, quarantine and silver checked against what 002 says."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlake.config import Settings
from eventlake.envelope import check_event
from eventlake.errors import UserError
from eventlake.kafka.normalise import Coordinates, RecordRejection, normalise
from eventlake.taxonomy import load_taxonomy

SALT = "kafka-test-salt"
TOPIC = "analytics.events"
WHERE = Coordinates(TOPIC, 2, 41, 1763316900000)  # 2025-11-16T18:15:00Z


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def session_of(user: str | None, day: str) -> str:
    owner = f"u:{user or ''}"
    return "derived-" + sha256_hex(f"{owner}|{day}|{SALT}")[:40]


# Each of 002's shapes, written from its §2 and §3, with the envelope it must become.
CANONICAL = {  # §2's example, verbatim
    "eventType": "challenge.completed", "source": "challenge-service", "occurredAt": "2025-11-16T18:14:00Z",
    "tenantId": "academy-123",
    "payload": {"challengeId": "c12f4a13-6a8f-48ba-bb7c-6ed15b98c1b9", "studentId": "s-1029", "score": 97,
                "submittedAt": "2025-11-16T18:13:45Z"},
}
IAM = {"eventId": "iam-1", "userId": "u-7", "tenantId": "academy-123", "email": "ann@example.com",
       "registeredAt": [2025, 11, 16, 18, 14, 0, 123456789]}
GUIDES = {"eventId": "guide-1", "guideId": "g-3", "challengeId": "c-9", "tenantId": "academy-123",
          "occurredAt": 1763316840.25}
EXECUTION = {"eventId": "exec-1", "executionId": "x-5", "userId": "u-7", "language": "python",
             "durationMs": 812, "occurredAt": "2025-11-16T18:14:00.123456789Z"}
COMMUNITY_REGISTRATION = {"eventId": "comm-1", "userId": "u-8", "username": "ann", "profileUrl": None}
COMMUNITY_UPDATE = {"eventId": "comm-2", "userId": "u-8", "username": "ann", "profileUrl": "https://x.test/ann"}
COMPLETION = {"eventId": "sol-1", "challengeId": "c-9", "userId": "u-7", "experience": 120, "score": 88.5,
              "occurredOn": "2025-11-16T20:14:00+02:00"}

EXPECTED = {  # event_id -> (event_name, raw user id, client_timestamp, properties)
    "kafka-" + sha256_hex(f"{TOPIC}\x002\x0041")[:40]: (
        "challenge.completed", "s-1029", "2025-11-16T18:14:00.000000Z",
        {"challenge_id": "c12f4a13-6a8f-48ba-bb7c-6ed15b98c1b9", "score": 97,
         "submitted_at": "2025-11-16T18:13:45Z", "tenant_id": "academy-123", "source": "challenge-service"}),
    "iam-1": ("iam.user_registered", "u-7", "2025-11-16T18:14:00.123456Z",
              {"tenant_id": "academy-123", "email": "ann@example.com",
               "registered_at_iso": "2025-11-16T18:14:00.123456Z"}),
    "guide-1": ("guides.challenge_linked", None, "2025-11-16T18:14:00.250000Z",
                {"guide_id": "g-3", "challenge_id": "c-9", "tenant_id": "academy-123",
                 "occurred_at_iso": "2025-11-16T18:14:00.250000Z"}),
    "exec-1": ("execution.analytics", "u-7", "2025-11-16T18:14:00.123456Z",
               {"execution_id": "x-5", "language": "python", "duration_ms": 812,
                "occurred_at_iso": "2025-11-16T18:14:00.123456Z"}),
    "comm-1": ("community.user_registered", "u-8", None, {"username": "ann", "profile_url": None}),
    "comm-2": ("community.profile_updated", "u-8", None, {"username": "ann", "profile_url": "https://x.test/ann"}),
    "sol-1": ("challenge.solution_completed", "u-7", "2025-11-16T18:14:00.000000Z",
              {"challenge_id": "c-9", "experience": 120, "score": 88.5,
               "occurred_on_iso": "2025-11-16T18:14:00.000000Z"}),
}
SHAPES = [CANONICAL, IAM, GUIDES, EXECUTION, COMMUNITY_REGISTRATION, COMMUNITY_UPDATE, COMPLETION]


# --- normalisation, by hand --------------------------------------------------------------------


@pytest.mark.unit
def test_every_shape_of_002_becomes_the_envelope_written_for_it():
    for document, (event_id, (name, user, occurred, properties)) in zip(SHAPES, EXPECTED.items(), strict=True):
        envelope = normalise(orjson.dumps(document), WHERE, salt=SALT)
        expected = {"event_id": event_id, "event_name": name, "session_id": session_of(user, "2025-11-16"),
                    "schema_version": 1, "properties": properties}
        if user is not None:
            expected["user_id"] = user
        if occurred is not None:
            expected["client_timestamp"] = occurred
        assert envelope == expected, name
        assert check_event(envelope, load_taxonomy(), server_side=True) is None, name


@pytest.mark.unit
def test_a_command_without_occurred_at_happened_when_the_broker_took_it():
    envelope = normalise(orjson.dumps({"eventType": "execution.analytics", "payload": {}}), WHERE, salt=SALT)
    assert envelope["client_timestamp"] == "2025-11-16T18:15:00.000000Z"
    assert envelope["event_name"] == "execution.analytics"
    # 002's plural context and dashes: challenges.solution-completed is challenge.solution_completed.
    named = normalise(orjson.dumps({"eventType": "challenges.solution-completed"}), WHERE, salt=SALT)
    assert named["event_name"] == "challenge.solution_completed"


@pytest.mark.unit
@pytest.mark.parametrize("value, reason", [
    (b"\xff\xfe not utf-8", "UNDECODABLE"), (b'{"eventType": ', "UNDECODABLE"), (None, "UNDECODABLE"),
    (b"[1, 2]", "NOT_AN_OBJECT"), (b'"text"', "NOT_AN_OBJECT"),
    (b'{"kind": "order.placed", "orderId": "o-1"}', "UNKNOWN_SHAPE"),
    (b'{"profileUrl": "https://x.test/a"}', "UNKNOWN_SHAPE"),  # community without a userId
])
def test_what_is_no_002_record_is_a_rejection_with_a_reason(value, reason):
    outcome = normalise(value, WHERE, salt=SALT)
    assert isinstance(outcome, RecordRejection) and outcome.reason == reason


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(value=st.binary(max_size=200) | st.builds(
    lambda d: json.dumps(d).encode(),  # the standard module writes integers of any size
    st.dictionaries(st.sampled_from(["eventType", "payload", "occurredAt", "userId", "registeredAt", "guideId",
                                     "challengeId", "executionId", "profileUrl", "occurredOn", "eventId", "x"]),
                    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
                    | st.text(max_size=30) | st.lists(st.integers(-5, 3000), max_size=8)
                    | st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3),
                    max_size=8)))
def test_any_record_value_becomes_an_envelope_or_a_rejection_never_an_error(value):
    outcome = normalise(value, WHERE, salt=SALT)
    if isinstance(outcome, RecordRejection):
        return
    orjson.dumps(outcome)
    check_event(outcome, load_taxonomy(), server_side=True)
    assert 0 < len(outcome["event_id"]) <= 64


# --- a real broker -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    from kafka_broker import kafka_broker

    with kafka_broker(tmp_path_factory.mktemp("kafka")) as running:
        yield running


def lake_settings(lake: Path, broker, **extra: str) -> Settings:
    return Settings.from_env({"EVENTLAKE_LAKE_URI": str(lake), "EVENTLAKE_PSEUDONYM_SALT": SALT,
                              "EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, **extra})


def landed_lines(lake: Path) -> list[dict]:
    return [orjson.loads(line) for path in sorted((lake / "landing" / "events").rglob("*.jsonl.gz"))
            for line in gzip.decompress(path.read_bytes()).splitlines()]


CORRUPT = [b"\xff\xfe\x00 not json", b"[1,2,3]", b'{"kind": "order.placed", "orderId": "o-1", "customer": "u-7"}']
BULK = 1200  # canonical commands around the hand-written ones, so a kill lands part of them


@pytest.mark.collector
@pytest.mark.e2e
def test_a_killed_ingest_rerun_lands_every_record_once_in_silver(spark, broker, tmp_path):
    from eventlake.kafka.consumer import ingest, options_from
    from eventlake.lake import Lake
    from eventlake.pipeline import run_layer

    topic, group = "analytics.events.kill", "eventlake-kill"
    broker.create_topic(topic, 3)
    records: list[tuple[int, bytes | None]] = []
    for i in range(BULK):
        # Every other command has no eventId: its id comes from its coordinates.
        command = {"eventType": "execution.analytics", "occurredAt": "2025-11-16T18:00:00Z",
                   "payload": {"userId": f"u-{i % 50}", "run": i}} | ({"eventId": f"bulk-{i}"} if i % 2 else {})
        records.append((i % 3, orjson.dumps(command)))
    records[600:600] = [(i % 3, orjson.dumps(d)) for i, d in enumerate(SHAPES)]
    records[300:300] = [(i, value) for i, value in enumerate(CORRUPT)]
    broker.produce(topic, records)
    # What each record must land as, by its id: the topic is new, so a record's offset is
    # its position among the records sent to its partition.
    expected_ids: dict[str, bytes | None] = {}
    offsets = [0, 0, 0]
    for partition, value in records:
        document = orjson.loads(value) if value and value.startswith(b"{") else None
        if document is not None and value not in CORRUPT:
            own = document.get("eventId")
            expected_ids[own or "kafka-" + sha256_hex(f"{topic}\x00{partition}\x00{offsets[partition]}")[:40]] = value
        offsets[partition] += 1
    canonical_id = next(i for i, v in expected_ids.items() if v == orjson.dumps(CANONICAL))
    expected = {canonical_id if i.startswith("kafka-") else i: shape for i, shape in EXPECTED.items()}
    lake = tmp_path / "lake"
    settings = lake_settings(lake, broker, EVENTLAKE_KAFKA_TOPIC=topic, EVENTLAKE_KAFKA_GROUP=group)

    # A run killed as soon as its first batch landed.
    env = {**os.environ, "EVENTLAKE_LAKE_URI": str(lake), "EVENTLAKE_PSEUDONYM_SALT": SALT,
           "EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "EVENTLAKE_KAFKA_TOPIC": topic,
           "EVENTLAKE_KAFKA_GROUP": group}
    killed = subprocess.Popen([sys.executable, "-m", "eventlake.cli", "kafka", "--batch-records", "25"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list((lake / "landing").rglob("*.jsonl.gz")) and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait(30)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.read().decode()[-2000:]
    landed_before = len(landed_lines(lake))
    assert 0 < landed_before < len(records)
    committed = broker.committed(topic, group, 3)
    assert sum(max(offset, 0) for offset in committed) < len(records)

    # The rerun reads from the committed offsets to the end.
    result = ingest(settings, options_from(settings, batch_records=500))
    assert result.records == len(records) - sum(max(offset, 0) for offset in committed)
    assert broker.committed(topic, group, 3) == [sum(1 for p, _ in records if p == n) for n in range(3)]
    assert ingest(settings, options_from(settings)).records == 0  # nothing new: nothing read

    # Landing: every 002 record at least once (a batch landed but not committed is read again).
    landed_ids = {line["event_id"] for line in landed_lines(lake)}
    assert landed_ids == set(expected_ids) and len(expected_ids) == BULK + len(SHAPES)
    # The consumer's quarantine: each record that is no 002 record, once, with its coordinates.
    quarantine = spark.read.format("delta").load(Lake.from_settings(settings).kafka_quarantine.path)
    rows = sorted((r.kafka_partition, r.reason, bytes(r.raw_bytes)) for r in quarantine.collect())
    assert rows == [(0, "UNDECODABLE", CORRUPT[0]), (1, "NOT_AN_OBJECT", CORRUPT[1]), (2, "UNKNOWN_SHAPE", CORRUPT[2])]

    run_layer(spark, settings, "bronze", run_id="k1", quality=False)
    run_layer(spark, settings, "silver", run_id="k1", quality=False)
    silver = spark.read.format("delta").load(Lake.from_settings(settings).silver_events.path)
    got = {r.event_id: r for r in silver.collect()}
    assert set(got) == set(expected_ids)  # once each, however often it landed
    for event_id, (name, user, occurred, properties) in expected.items():
        row = got[event_id]
        assert row.event_name == name
        assert row.user_key == (sha256_hex(user + SALT) if user else None)
        expected_time = datetime.fromisoformat(occurred.replace("Z", "+00:00")).replace(tzinfo=None) if occurred else None
        assert row.client_timestamp == expected_time
        # Silver replaces an e-mail address in a property by [REDACTED] (contract §5).
        redacted = {k: "[REDACTED]" if k == "email" else v for k, v in properties.items()}
        assert orjson.loads(row.properties) == redacted
    assert got["bulk-7"].user_key == sha256_hex("u-7" + SALT)
    assert orjson.loads(got["bulk-7"].properties) == {"run": 7}
    assert spark.read.format("delta").load(Lake.from_settings(settings).silver_quarantine.path).count() == 0

    # An erasure reaches the consumer's quarantine too: u-7's unknown-shape record goes.
    from eventlake.maintenance.erasure import erase_user

    erased = erase_user(spark, settings, "u-7", request_id="dsr-1", erased_at=datetime(2026, 1, 1))
    assert erased.rows_removed["bronze.kafka_quarantine"] == 1
    left = spark.read.format("delta").load(Lake.from_settings(settings).kafka_quarantine.path)
    assert sorted(r.reason for r in left.collect()) == ["NOT_AN_OBJECT", "UNDECODABLE"]

    # Retention treats it like bronze (raw values): 90 days after the day it was written.
    from eventlake.maintenance.retention import RetentionPolicy, apply_retention

    written = left.first().quarantine_date
    kept = apply_retention(spark, Lake.from_settings(settings), written + timedelta(days=90), RetentionPolicy())
    assert kept.rows_removed["bronze.kafka_quarantine"] == 0
    expired = apply_retention(spark, Lake.from_settings(settings), written + timedelta(days=91), RetentionPolicy())
    assert expired.rows_removed["bronze.kafka_quarantine"] == 2


@pytest.mark.collector
def test_a_missing_topic_or_broker_is_one_clear_line(broker, tmp_path):
    from eventlake.kafka.consumer import ingest, options_from

    settings = lake_settings(tmp_path / "lake", broker, EVENTLAKE_KAFKA_TOPIC="no.such.topic")
    with pytest.raises(UserError, match="no.such.topic"):
        ingest(settings, options_from(settings))
    nowhere = lake_settings(tmp_path / "lake", broker, EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    with pytest.raises(UserError, match="reachable"):
        ingest(nowhere, options_from(nowhere, assign_timeout_seconds=3))
    unset = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path / "lake")})
    finished = subprocess.run([sys.executable, "-m", "eventlake.cli", "kafka"], capture_output=True, text=True,
                              env={k: v for k, v in os.environ.items()
                                   if k not in ("EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS", "EVENTLAKE_KAFKA_TOPIC")}
                              | {"EVENTLAKE_LAKE_URI": unset.lake_uri})
    assert finished.returncode != 0
    assert finished.stderr.strip().count("\n") == 0 and "EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS" in finished.stderr


@pytest.mark.airflow
def test_the_airflow_dag_lands_the_topic(broker, tmp_path):
    """`airflow dags test` of eventlake_kafka_ingest against the broker: a real task run."""
    from deltalake import DeltaTable

    topic = "analytics.events.airflow"
    broker.create_topic(topic, 1)
    broker.produce(topic, [(0, orjson.dumps(IAM)), (0, b"not json at all")])
    lake = tmp_path / "lake"
    dags = Path(__file__).resolve().parents[2] / "dags"
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EVENTLAKE_"))}
    env.update(
        AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__DAGS_FOLDER=str(dags), AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{tmp_path / 'airflow.db'}",
        PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
        EVENTLAKE_LAKE_URI=str(lake), EVENTLAKE_PSEUDONYM_SALT=SALT,
        EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, EVENTLAKE_KAFKA_TOPIC=topic,
    )

    def airflow(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv_bin / "airflow"), *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    assert airflow("db", "migrate").returncode == 0
    ran = airflow("dags", "test", "eventlake_kafka_ingest", "2026-01-01T00:00:00+00:00")
    assert ran.returncode == 0, (ran.stdout + ran.stderr)[-3000:]
    assert [line["event_id"] for line in landed_lines(lake)] == ["iam-1"]
    quarantined = DeltaTable(str(lake / "bronze" / "kafka_quarantine")).to_pyarrow_table().to_pylist()
    assert [(r["kafka_offset"], r["reason"]) for r in quarantined] == [(1, "UNDECODABLE")]
