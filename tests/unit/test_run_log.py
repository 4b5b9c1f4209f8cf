"""The run log: one row per job run, appended by delta-rs and read back by Spark."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from deltalake import DeltaTable
from pyspark.testing import assertDataFrameEqual

from eventlake.state import RUN_LOG_SCHEMA, record_run

pytestmark = pytest.mark.unit


def test_rows_read_back_by_spark_as_recorded_with_checkpoints_as_spark_keeps_them(spark, settings, lake):
    before = datetime.now(UTC)
    for n in range(11):
        record_run(spark, settings, "silver" if n % 2 else "bronze", f"run-{n}", {"lines_read": n, "at": before})
    after = datetime.now(UTC)

    rows = spark.read.format("delta").load(lake.run_log.path)
    assert rows.schema.simpleString() == spark.createDataFrame([], RUN_LOG_SCHEMA).schema.simpleString()
    assertDataFrameEqual(
        rows.select("run_id", "job", "summary"),
        [(f"run-{n}", "silver" if n % 2 else "bronze",
          json.dumps({"at": str(before), "lines_read": n}, sort_keys=True)) for n in range(11)],
    )
    # recorded_at is the moment of the append, in UTC, whatever the session's zone.
    stamps = [r.recorded_at for r in rows.selectExpr("CAST(recorded_at AS STRING) AS recorded_at").collect()]
    assert all(before.strftime("%Y-%m-%d %H:%M") <= s[:16] <= after.strftime("%Y-%m-%d %H:%M") for s in stamps)
    table = DeltaTable(lake.run_log.path)
    assert table.version() == 10
    assert table.metadata().configuration.get("delta.enableChangeDataFeed") == "true"
    log = __import__("pathlib").Path(lake.run_log.path) / "_delta_log"
    assert (log / "_last_checkpoint").exists()
    assert list(log.glob("00000000000000000010.checkpoint*.parquet"))


def test_spark_appends_when_delta_rs_cannot(spark, settings, lake, monkeypatch):
    import deltalake

    record_run(spark, settings, "bronze", "run-1", {"n": 1})

    def refused(*args, **kwargs):
        raise OSError("delta-rs cannot write here")

    monkeypatch.setattr(deltalake, "write_deltalake", refused)
    record_run(spark, settings, "silver", "run-2", {"n": 2})

    rows = spark.read.format("delta").load(lake.run_log.path)
    assertDataFrameEqual(rows.select("run_id", "job"), [("run-1", "bronze"), ("run-2", "silver")])
    history = spark.sql(f"DESCRIBE HISTORY delta.`{lake.run_log.path}`").orderBy("version").collect()
    assert [h.engineInfo.split("/")[0].split(" ")[0] for h in history][1] == "Apache-Spark"
