"""A lake written by an older eventlake: silver gains the columns a newer one added."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_an_older_silver_table_gets_the_new_columns_and_keeps_its_rows(spark, tmp_path):
    from pyspark.sql.types import StructType

    from eventlake.schemas import SILVER_EVENTS
    from eventlake.silver.job import ensure_table

    path = str(tmp_path / "silver")
    older = StructType([f for f in SILVER_EVENTS.fields if not f.name.startswith("ua_")])
    row = {f.name: None for f in older.fields} | {"event_id": "e1", "event_name": "search.query"}
    spark.createDataFrame([row], older).write.format("delta").partitionBy("event_date").save(path)

    ensure_table(spark, path, SILVER_EVENTS, "event_date")
    ensure_table(spark, path, SILVER_EVENTS, "event_date")  # a second run changes nothing

    table = spark.read.format("delta").load(path)
    assert table.columns == SILVER_EVENTS.fieldNames()
    assert [(r.event_id, r.ua_browser, r.ua_os, r.ua_device) for r in table.collect()] == [("e1", None, None, None)]
