"""The DSAR export (right of access and portability) against a small lake built by hand.

Landing lines written here go through the real bronze, silver and gold jobs once (a module
fixture); every test exports from that lake and compares with a document written by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlake import cli
from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.maintenance.dsar import export_user
from eventlake.maintenance.tables import DSAR_AUDIT
from eventlake.pipeline import run_layer

pytestmark = pytest.mark.unit

SALT = "dsar-test-salt"
ALICE, BOB = "alice-7f3", "bob-2c9"  # raw ids: the lake must never hand one to the other
TRACK = "01JC0000000000000000000000"  # a ULID
INGESTED = datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
HOUR = "landing/events/event_date=2026-11-01/event_hour=10"
KAFKA_ALICE = b'{"kind": "order.placed", "customer": "' + ALICE.encode() + b'"}'


def sha256(text: str) -> str:  # the contract's definition, independent of eventlake.privacy
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


ALICE_KEY, BOB_KEY = sha256(ALICE + SALT), sha256(BOB + SALT)


def line(event_id: str, name: str, at: str, user_id: str | None, properties: dict, **more) -> str:
    envelope = {"event_id": event_id, "event_name": name, "event_timestamp": at,
                "session_id": f"s-{(user_id or 'anon')[:5]}", "user_id": user_id,
                "market": "US", "properties": properties, **more}
    return json.dumps(envelope)


# What landed (one file), in this order. Alice's lines: a1..a4 become silver rows, kid1 is her
# kids profile (no user_key in silver), de1 is dropped for consent (DE default: all off), dup
# repeats a1 later (a duplicate drop), q1 and q2 are quarantined.
LINES = [
    line("a1", "playback.started", "2026-11-01T10:00:00Z", ALICE,
         {"content_id": "c1", "content_type": "vod", "start_time_ms": 850}, device_id="dev-a",
         platform="ios"),
    line("a2", "track.play_start", "2026-11-01T10:05:00Z", ALICE, {"track_id": TRACK}),
    line("a3", "track.play_complete", "2026-11-01T10:09:30Z", ALICE,
         {"track_id": TRACK, "duration_played_seconds": 210}),
    line("a4", "search.query", "2026-11-01T10:12:00Z", ALICE,
         {"query_text": "write to alice@example.com", "search_type": "text"}),
    line("kid1", "playback.started", "2026-11-01T10:15:00Z", ALICE,
         {"content_id": "c2", "content_type": "vod", "start_time_ms": 400},
         profile_id="p-kid", profile_kind="kids"),
    line("de1", "playback.heartbeat", "2026-11-01T10:16:00Z", ALICE,
         {"content_id": "c1", "position_ms": 1000}, market="DE"),
    line("a1", "playback.started", "2026-11-01T10:00:05Z", ALICE,
         {"content_id": "c1", "content_type": "vod", "start_time_ms": 850}, device_id="dev-a",
         platform="ios"),
    line("q1", "made.up", "2026-11-01T10:20:00Z", ALICE, {}),
    '{"event_id": "q2", "user_id": "' + ALICE + '", "event_name": "playback.st',
    # Bob's lines, one of which quotes Alice's id (a search for it), and an anonymous one.
    line("b1", "playback.started", "2026-11-01T10:01:00Z", BOB,
         {"content_id": "c9", "content_type": "live", "start_time_ms": 300}),
    line("b2", "track.play_start", "2026-11-01T10:02:00Z", BOB, {"track_id": TRACK}),
    line("b3", "search.query", "2026-11-01T10:03:00Z", BOB, {"query_text": ALICE, "search_type": "text"}),
    line("bq", "made.up", "2026-11-01T10:04:00Z", BOB, {}),
    line("n1", "playback.started", "2026-11-01T10:06:00Z", None,
         {"content_id": "c1", "content_type": "vod", "start_time_ms": 100}),
]


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory) -> Settings:
    """The lake: LINES landed, then bronze, silver and two gold tables (one per user)."""
    root = tmp_path_factory.mktemp("dsar")
    settings = Settings.from_env({
        "EVENTLAKE_LAKE_URI": str(root / "lakehouse"), "EVENTLAKE_PSEUDONYM_SALT": SALT,
        "EVENTLAKE_CATALOG_DIR": str(root / "catalog"),
    })
    landed = root / "lakehouse" / HOUR / "part-1.jsonl"
    landed.parent.mkdir(parents=True)
    landed.write_text("\n".join(LINES) + "\n", "utf-8")
    ingest_bronze(spark, settings, ingested_at=INGESTED)
    run_layer(spark, settings, "silver", run_id="r1", quality=False)
    run_layer(spark, settings, "gold", run_id="r1", quality=False,
              tables=["user_activity_daily", "daily_active_users"])
    # Two Kafka records that were no 002 record (docs/kafka.md): one quotes Alice, one Bob.
    from eventlake.kafka.consumer import quarantine_row, write_quarantine
    from eventlake.kafka.normalise import Coordinates, RecordRejection

    unknown = RecordRejection("UNKNOWN_SHAPE", "no known shape")
    write_quarantine(settings, [
        quarantine_row(unknown, Coordinates("analytics.events", p, 7, 1793872800000), None, value, INGESTED)
        for p, value in ((0, KAFKA_ALICE), (1, b'{"kind": "x", "customer": "' + BOB.encode() + b'"}'))])
    return settings


def source_file(settings: Settings) -> str:
    return "file:" + str(Path(settings.lake_root, HOUR, "part-1.jsonl"))  # Spark's form of the URI


def silver_row(settings: Settings, event_id: str, name: str, at: str, session: str,
               properties: dict, **more) -> dict:
    """A silver.events row as the document shows it, written from contract §5."""
    row = {
        "event_id": event_id, "event_name": name, "event_domain": name.split(".")[0],
        "event_timestamp": at, "event_date": "2026-11-01", "event_hour": at[:13] + ":00:00.000000Z",
        "client_timestamp": None, "client_ts_skewed": False, "user_key": ALICE_KEY,
        "profile_key": None, "device_key": None, "session_id": session, "profile_kind": None,
        "device_type": None, "platform": None, "app_version": None, "os_version": None,
        "market": "US", "connection_type": None, "no_personalization": False,
        "no_ad_targeting": False, "schema_version": 1, "properties": properties,
        "ip_truncated": None, "user_agent": None, "collector_id": None,
        "source_file": source_file(settings), "ingested_at": "2026-11-01T10:30:00.000000Z",
        "ua_browser": None, "ua_os": None, "ua_device": None,
    }
    row.update(more)
    return row


def raw_line(settings: Settings, number: int) -> dict:
    return {"raw": LINES[number - 1], "source_file": source_file(settings), "line_number": number,
            "ingested_at": "2026-11-01T10:30:00.000000Z", "ingest_date": "2026-11-01"}


def expected_document(settings: Settings, request_id: str, generated_at: str) -> dict:
    quarantined = [
        {**raw_line(settings, 8), "reason": "UNKNOWN_EVENT_NAME",
         "detail": "'made.up' is not in the taxonomy", "event_id": "q1", "event_name": "made.up"},
        {**raw_line(settings, 9), "reason": "MALFORMED_JSON",
         "detail": "not valid JSON: Unterminated string starting at: line 1 column 58 (char 57)",
         "event_id": None, "event_name": None},
    ]
    order = ["raw", "source_file", "line_number", "reason", "detail", "event_id", "event_name",
             "ingested_at", "ingest_date"]
    return {
        "request": {
            "format": "eventlake-dsar/1",
            "request_id": request_id,
            "generated_at": generated_at,
            "user_key": ALICE_KEY,
            "counts": {"events": 4, "quarantined_lines": 2, "raw_lines": 9, "kafka_records": 1,
                       "gold.user_activity_daily": 1},
        },
        "events": [
            silver_row(settings, "a1", "playback.started", "2026-11-01T10:00:00.000000Z", "s-alice",
                       {"content_id": "c1", "content_type": "vod", "start_time_ms": 850},
                       device_key=sha256("dev-a" + SALT), platform="ios"),
            silver_row(settings, "a2", "track.play_start", "2026-11-01T10:05:00.000000Z", "s-alice",
                       {"track_id": TRACK}),
            silver_row(settings, "a3", "track.play_complete", "2026-11-01T10:09:30.000000Z", "s-alice",
                       {"track_id": TRACK, "duration_played_seconds": 210}),
            silver_row(settings, "a4", "search.query", "2026-11-01T10:12:00.000000Z", "s-alice",
                       {"query_text": "[REDACTED]", "search_type": "text"}),
        ],
        "quarantined_lines": [{k: q[k] for k in order} for q in quarantined],
        "raw_lines": [raw_line(settings, n) for n in range(1, 10)],
        "kafka_records": [{
            "topic": "analytics.events", "kafka_partition": 0, "kafka_offset": 7,
            "kafka_timestamp": "2026-11-05T10:00:00.000000Z", "key": None, "raw": KAFKA_ALICE.decode(),
            "reason": "UNKNOWN_SHAPE", "detail": "no known shape", "quarantined_at": "2026-11-01T10:30:00.000000Z",
            "quarantine_date": "2026-11-01"}],
        "gold": {
            "gold.user_activity_daily": [
                {"event_date": "2026-11-01", "user_key": ALICE_KEY, "tracks_played": 1,
                 "total_plays": 1, "total_seconds_played": 210.0,
                 "last_activity_at": "2026-11-01T10:09:30.000000Z"},
            ],
        },
    }


def read_document(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def audit_rows(spark, settings: Settings, request_id: str) -> list[dict]:
    rows = spark.read.format("delta").load(Lake.from_settings(settings).path(DSAR_AUDIT))
    return sorted((r.asDict() for r in rows.where(rows.request_id == request_id).collect()),
                  key=lambda r: r["exported_at"])


def test_the_export_is_the_users_data_and_nobody_elses(spark, built, tmp_path, caplog):
    out = tmp_path / "alice.json"
    at = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)

    with caplog.at_level(logging.DEBUG):
        result = export_user(spark, built, ALICE, output=str(out), request_id="req-1", generated_at=at)

    assert read_document(out) == expected_document(built, "req-1", "2026-11-03T09:30:00.000000Z")
    # Bob's data is not in it, not even his line that quotes Alice's id.
    text = out.read_text("utf-8")
    for bobs in (BOB, BOB_KEY, '"b1"', '"b2"', '"b3"', '"bq"', '"n1"', "c9"):
        assert bobs not in text, bobs
    assert out.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    # The audit: the key's hash and the counts, never the raw id or the key.
    key_hash = sha256(ALICE_KEY)
    counts = {"events": 4, "quarantined_lines": 2, "raw_lines": 9, "kafka_records": 1, "gold.user_activity_daily": 1}
    assert result.as_dict() == {"request_id": "req-1", "key_hash": key_hash,
                                "rows_exported": counts, "output": str(out)}
    assert audit_rows(spark, built, "req-1") == [
        {"request_id": "req-1", "exported_at": datetime(2026, 11, 3, 9, 30), "key_hash": key_hash,
         "rows_exported": counts}]
    audit = Path(Lake.from_settings(built).path(DSAR_AUDIT))
    for stored in [*audit.rglob("*.json"), *audit.rglob("*.parquet")]:
        content = stored.read_bytes()
        assert ALICE.encode() not in content and ALICE_KEY.encode() not in content, stored
    assert ALICE not in caplog.text and ALICE_KEY not in caplog.text


def test_a_rerun_gives_the_same_document_and_a_second_audit_row(spark, built, tmp_path):
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    at = [datetime(2026, 11, 4, 8, 0, tzinfo=UTC), datetime(2026, 11, 4, 8, 5, tzinfo=UTC)]
    export_user(spark, built, ALICE, output=str(first), request_id="req-2", generated_at=at[0])
    export_user(spark, built, ALICE, output=str(second), request_id="req-2", generated_at=at[1])

    one, two = read_document(first), read_document(second)
    assert one["request"].pop("generated_at") == "2026-11-04T08:00:00.000000Z"
    assert two["request"].pop("generated_at") == "2026-11-04T08:05:00.000000Z"
    assert one == two
    assert [r["exported_at"] for r in audit_rows(spark, built, "req-2")] == [
        datetime(2026, 11, 4, 8, 0), datetime(2026, 11, 4, 8, 5)]


def test_an_unknown_user_gets_a_document_with_empty_sections(spark, built, settings, tmp_path):
    at = datetime(2026, 11, 5, tzinfo=UTC)
    nobody_key = sha256("nobody-1" + SALT)
    export_user(spark, built, "nobody-1", output=str(tmp_path / "n.json"), request_id="req-3",
                generated_at=at)
    assert read_document(tmp_path / "n.json") == {
        "request": {"format": "eventlake-dsar/1", "request_id": "req-3",
                    "generated_at": "2026-11-05T00:00:00.000000Z", "user_key": nobody_key,
                    "counts": {"events": 0, "quarantined_lines": 0, "raw_lines": 0, "kafka_records": 0,
                               "gold.user_activity_daily": 0}},
        "events": [], "quarantined_lines": [], "raw_lines": [], "kafka_records": [],
        "gold": {"gold.user_activity_daily": []},
    }
    # A lake with no table at all (a fresh one) answers the same, without gold tables.
    export_user(spark, settings, "nobody-1", output=str(tmp_path / "e.json"), request_id="req-4",
                generated_at=at)
    empty = read_document(tmp_path / "e.json")
    assert empty["request"]["counts"] == {"events": 0, "quarantined_lines": 0, "raw_lines": 0, "kafka_records": 0}
    assert [empty[s] for s in ("events", "quarantined_lines", "raw_lines", "kafka_records", "gold")] == [
        [], [], [], [], {}]


def test_the_command_reads_the_id_from_the_variable_it_is_told(spark, built, tmp_path, monkeypatch, capsys):
    """`eventlake maintenance dsar` end to end, in this process (the session is reused)."""
    from eventlake.maintenance import cli as maintenance

    monkeypatch.setenv("MY_DSAR_ID", ALICE)
    out = tmp_path / "cli.json"
    args = cli.build_parser("maintenance").parse_args(
        ["maintenance", "dsar", "--user-id-env", "MY_DSAR_ID", "--output", out.as_uri(),
         "--request-id", "req-5"])
    assert maintenance.main(args, built.with_overrides(spark_master="local[2]", spark_partitions=2)) == 0

    printed = capsys.readouterr()
    assert ALICE not in printed.out + printed.err and ALICE_KEY not in printed.out + printed.err
    summary = json.loads(printed.out.strip().splitlines()[-1])
    assert summary["key_hash"] == sha256(ALICE_KEY) and summary["request_id"] == "req-5"
    document = read_document(out)  # written through Hadoop's FileSystem (a file:// URI)
    assert document["request"]["generated_at"].endswith("Z")
    expected = expected_document(built, "req-5", document["request"]["generated_at"])
    assert document == expected


UNSET = "no user id to export: the environment variable EVENTLAKE_DSAR_USER_ID is not set or empty"


@pytest.mark.parametrize("command", [["maintenance", "dsar"], ["dsar"]], ids=["maintenance-dsar", "dsar"])
@pytest.mark.parametrize("env, message", [
    ({}, UNSET),
    ({"EVENTLAKE_DSAR_USER_ID": "   "}, UNSET),
    ({"EVENTLAKE_DSAR_USER_ID": "x" * 65}, "the user id in EVENTLAKE_DSAR_USER_ID is longer than 64 characters"),
])
def test_a_missing_id_is_one_line_and_exit_2_before_anything_starts(tmp_path, monkeypatch, capsys, env, message,
                                                                     command):
    monkeypatch.delenv("EVENTLAKE_DSAR_USER_ID", raising=False)
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    code = cli.main([*command, "--output", str(tmp_path / "out.json")])

    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"eventlake {command[0]}: {message}"]
    # Stopped before the lease, the JVM and the output.
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "lake").exists()
