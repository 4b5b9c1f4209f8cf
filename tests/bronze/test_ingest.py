"""Bronze ingestion: every landed line byte for byte, each file exactly once."""

from __future__ import annotations

import gzip
from datetime import date, datetime

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from eventlake.bronze.ingest import ingest_bronze

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 2, 3, 4, 5)
HOUR = "landing/events/event_date=2026-11-01/event_hour=10"


def land(settings, name: str, lines: list[str], *, gz: bool = True, trailing_newline: bool = True) -> str:
    root = __import__("pathlib").Path(settings.lake_root)
    path = root / HOUR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "\n".join(lines) + ("\n" if trailing_newline else "")
    path.write_bytes(gzip.compress(body.encode()) if gz else body.encode())
    return f"file:{path}"


def bronze(spark, lake):
    return spark.read.format("delta").load(lake.bronze_events.path)


def test_lines_are_kept_byte_for_byte_with_their_file_and_number(spark, settings, lake):
    a = land(settings, "a.jsonl.gz", ['{"x": 1}', '  {"y": "é ✓"}  ', "", "not json"])
    b = land(settings, "b.jsonl", ['{"z": 3}', "tail without newline"], gz=False, trailing_newline=False)
    land(settings, ".tmp-in-progress", ['{"never": "read"}'])
    land(settings, "notes.txt", ["not a landing file"])

    run = ingest_bronze(spark, settings, ingested_at=AT)

    assert (run.files_found, run.files_ingested, run.lines_ingested) == (2, 2, 6)
    assertDataFrameEqual(
        bronze(spark, lake),
        spark.createDataFrame(
            [
                ('{"x": 1}', a, 1, AT, date(2026, 11, 2)),
                ('  {"y": "é ✓"}  ', a, 2, AT, date(2026, 11, 2)),
                ("", a, 3, AT, date(2026, 11, 2)),
                ("not json", a, 4, AT, date(2026, 11, 2)),
                ('{"z": 3}', b, 1, AT, date(2026, 11, 2)),
                ("tail without newline", b, 2, AT, date(2026, 11, 2)),
            ],
            "raw STRING, source_file STRING, line_number LONG, ingested_at TIMESTAMP, ingest_date DATE",
        ),
    )


def test_a_file_is_ingested_once_however_often_the_job_runs(spark, settings, lake):
    land(settings, "a.jsonl.gz", ['{"x": 1}'])
    first = ingest_bronze(spark, settings, ingested_at=AT)
    again = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 3))
    land(settings, "b.jsonl.gz", ['{"x": 2}', '{"x": 3}'])
    later = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 4))

    assert (first.lines_ingested, again.lines_ingested, later.lines_ingested) == (1, 0, 2)
    assert again.bronze_version == first.bronze_version
    assertDataFrameEqual(
        bronze(spark, lake).select("raw", "ingest_date"),
        spark.createDataFrame(
            [('{"x": 1}', date(2026, 11, 2)), ('{"x": 2}', date(2026, 11, 4)), ('{"x": 3}', date(2026, 11, 4))],
            "raw STRING, ingest_date DATE",
        ),
    )


def test_no_landing_zone_yet_is_an_empty_run(spark, settings):
    run = ingest_bronze(spark, settings, ingested_at=AT)
    assert (run.files_found, run.files_ingested, run.lines_ingested, run.bronze_version) == (0, 0, 0, None)


# --- the ingestion ledger --------------------------------------------------------------


def ledger(spark, lake):
    return {r.file_uri: r.bronze_version for r in
            spark.read.format("delta").load(lake.ingested_files.path).collect()}


def test_a_file_whose_rows_were_all_deleted_is_not_ingested_again(spark, settings, lake):
    from delta.tables import DeltaTable

    a = land(settings, "a.jsonl.gz", ['{"user_id": "gone"}', '{"user_id": "gone"}'])
    b = land(settings, "b.jsonl.gz", ['{"user_id": "kept"}'])
    first = ingest_bronze(spark, settings, ingested_at=AT)
    assert ledger(spark, lake) == {a: first.bronze_version, b: first.bronze_version}
    # What an erasure (or retention) does: every row of a.jsonl.gz leaves bronze.
    DeltaTable.forPath(spark, lake.bronze_events.path).delete(F.col("source_file") == a)

    again = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 3))

    assert (again.files_found, again.files_ingested, again.lines_ingested) == (2, 0, 0)
    assert [r.raw for r in bronze(spark, lake).collect()] == ['{"user_id": "kept"}']


def test_a_run_killed_between_the_bronze_commit_and_the_ledger_is_repaired_exactly(
    spark, settings, lake, monkeypatch
):
    from delta.tables import DeltaTable

    from eventlake.bronze import ingest

    a = land(settings, "a.jsonl.gz", ['{"n": 1}', '{"n": 2}'])
    real = ingest.record_ingested

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed after the bronze commit")

    monkeypatch.setattr(ingest, "record_ingested", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest_bronze(spark, settings, ingested_at=AT)
    monkeypatch.setattr(ingest, "record_ingested", real)
    committed = DeltaTable.forPath(spark, lake.bronze_events.path).history(1).first()["version"]
    # Before the rerun, the killed batch's rows even leave bronze (an erasure): the ledger
    # must come from the commit, not from bronze's rows.
    DeltaTable.forPath(spark, lake.bronze_events.path).delete(F.col("source_file") == a)
    b = land(settings, "b.jsonl.gz", ['{"n": 3}'])

    rerun = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 3))

    assert (rerun.files_ingested, rerun.lines_ingested) == (1, 1)
    assert rerun.new_files == (b,)
    assert sorted(r.raw for r in bronze(spark, lake).collect()) == ['{"n": 3}']
    recorded = ledger(spark, lake)
    assert set(recorded) == {a, b} and recorded[a] > committed and recorded[b] == rerun.bronze_version


def test_a_kill_between_the_commits_of_a_later_run_is_repaired_from_the_ledgers_statistics(
    spark, settings, lake, monkeypatch
):
    """The ledger exists: the rerun finds what it missed from the ledger's newest bronze
    version, read from its log's statistics, and records exactly the killed batch."""
    from eventlake.bronze import ingest
    from eventlake.landing import ledger_newest_bronze_version

    a = land(settings, "a.jsonl.gz", ['{"n": 1}'])
    first = ingest_bronze(spark, settings, ingested_at=AT)
    b = land(settings, "b.jsonl.gz", ['{"n": 2}'])
    real = ingest.record_ingested

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed after the bronze commit")

    monkeypatch.setattr(ingest, "record_ingested", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 3))
    monkeypatch.setattr(ingest, "record_ingested", real)
    assert ledger_newest_bronze_version(settings, lake.ingested_files.path) == first.bronze_version

    rerun = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 4))

    assert (rerun.files_ingested, rerun.lines_ingested) == (0, 0)
    assert ledger(spark, lake) == {a: first.bronze_version, b: first.bronze_version + 1}
    assert sorted(r.raw for r in bronze(spark, lake).collect()) == ['{"n": 1}', '{"n": 2}']


def test_the_ledgers_newest_bronze_version_is_its_rows_maximum(spark, settings, lake):
    """delta-rs's reading of the ledger's statistics against Spark's aggregate of its rows."""
    from eventlake.landing import ledger_newest_bronze_version

    path = lake.ingested_files.path
    assert ledger_newest_bronze_version(settings, path) is None  # no ledger yet
    for n in range(3):
        land(settings, f"f{n}.jsonl.gz", [f'{{"n": {n}}}'])
        ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 2 + n))
        rows_max = spark.read.format("delta").load(path).agg(F.max("bronze_version")).first()[0]
        assert ledger_newest_bronze_version(settings, path) == rows_max == n


def test_a_ledger_without_statistics_is_read_by_spark(spark, settings, lake):
    """Statistics are Delta's option, not a given: without them delta-rs cannot say the
    ledger's newest bronze version, and bronze asks Spark's aggregate instead."""
    from eventlake.bronze.ingest import _ledger_newest_bronze_version
    from eventlake.landing import ledger_newest_bronze_version

    a = land(settings, "a.jsonl.gz", ['{"n": 1}'])
    first = ingest_bronze(spark, settings, ingested_at=AT)
    path = lake.ingested_files.path
    # Rewritten without statistics: the same rows, files whose log entries carry none.
    rows = spark.read.format("delta").load(path).collect()
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '0')")
    spark.createDataFrame(rows, spark.read.format("delta").load(path).schema).write.format("delta").mode(
        "overwrite").save(path)

    with pytest.raises(ValueError, match="no bronze_version statistic"):
        ledger_newest_bronze_version(settings, path)
    assert _ledger_newest_bronze_version(spark, settings, path) == first.bronze_version
    again = ingest_bronze(spark, settings, ingested_at=datetime(2026, 11, 3))
    assert (again.files_ingested, again.lines_ingested) == (0, 0)
    assert ledger(spark, lake) == {a: first.bronze_version}
