"""The Kafka consumer's quarantine table (written with delta-rs) keeps no personal statistics,
is vacuumed like the other tables, and an erasure finds a user's record by its key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eventlake.kafka.consumer import quarantine_row, write_quarantine
from eventlake.kafka.normalise import Coordinates, RecordRejection
from eventlake.maintenance.erasure import erase_user
from eventlake.maintenance.tables import lake_tables

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def record(offset: int, key: bytes | None, value: bytes) -> dict:
    where = Coordinates("events", 0, offset, int(NOW.timestamp() * 1000))
    return quarantine_row(RecordRejection("UNDECODABLE", "not UTF-8 JSON"), where, key, value, NOW)


def test_a_users_record_found_by_its_key_leaves_and_no_statistic_names_it(spark, settings, lake):
    victim = "u-victim-9"
    write_quarantine(settings, [record(1, victim.encode(), b"\xff\xfe binary, no id in it")])
    write_quarantine(settings, [record(2, b"u-other-3", b"\xff another")])  # the MERGE path

    adds = [
        json.loads(line)["add"]
        for log in sorted(Path(lake.kafka_quarantine.path, "_delta_log").glob("*.json"))
        for line in log.read_text().splitlines() if '"add"' in line
    ]
    assert len(adds) == 2
    for add in adds:
        stats = json.loads(add["stats"])
        assert not {"key", "raw", "raw_bytes", "detail"} & set(stats["minValues"]), stats
        assert victim not in add["stats"]
    assert lake.kafka_quarantine.name in {t.table.name for t in lake_tables(spark, lake)}

    erased = erase_user(spark, settings, victim, request_id="r-9", erased_at=NOW)

    assert erased.rows_removed[lake.kafka_quarantine.name] == 1
    left = spark.read.format("delta").load(lake.kafka_quarantine.path).collect()
    assert [row.key for row in left] == ["u-other-3"]


def test_a_quarantine_table_from_before_the_properties_gets_them_on_its_next_write(settings, lake):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    from eventlake.kafka.consumer import _arrow_schema, quarantine_properties

    old = pa.Table.from_pylist([record(1, b"k", b"v")], schema=_arrow_schema())
    write_deltalake(lake.kafka_quarantine.path, old, partition_by=["quarantine_date"])  # no properties
    write_quarantine(settings, [record(2, b"u-later", b"\xff")])

    table = DeltaTable(lake.kafka_quarantine.path)
    wanted = quarantine_properties()
    assert {k: table.metadata().configuration.get(k) for k in wanted} == wanted
    newest = sorted(Path(lake.kafka_quarantine.path, "_delta_log").glob("*.json"))[-1].read_text()
    added = [json.loads(line)["add"] for line in newest.splitlines() if '"add"' in line]
    assert added and all("u-later" not in add["stats"] for add in added)
