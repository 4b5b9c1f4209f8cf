"""Catalog registration: external Delta tables by location, idempotent, moved when the path moves."""

from __future__ import annotations

import pytest

from eventlake.catalog import register_table
from eventlake.lake import Table

pytestmark = pytest.mark.unit


def location(spark, name: str) -> str:
    return spark.sql(f"DESCRIBE DETAIL {name}").first()["location"].removeprefix("file:")


def test_register_is_idempotent_and_follows_a_moved_table(spark, tmp_path):
    first, second = tmp_path / "a" / "t", tmp_path / "b" / "t"
    for path, n in ((first, 3), (second, 5)):
        spark.range(n).write.format("delta").save(str(path))
    name = "catalogtest.things"

    assert register_table(spark, Table(name, str(tmp_path / "nothing-here"))) is False
    assert not spark.catalog.tableExists(name)

    assert register_table(spark, Table(name, str(first))) is True
    assert register_table(spark, Table(name, str(first))) is True  # again: unchanged
    assert location(spark, name) == str(first) and spark.table(name).count() == 3

    assert register_table(spark, Table(name, str(second))) is True  # the lake moved
    assert location(spark, name) == str(second) and spark.table(name).count() == 5
    spark.sql(f"DROP TABLE {name}")
