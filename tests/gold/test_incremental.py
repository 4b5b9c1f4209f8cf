"""Incremental gold runs always equal a full recomputation from silver, and touch only what
new silver rows can change: late data, repeated runs, GDPR deletes, explicit repairs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from delta.tables import DeltaTable

from goldcases import D0, T1, lake_settings
from eventlake.gold.build import build_gold
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from goldrows import at, silver_row as ev, write_silver

pytestmark = pytest.mark.unit

LATE = D0 + timedelta(days=19)  # three weeks before the newest silver day (D0 + 40)
LATE_WEEK = LATE - timedelta(days=LATE.weekday())


def _snapshot(spark, settings) -> dict[str, list[tuple]]:
    lake = Lake.from_settings(settings)
    return {
        name: sorted(
            (tuple(r) for r in spark.read.format("delta").load(lake.gold(name).path).collect()),
            key=repr,
        )
        for name in GOLD_TABLES
    }


def _period_day(table, row: tuple):
    value = row[0]
    return value.date() if table.period == "hour" else value


def _versions(spark, settings) -> dict[str, int]:
    lake = Lake.from_settings(settings)
    return {
        name: DeltaTable.forPath(spark, lake.gold(name).path).history(1).first()["version"]
        for name in GOLD_TABLES
    }


def _late_rows() -> list[dict]:
    return [
        ev("playback.started", at(LATE, "20:00"), user="u1", session="late1",
           content_id="c1", content_type="vod", start_time_ms=700),
        ev("playback.started", at(LATE, "20:01"), user="u42", session="late2", market=None,
           content_id="c1", content_type="vod", start_time_ms=900),
        ev("search.query", at(LATE, "19:58"), user="u42", session="late2", market=None,
           query_text="late", search_type="text"),
        ev("track.play_start", at(LATE, "21:00"), user="u42", session="late2", track_id=T1),
    ]


def test_late_events_change_their_periods_only_and_equal_a_full_rebuild(
    spark, copy_of_built, edge_rows, tmp_path_factory, monkeypatch
):
    from eventlake.gold import build as gold_build

    settings = copy_of_built
    before = _snapshot(spark, settings)
    write_silver(spark, Lake.from_settings(settings).silver_events.path, _late_rows())
    monkeypatch.setattr(gold_build, "CHECKPOINT_INTERVAL", 1)  # a checkpoint with every commit

    run = build_gold(spark, settings, run_id="late")
    after = _snapshot(spark, settings)

    # Period rebuilds are delta-rs's commits, each with the checkpoint Spark read them from.
    # (A table holding an instant delta-rs cannot read stays with Spark: test_edge_of_time.)
    for name in GOLD_TABLES:
        path = Lake.from_settings(settings).gold(name).path
        [newest] = DeltaTable.forPath(spark, path).history(1).collect()
        assert newest["engineInfo"].startswith("delta-rs") and newest["operation"] == "WRITE", name
        assert newest["version"] == run.table(name).gold_version, name
        assert (Path(path) / "_delta_log" / f"{newest['version']:020d}.checkpoint.parquet").exists(), name

    last_day = D0 + timedelta(days=40)
    assert run.table("daily_kpis").periods == (f"{LATE}..{last_day}",)
    assert run.table("event_metrics_weekly").periods == (str(LATE_WEEK),)
    assert run.table("search_performance").periods == (f"{LATE - timedelta(days=1)}..{LATE}",)
    assert run.table("track_hourly").periods == (str(LATE),)
    assert {r.mode for r in run.tables} == {"incremental"}

    changed_kpi_days = {
        r[0] for r in set(after["daily_kpis"]) ^ set(before["daily_kpis"])
    }
    # the late day itself, and the later days whose 30-day window now includes u42
    assert changed_kpi_days == {
        LATE, D0 + timedelta(days=29), D0 + timedelta(days=30), D0 + timedelta(days=40)
    }
    for name, table in GOLD_TABLES.items():
        affected = table.affected_periods({LATE}, last_day)
        untouched_before = [r for r in before[name] if _period_day(table, r) not in affected]
        untouched_after = [r for r in after[name] if _period_day(table, r) not in affected]
        assert untouched_after == untouched_before, name  # every other row exactly as it was
        if name in ("daily_active_users", "event_metrics_daily", "qoe_summary",
                    "content_engagement", "search_performance", "track_daily"):
            assert any(_period_day(table, r) == LATE for r in after[name]), name

    fresh = lake_settings(tmp_path_factory.mktemp("fresh"))
    write_silver(spark, Lake.from_settings(fresh).silver_events.path, edge_rows + _late_rows())
    build_gold(spark, fresh, run_id="fresh")
    assert _snapshot(spark, fresh) == after


def _files_per_period(spark, settings, name: str) -> dict:
    """How many data files hold each period's rows of a gold table."""
    from pyspark.sql import functions as F

    table = GOLD_TABLES[name]
    located = spark.read.format("delta").load(Lake.from_settings(settings).gold(name).path).select(
        F.col(table.period_column).alias("period"), F.input_file_name().alias("file")
    )
    return {r["period"]: r["files"] for r in located.groupBy("period").agg(F.countDistinct("file").alias("files")).collect()}


def test_each_period_is_written_to_one_file_by_a_build_and_by_a_rebuild(spark, copy_of_built):
    """One file per group of whole periods, so a later rebuild of a period rewrites only the
    files holding it: after the first build (many periods at once) and after a run that
    rebuilds one period of a table or several."""
    settings = copy_of_built
    for name in GOLD_TABLES:
        assert set(_files_per_period(spark, settings, name).values()) == {1}, name
    write_silver(spark, Lake.from_settings(settings).silver_events.path, _late_rows())

    run = build_gold(spark, settings, run_id="late")

    single = [r.table for r in run.tables if len(r.periods) == 1 and ".." not in r.periods[0]]
    several = [r.table for r in run.tables if len(r.periods) > 1 or any(".." in p for p in r.periods)]
    assert {"track_hourly", "event_metrics_weekly"} <= set(single)
    assert {"daily_kpis", "search_performance"} <= set(several)
    for name in GOLD_TABLES:
        assert set(_files_per_period(spark, settings, name).values()) == {1}, name
    for name in single:
        history = DeltaTable.forPath(spark, Lake.from_settings(settings).gold(name).path).history(1).first()
        metrics = history["operationMetrics"]  # as Spark names them, or delta-rs (period rebuilds)
        files = metrics.get("numFiles", metrics.get("num_added_files"))
        # The one period's rows in one file; a period left without rows gets no file.
        assert files == ("1" if run.table(name).rows_written else "0"), name


def test_a_repeated_run_writes_nothing(spark, copy_of_built):
    settings = copy_of_built
    versions, before = _versions(spark, settings), _snapshot(spark, settings)

    run = build_gold(spark, settings, run_id="again")

    assert {r.mode for r in run.tables} == {"unchanged"}
    assert run.rows_written == 0
    assert _versions(spark, settings) == versions
    assert _snapshot(spark, settings) == before


def test_delta_rs_reads_the_changed_days_spark_reads(spark, copy_of_built):
    """An incremental run learns silver's changed days from delta-rs's read of the change
    feed, Spark's being the fallback: over an append, an erasure's delete and a retention
    commit, both name the days the append and the delete touched, and not the retained-away
    day (gold keeps those periods, contract §6). Silver's first and last day come from its
    file list, at the version asked for."""
    from eventlake.gold import build as gold_build
    from eventlake.lake import open_delta
    from eventlake.maintenance.retention import RETENTION_COMMIT_TAG, expire_delta_partitions
    from eventlake.state import ChangeWindow, current_version

    settings = copy_of_built
    lake = Lake.from_settings(settings)
    path = lake.silver_events.path
    before = current_version(spark, path)
    silver = spark.read.format("delta").load(path)
    erased_days = {r[0] for r in silver.where("user_key = 'uk-u9'").select("event_date").distinct().collect()}
    first_day = silver.agg({"event_date": "min"}).first()[0]
    assert erased_days and first_day not in erased_days | {LATE}

    write_silver(spark, path, _late_rows())
    DeltaTable.forPath(spark, path).delete("user_key = 'uk-u9'")
    expire_delta_partitions(spark, lake.silver_events, "event_date", first_day + timedelta(days=1),
                            f"{RETENTION_COMMIT_TAG} as_of=test")
    window = ChangeWindow(before, current_version(spark, path))
    assert window.up_to_version == before + 3

    from_log = gold_build._changed_days_from_log(open_delta(settings, path, window.up_to_version), window)
    assert from_log == {LATE} | erased_days  # not None: delta-rs answered
    assert gold_build._changed_days_by_spark(spark, path, window) == from_log
    # Silver's first and last day come from its file list alike (not False: delta-rs answered).
    stored = spark.read.format("delta").load(path).selectExpr("min(event_date)", "max(event_date)").first()
    assert gold_build._partition_bounds(open_delta(settings, path, window.up_to_version)) == (stored[0], stored[1])
    assert gold_build._partition_bounds(open_delta(settings, path, before))[0] == first_day


def test_gdpr_erasure_in_silver_reaches_gold(spark, copy_of_built, edge_rows):
    settings = copy_of_built
    silver_path = Lake.from_settings(settings).silver_events.path
    # u9 is the only user on D0+29 and D0+30; u7's query was successful across midnight
    DeltaTable.forPath(spark, silver_path).delete("user_key IN ('uk-u9', 'uk-u7')")

    run = build_gold(spark, settings, run_id="erase")

    remaining = spark.read.format("delta").load(silver_path)
    lake = Lake.from_settings(settings)
    for name, table in GOLD_TABLES.items():
        stored = spark.read.format("delta").load(lake.gold(name).path)
        assert sorted(map(tuple, stored.collect()), key=repr) == sorted(
            map(tuple, table.compute(remaining).collect()), key=repr
        ), name
    kpi_days = {r[0] for r in spark.read.format("delta").load(lake.gold("daily_kpis").path).collect()}
    assert D0 + timedelta(days=29) not in kpi_days and D0 + timedelta(days=30) not in kpi_days
    assert "uk-u9" not in {
        r.user_key for r in spark.read.format("delta").load(lake.gold("user_activity_daily").path).collect()
    }
    assert run.table("daily_kpis").mode == "incremental"


def test_an_explicit_range_recomputes_those_days_and_leaves_watermarks(spark, copy_of_built):
    settings = copy_of_built
    before = _snapshot(spark, settings)
    silver_path = Lake.from_settings(settings).silver_events.path
    write_silver(spark, silver_path, _late_rows())

    run = build_gold(spark, settings, tables=["daily_active_users", "event_metrics_weekly"],
                     from_date=LATE, to_date=LATE)

    assert [(r.table, r.mode, r.periods) for r in run.tables] == [
        ("daily_active_users", "range", (str(LATE),)),
        ("event_metrics_weekly", "range", (str(LATE_WEEK),)),
    ]
    after = _snapshot(spark, settings)
    assert after["daily_kpis"] == before["daily_kpis"]  # not asked for
    assert any(r[0] == LATE for r in after["daily_active_users"])
    # the watermarks did not move: the next incremental run still sees the late rows
    follow_up = build_gold(spark, settings, tables=["daily_kpis"])
    assert follow_up.table("daily_kpis").periods == (f"{LATE}..{D0 + timedelta(days=40)}",)


def test_repeating_an_explicit_range_changes_nothing_and_equals_a_full_rebuild(
    spark, copy_of_built, monkeypatch
):
    """An operator's repair rerun (the same --from-date/--to-date twice, e.g. a retried task)
    is idempotent: the second run leaves every table as the first left it, and both equal
    each table computed from the whole of silver. The first run's commits are delta-rs's;
    the second's Spark's, as for a rebuild too large to collect to the driver."""
    from eventlake.gold import build as gold_build

    settings = copy_of_built
    lake = Lake.from_settings(settings)
    write_silver(spark, lake.silver_events.path, _late_rows())
    tables = ["daily_active_users", "event_metrics_weekly", "top_tracks_daily"]

    def newest_engines() -> set[str]:
        return {DeltaTable.forPath(spark, lake.gold(name).path).history(1).first()["engineInfo"].split(":")[0]
                .split("/")[0] for name in tables}

    build_gold(spark, settings, tables=tables, from_date=LATE, to_date=LATE)
    once = _snapshot(spark, settings)
    assert newest_engines() == {"delta-rs"}
    monkeypatch.setattr(gold_build, "DELTA_RS_MAX_ROWS", 0)  # every rebuild here has rows
    build_gold(spark, settings, tables=tables, from_date=LATE, to_date=LATE)
    assert newest_engines() == {"Apache-Spark"}

    assert _snapshot(spark, settings) == once
    silver = spark.read.format("delta").load(lake.silver_events.path)
    for name in tables:
        expected = sorted((tuple(r) for r in GOLD_TABLES[name].compute(silver).collect()), key=repr)
        assert once[name] == expected, name


def test_a_changed_description_reaches_the_table_with_its_next_period_rebuild(spark, copy_of_built, monkeypatch):
    """A definition whose description alone changed keeps its table in place (no whole-table
    rebuild): its next period rebuild writes the new description in one more commit, which
    the run reports as the table's version."""
    from dataclasses import replace

    from eventlake.gold import build as gold_build
    from eventlake.state import stored_description

    settings = copy_of_built
    lake = Lake.from_settings(settings)
    renamed = "Plays per track and hour, described anew."
    described_anew = replace(GOLD_TABLES["track_hourly"], description=renamed)
    monkeypatch.setattr(gold_build, "GOLD_TABLES", {**GOLD_TABLES, "track_hourly": described_anew})
    write_silver(spark, lake.silver_events.path, _late_rows())

    result = build_gold(spark, settings, tables=["track_hourly"], run_id="described").table("track_hourly")

    path = lake.gold("track_hourly").path
    newest = DeltaTable.forPath(spark, path).history(2).collect()
    assert result.mode == "incremental" and result.periods == (str(LATE),)
    assert [h["operation"] for h in newest] == ["SET TBLPROPERTIES", "WRITE"]
    assert result.gold_version == newest[0]["version"]
    assert stored_description(spark, path, result.gold_version) == renamed

