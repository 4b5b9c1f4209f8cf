"""Which silver days an incremental gold run caches for its tables, and that a table reading
days nobody shares (silver's own rows, not the cache) still equals a full recomputation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pyspark.testing import assertDataFrameEqual

from eventlake.gold.build import build_gold, shared_days
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from goldrows import at, silver_row as ev, write_silver
from goldcases import D0

pytestmark = pytest.mark.unit


def test_a_day_is_shared_when_two_tables_read_it():
    d1, d2, d3, d4 = (date(2026, 11, day) for day in (1, 2, 3, 4))
    assert shared_days([{d1, d2}, {d2, d3}, {d3}, {d4}]) == {d2, d3}
    assert shared_days([{d1, d2}]) == set()
    assert shared_days([]) == set()


def test_an_hour_on_the_newest_day_caches_that_day_not_the_mau_look_back():
    newest = date(2026, 11, 30)  # a Monday: its week is one day old
    needs = {
        name: table.silver_days(table.affected_periods({newest}, newest))
        for name, table in GOLD_TABLES.items()
    }
    shared = shared_days(needs.values())

    assert newest in shared
    assert newest - timedelta(days=1) in shared  # recommendation and search look a day around
    look_back = needs["daily_kpis"] - shared
    # 28 of MAU's 30 days: only daily_kpis reads them, so it reads them from silver itself.
    assert look_back == {newest - timedelta(days=n) for n in range(2, 30)}


def test_a_table_alone_reads_silver_itself_and_equals_a_full_recomputation(spark, copy_of_built):
    settings = copy_of_built
    silver_path = Lake.from_settings(settings).silver_events.path
    late = D0 + timedelta(days=19)
    write_silver(spark, silver_path, [
        ev("playback.started", at(late, "20:00"), user="u77", session="alone", content_id="c1",
           content_type="vod", start_time_ms=500),
    ])

    run = build_gold(spark, settings, tables=["daily_kpis"], run_id="alone")

    assert run.table("daily_kpis").mode == "incremental"
    stored = spark.read.format("delta").load(Lake.from_settings(settings).gold("daily_kpis").path)
    expected = GOLD_TABLES["daily_kpis"].compute(spark.read.format("delta").load(silver_path))
    assertDataFrameEqual(stored, expected)
    assert any(row["event_date"] == late and row["dau"] >= 1 for row in stored.collect())


def test_a_new_table_is_one_delta_rs_commit_with_its_definitions_schema_and_properties(built):
    """A first build creates each table with delta-rs in one commit: the definition's columns
    and comments (every column nullable, as Spark stores them), its description, the change
    feed on, and statistics only on the columns `stats_properties` names (never user_key: an
    erased key would outlive its rows in _delta_log). With Spark's OpenLineage listener on,
    Spark writes it instead (tests/e2e/test_pipeline.py reads those writes' lineage)."""
    import pyarrow as pa
    from deltalake import DeltaTable

    settings, run = built
    lake = Lake.from_settings(settings)
    for name, table in GOLD_TABLES.items():
        stored = DeltaTable(lake.gold(name).path)
        [commit] = stored.history()
        assert commit["engineInfo"].startswith("delta-rs") and stored.version() == 0, name
        assert run.table(name).mode == "full" and run.table(name).gold_version == 0, name
        assert stored.metadata().description == table.description, name
        assert {f.name: (f.metadata.get("comment"), f.nullable) for f in stored.schema().fields} == {
            c.name: (c.comment, True) for c in table.columns
        }, name
        config = stored.metadata().configuration
        assert config["delta.enableChangeDataFeed"] == "true", name
        with_stats = set(config["delta.dataSkippingStatsColumns"].split(","))
        assert "user_key" not in with_stats and with_stats <= set(table.column_names), name
        files = pa.table(stored.get_add_actions(flatten=True))
        assert not [c for c in files.column_names if c.startswith(("min.", "max.")) and c.split(".", 1)[1] not in with_stats], name
        assert sum(files["num_records"].to_pylist()) == run.table(name).rows_written, name


def test_a_period_rebuild_commits_the_rows_it_audited_without_another_spark_job(spark, copy_of_built):
    """`materialise` computes, caches and collects a staged table's rows in one job; the
    audit reads the cache and the delta-rs commit writes what was collected, so committing
    runs no Spark job at all, and the table still equals a full recomputation."""
    from eventlake.gold.build import _Builder, _Scope
    from eventlake.state import current_version

    settings = copy_of_built
    lake = Lake.from_settings(settings)
    silver_path = lake.silver_events.path
    late = D0 + timedelta(days=2)
    write_silver(spark, silver_path, [
        ev("playback.started", at(late, "21:00"), user="u78", session="late", content_id="c2",
           content_type="vod", start_time_ms=700),
    ])
    table = GOLD_TABLES["daily_kpis"]
    builder = _Builder(spark, settings, lake, silver_path, current_version(spark, silver_path))
    scope = builder.incremental_scope(table)
    assert isinstance(scope, _Scope) and scope.periods, scope
    builder.share_silver([scope])
    plan = builder.stage(scope)
    name, staged = builder.materialise(plan)
    assert name == "gold.daily_kpis" and plan.collected is not None
    assert plan.collected.num_rows == plan.row_count == staged.rows.count() > 0

    group = "gold-commit-after-materialise"
    spark.sparkContext.setJobGroup(group, "a materialised period rebuild's commit")
    try:
        run = builder.commit(plan)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
        staged.rows.unpersist()
    assert spark.sparkContext.statusTracker().getJobIdsForGroup(group) == []
    assert run.rows_written == plan.row_count

    stored = spark.read.format("delta").load(lake.gold("daily_kpis").path)
    assertDataFrameEqual(stored, table.compute(spark.read.format("delta").load(silver_path)))
    assert any(row["event_date"] == late for row in stored.collect())
