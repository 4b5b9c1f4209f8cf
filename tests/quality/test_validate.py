"""The suites with real Great Expectations on real Delta tables in a temporary lake."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from eventlake.errors import QualityGateFailed
from eventlake.quality import validate_layer
from eventlake.quality.suites import load_layer
from eventlake.schemas import SILVER_EVENTS

from .tables import (
    DAY,
    GOLD_SCHEMAS,
    clean_gold_rows,
    silver_event,
    write,
    write_bronze,
    write_gold,
    write_silver_run,
)

pytestmark = pytest.mark.unit

AS_OF = datetime(2024, 3, 12, 6, 0)


def outcomes(report) -> dict[str, tuple[str, bool]]:
    return {r.qualified_name: (r.severity, r.success) for r in report.results}


def failed(report) -> dict[str, str]:
    return {r.qualified_name: r.severity for r in report.results if not r.success}


def all_expectations(layer: str) -> set[str]:
    return {f"{s.name}.{e.name}" for s in load_layer(layer).suites for e in s.expectations}


# --- bronze ---------------------------------------------------------------------------


def test_bronze_passes_on_clean_lines(spark, settings, lake):
    summary = write_bronze(spark, lake, ['{"event_id": "a"}', '{"event_id": "b"}', '{"event_id": "c"}'])

    report = validate_layer(spark, settings, "bronze", run_id="r1", run_summary=summary)

    assert failed(report) == {}
    assert set(outcomes(report)) == all_expectations("bronze")
    by_name = {r.qualified_name: r for r in report.results}
    assert by_name["bronze.run.parse_failure_share_below_fail"].observed_value == "0"
    assert by_name["bronze.run_rows.raw_not_null"].observed_value == "0 of 3 rows unexpected"
    report.raise_for_critical()  # nothing to raise


def test_bronze_fails_when_most_lines_are_not_json(spark, settings, lake):
    summary = write_bronze(spark, lake, ['{"event_id": "a"}', "not json", '["an", "array"]'])

    report = validate_layer(spark, settings, "bronze", run_id="r2", run_summary=summary)

    assert failed(report) == {
        "bronze.run.parse_failure_share_below_warn": "warning",
        "bronze.run.parse_failure_share_below_fail": "critical",
    }
    share = {r.qualified_name: r.observed_value for r in report.results}
    assert share["bronze.run.parse_failure_share_below_fail"] == "0.666667"
    with pytest.raises(QualityGateFailed, match=r"bronze\.run\.parse_failure_share_below_fail"):
        report.raise_for_critical()


# --- silver ---------------------------------------------------------------------------


def test_silver_passes_on_clean_rows_and_records_results(spark, settings, lake):
    summary = write_silver_run(spark, lake, [silver_event(n) for n in range(1, 5)])

    report = validate_layer(spark, settings, "silver", run_id="r1", run_summary=summary)

    assert failed(report) == {}
    assert set(outcomes(report)) == all_expectations("silver")
    stored = spark.read.format("delta").load(lake.quality_results.path)
    assertDataFrameEqual(
        stored.select("run_id", "layer", "table_name", "suite", "expectation", "success"),
        [
            ("r1", "silver", "silver.events", name.rsplit(".", 1)[0], name.rsplit(".", 1)[1], True)
            for name in all_expectations("silver")
        ],
    )
    assert (Path(lake.quality_docs) / "index.html").is_file()


def test_silver_names_each_broken_expectation(spark, settings, lake):
    events = [
        silver_event(1),
        silver_event(2, event_id="e1"),  # a duplicate event_id
        silver_event(3, properties=json.dumps({"query_text": "call me at jane.doe@example.com"})),
        silver_event(4, user_key="user-4"),  # a raw id where a pseudonymous key belongs
        silver_event(5, market="de"),
    ]
    # 1 quarantined line of 20 read (14 dropped for consent): 5 % only warns.
    summary = write_silver_run(spark, lake, events, quarantined=1)
    summary |= {"lines_read": 20, "consent_dropped": 14}

    report = validate_layer(spark, settings, "silver", run_id="r3", run_summary=summary)

    assert failed(report) == {
        "silver.run_rows.event_id_unique": "critical",
        "silver.event_ids.event_id_unique_in_table": "critical",
        "silver.run_rows.no_email_in_properties": "critical",
        "silver.run_rows.user_key_is_sha256_hex": "critical",
        "silver.run_rows.market_is_two_upper_case_letters": "warning",
        "silver.run.quarantine_share_below_warn": "warning",
    }
    with pytest.raises(QualityGateFailed) as raised:
        report.raise_for_critical()
    message = str(raised.value)
    assert "\n" not in message
    for name in ("event_id_unique", "no_email_in_properties", "user_key_is_sha256_hex"):
        assert name in message
    assert "market_is_two_upper_case_letters" not in message  # warnings never stop the run


def test_an_event_id_an_earlier_run_wrote_fails_uniqueness_across_runs(spark, settings, lake):
    """A run whose own rows are unique, one of them an event_id an earlier run wrote (another
    file, another day): the table check fails, on the rows sharing the run's ids only."""
    earlier = datetime(2024, 3, 10, 6, 0)
    older_file = "file:/lake/landing/events/event_date=2024-03-09/event_hour=10/old.jsonl.gz"
    write(spark, [silver_event(1, source_file=older_file, ingested_at=earlier),
                  silver_event(7, source_file=older_file, ingested_at=earlier)],
          SILVER_EVENTS, lake.silver_events.path, "event_date")
    summary = write_silver_run(spark, lake, [silver_event(1), silver_event(2)])

    report = validate_layer(spark, settings, "silver", run_id="across", run_summary=summary)

    assert failed(report) == {"silver.event_ids.event_id_unique_in_table": "critical"}
    observed = {r.qualified_name: r.observed_value for r in report.results}
    # e1 twice; e2 once; e7 (an earlier run's, untouched) is not this run's to check.
    assert observed["silver.event_ids.event_id_unique_in_table"] == "2 of 3 rows unexpected"


def test_a_run_that_read_no_line_does_not_check_the_table_again(spark, settings, lake):
    write(spark, [silver_event(1), silver_event(2, event_id="e1")], SILVER_EVENTS, lake.silver_events.path, "event_date")
    summary = {"run_id": "idle", "lines_read": 0, "silver_rows": 0, "quarantined": 0,
               "consent_dropped": 0, "duplicates": 0, "reconciles": True}

    report = validate_layer(spark, settings, "silver", run_id="idle", run_summary=summary)

    assert failed(report) == {}
    assert not any(r.suite == "silver.event_ids" for r in report.results)
    assert any(n.startswith("silver.event_ids: this run read no bronze line") for n in report.notes), report.notes


def test_a_rerun_after_a_failed_gate_fails_again(spark, settings, lake):
    """The failed run's rows are in silver; its rerun reads the same lines and inserts
    nothing (every id is stored), and what stopped the first run still stops it."""
    summary = write_silver_run(spark, lake, [silver_event(1), silver_event(2, event_id="e1"),
                                             silver_event(3, user_key="user-3")])
    rerun = summary | {"run_id": "rerun", "silver_rows": 0, "duplicates": 3, "cross_run_duplicates": 3}

    report = validate_layer(spark, settings, "silver", run_id="rerun", run_summary=rerun)

    assert failed(report) == {
        "silver.run_rows.event_id_unique": "critical",
        "silver.event_ids.event_id_unique_in_table": "critical",
        "silver.run_rows.user_key_is_sha256_hex": "critical",
        # 3 rows read back for the run's lines, none inserted by it: the suite's own note
        # says a rerun finds the rows an earlier run wrote, so it only warns.
        "silver.run.run_rows_match_run_log": "warning",
    }


def test_a_failed_check_shows_its_unexpected_values_and_a_passing_one_none(spark, settings, lake):
    """The checkpoint counts; only the checks that failed look for their unexpected values
    (a second pass), on Spark (silver's rows) and on pandas (a gold table) alike. A check of
    a personal column shows none: its values (a raw id in user_key, an e-mail address left
    in properties) would be copied where no erasure reaches."""
    events = [silver_event(1), silver_event(2, user_key="user-2"), silver_event(3, market="de"),
              silver_event(4, market="fr"), silver_event(5, properties='{"note": "jane@example.com"}')]
    silver = write_silver_run(spark, lake, events)
    reports = [validate_layer(spark, settings, "silver", run_id="sampled", run_summary=silver)]
    gold = _silver_for_gold(spark, lake, users=3)
    rows = clean_gold_rows(users=3)
    rows["daily_kpis"] = [(DAY, -7, 4, 0.0, 0.5)]
    write_gold(spark, lake, rows)
    reports.append(validate_layer(spark, settings, "gold", run_id="sampled", run_summary=gold, as_of=AS_OF))

    details = {r.qualified_name: json.loads(r.details) for report in reports for r in report.results}
    samples = {name: d["unexpected_sample"] for name, d in details.items() if "unexpected_sample" in d}
    assert {name: sorted(values) for name, values in samples.items()} == {
        "silver.run_rows.market_is_two_upper_case_letters": ["de", "fr"],
        "gold.daily_kpis.dau_non_negative": [-7],
    }
    counted = {r.qualified_name: r.observed_value for report in reports for r in report.results if not r.success}
    assert counted["silver.run_rows.user_key_is_sha256_hex"].startswith("1 of ")
    assert counted["silver.run_rows.no_email_in_properties"].startswith("1 of ")
    quality_files = [f for f in Path(lake.root, "_quality").rglob("*") if f.is_file()]
    assert quality_files
    for leaked in (b"user-2", b"jane@example.com"):
        assert not [f for f in quality_files if leaked in f.read_bytes()], leaked
    # GX's stored results, which Data Docs render, hold the same samples.
    results = Path(lake.quality_validations)
    stored = {}
    for path in results.rglob("*.json"):
        if path.relative_to(results).parts[-3] == "sampled":
            for item in json.loads(path.read_text())["results"]:
                if item["result"].get("partial_unexpected_list"):
                    stored[item["expectation_config"]["meta"]["name"]] = sorted(item["result"]["partial_unexpected_list"])
    assert stored == {name.rsplit(".", 1)[1]: sorted(values) for name, values in samples.items()}


def test_silver_quarantine_share_and_reconciliation_fail(spark, settings, lake):
    summary = write_silver_run(spark, lake, [silver_event(1)], quarantined=3)
    summary |= {"duplicates": 1, "reconciles": False}  # 4 lines read, 1 + 3 + 0 + 1 counted

    report = validate_layer(spark, settings, "silver", run_id="r4", run_summary=summary)

    assert failed(report) == {
        "silver.run.run_reconciles": "critical",
        "silver.run.quarantine_share_below_warn": "warning",
        "silver.run.quarantine_share_below_fail": "critical",
    }
    observed = {r.qualified_name: r.observed_value for r in report.results}
    assert observed["silver.run.quarantine_share_below_fail"] == "0.75"


def test_spark_and_pandas_engines_give_the_same_results(spark, settings, lake, monkeypatch):
    """A small batch is validated in pandas, a large one on Spark: both say the same of the
    same rows, including an UnexpectedRowsExpectation, whose Spark SQL query runs in Spark
    over a pandas batch's own Spark frame (checkpoint.spark_backed)."""
    from datetime import timedelta

    from eventlake.quality import checkpoint, engine

    from .tables import INGESTED_AT

    late = INGESTED_AT + timedelta(hours=2)
    events = [silver_event(1), silver_event(2, user_key="user-2"), silver_event(3, market="de"),
              *(silver_event(n, event_timestamp=late) for n in (4, 5, 6))]
    summary = write_silver_run(spark, lake, events, quarantined=1) | {"duplicates": 1, "reconciles": False}

    def results(run_id: str) -> dict[str, tuple[bool, str | None]]:
        report = validate_layer(spark, settings, "silver", run_id=run_id, run_summary=summary)
        return {r.qualified_name: (r.success, r.observed_value) for r in report.results}

    on_pandas = results("small")
    # More unexpected rows (3) than GX keeps (here: 1): they are counted apart.
    monkeypatch.setattr(checkpoint, "MAX_RESULT_RECORDS", 1)
    assert results("small-counted") == on_pandas
    monkeypatch.setattr(engine, "PANDAS_MAX_ROWS", 0)  # every batch is "large"
    on_spark = results("large")

    assert on_pandas == on_spark
    assert {name for name, (success, _) in on_spark.items() if not success} == {
        "silver.run_rows.user_key_is_sha256_hex", "silver.run_rows.market_is_two_upper_case_letters",
        "silver.run_rows.event_timestamp_not_after_ingestion", "silver.run.run_reconciles",
        "silver.run.quarantine_share_below_warn", "silver.run.quarantine_share_below_fail",
    }
    # The query's count of unexpected rows is its observed value, on either engine.
    assert on_pandas["silver.run_rows.event_timestamp_not_after_ingestion"] == (False, "3")
    # The views the queries ran on are gone with the checkpoint.
    assert not [t.name for t in spark.catalog.listTables() if t.name.startswith("eventlake_batch_")]


def test_missing_run_summary_is_a_warning_not_a_crash(spark, settings, lake):
    write(spark, [silver_event(1)], SILVER_EVENTS, lake.silver_events.path, "event_date")

    report = validate_layer(spark, settings, "silver", run_id="r5", run_summary=None)

    assert failed(report) == {
        "silver.run_rows.skipped": "warning",
        "silver.run.skipped": "warning",
    }
    assert outcomes(report)["silver.event_ids.event_id_unique_in_table"] == ("critical", True)
    report.raise_for_critical()  # only warnings: the run goes on


# --- gold -----------------------------------------------------------------------------


def _silver_for_gold(spark, lake, users: int) -> dict:
    events = [silver_event(n) for n in range(1, users + 1)]
    return write_silver_run(spark, lake, events)


def test_gold_passes_on_consistent_tables(spark, settings, lake):
    summary = _silver_for_gold(spark, lake, users=3)
    write_gold(spark, lake, clean_gold_rows(users=3))

    report = validate_layer(spark, settings, "gold", run_id="r1", run_summary=summary, as_of=AS_OF)

    assert failed(report) == {}
    expected = all_expectations("gold") - {
        "gold.referential.content_ids_in_catalog", "gold.referential.channel_ids_in_catalog",
    }
    assert set(outcomes(report)) == expected
    assert any("no catalog dimension configured" in note for note in report.notes)
    observed = {r.qualified_name: r.observed_value for r in report.results}
    assert observed["gold.volume.volume_change_within_50_percent"] == "0"
    assert observed["gold.freshness.newest_event_age_hours"] == "19.9992"  # 10:00:03 → 06:00 next day


def test_gold_negative_count_fails_and_volume_drop_warns(spark, settings, lake):
    summary = _silver_for_gold(spark, lake, users=3)
    rows = clean_gold_rows(users=3, newest_day_events=10)  # 90 % fewer events than a week before
    rows["daily_kpis"] = [(DAY, -1, 4, 0.0, 0.5)]
    rows["daily_active_users"] = [(DAY, "US", "tizen", 5, 3, 9)]  # 5 active > 3 users in silver
    write_gold(spark, lake, rows)
    write(spark, [("c0",)], "content_id STRING", lake.path("reference/content_catalog"))

    report = validate_layer(spark, settings, "gold", run_id="r2", run_summary=summary, as_of=AS_OF)

    assert failed(report) == {
        "gold.daily_kpis.dau_non_negative": "critical",
        "gold.daily_active_users.active_users_within_silver_users": "critical",
        "gold.volume.volume_change_within_50_percent": "warning",
        "gold.referential.content_ids_in_catalog": "warning",  # c1 is not in the catalog
    }
    observed = {r.qualified_name: r.observed_value for r in report.results}
    assert observed["gold.volume.volume_change_within_50_percent"] == "-0.9"
    assert observed["gold.daily_kpis.dau_non_negative"] == "1 of 1 rows unexpected"
    assert observed["gold.referential.content_ids_in_catalog"] == "1"
    with pytest.raises(QualityGateFailed, match="dau_non_negative"):
        report.raise_for_critical()


def test_staged_tables_are_audited_on_the_rows_they_write_and_volume_on_the_whole_table(spark, settings, lake):
    """Write-audit-publish of an incremental gold run: a staged table's suite validates the
    rows the commit writes (the rebuilt periods), not the periods it keeps; the volume check
    reads the table as it will be after the commit (kept baseline and new day together)."""
    from datetime import timedelta

    from eventlake.quality.batches import StagedTable

    summary = _silver_for_gold(spark, lake, users=3)
    stored = clean_gold_rows(users=3)
    stored["daily_kpis"] = [(DAY - timedelta(days=1), 2, 4, 0.5, 0.1), (DAY, 3, 4, 0.75, 0.5)]
    stored["event_metrics_daily"] = stored["event_metrics_daily"][:1]  # the baseline week only
    write_gold(spark, lake, stored)

    def staged(table: str, rows: list[tuple], kept) -> StagedTable:
        frame = spark.createDataFrame(rows, GOLD_SCHEMAS[table])
        stored_table = spark.read.format("delta").load(lake.gold(table).path)
        return StagedTable(frame, lambda: stored_table.where(kept).unionByName(frame))

    report = validate_layer(
        spark, settings, "gold", run_id="r3", run_summary=summary, as_of=AS_OF,
        staged={
            "gold.daily_kpis": staged("daily_kpis", [(DAY, -1, 4, 0.0, 0.5)], f"event_date <> '{DAY}'"),
            "gold.event_metrics_daily": staged(
                "event_metrics_daily", [(DAY, "playback.started", 10, 10, 10)], f"event_date <> '{DAY}'"
            ),
        },
    )

    observed = {r.qualified_name: r.observed_value for r in report.results}
    assert observed["gold.daily_kpis.dau_non_negative"] == "1 of 1 rows unexpected"  # the new row only
    assert observed["gold.volume.volume_change_within_50_percent"] == "-0.9"  # 10 against the kept 100
    assert failed(report) == {
        "gold.daily_kpis.dau_non_negative": "critical",
        "gold.volume.volume_change_within_50_percent": "warning",
    }
    validated = {r.table for r in report.results}
    assert "gold.track_daily" not in validated  # not staged: unchanged by the run
    with pytest.raises(QualityGateFailed, match="dau_non_negative"):
        report.raise_for_critical()


def test_results_keep_one_validation_per_run_and_layer(spark, settings, lake):
    summary = write_bronze(spark, lake, ['{"event_id": "a"}'])
    first = validate_layer(spark, settings, "bronze", run_id="r1", run_summary=summary)
    validate_layer(spark, settings, "bronze", run_id="r1", run_summary=summary)

    stored = spark.read.format("delta").load(lake.quality_results.path)
    assertDataFrameEqual(
        stored.select("run_id", "suite", "expectation", "severity", "success"),
        [("r1", r.suite, r.expectation, r.severity, r.success) for r in first.results],
    )


# --- one Data Docs site --------------------------------------------------------------


def test_one_docs_site_lists_the_validations_of_every_task_on_the_lake(spark, settings, lake):
    """Each Airflow task is its own process with its own GX context; the site and its
    results are the lake's, so the index a later task builds still lists earlier tasks'."""
    from eventlake.quality import engine

    bronze = write_bronze(spark, lake, ['{"event_id": "a"}'])
    validate_layer(spark, settings, "bronze", run_id="task-one", run_summary=bronze)
    engine._WORKSPACES.clear()  # the next task: a new process, a new GX context
    validate_layer(spark, settings, "bronze", run_id="task-two", run_summary=bronze)

    results = Path(lake.quality_validations)
    # GX's key: <suite name, a folder per dotted part>/<run name>/<run time>/<batch>.json
    stored = {
        (".".join(path.relative_to(results).parts[:-3]), path.relative_to(results).parts[-3])
        for path in results.rglob("*.json")
    }
    suites = {s.name for s in load_layer("bronze").suites}
    assert stored == {(suite, run) for suite in suites for run in ("task-one", "task-two")}
    index = (Path(lake.quality_docs) / "index.html").read_text()
    for suite, run in stored:  # the index links every validation, both tasks', to its page
        page = Path(lake.quality_docs) / "validations" / Path(*suite.split(".")) / run
        assert f"validations/{suite.replace('.', '/')}/{run}/" in index, (suite, run)
        assert list(page.rglob("*.html")), (suite, run)


def test_deferred_pages_are_written_by_finish_writes_and_a_render_failure_is_raised(spark, settings, lake):
    """A pipeline's gate leaves its Data Docs pages to a background thread; finish_writes
    waits for them, and a rendering that failed fails there instead of being lost."""
    from eventlake.quality.engine import finish_writes

    bronze = write_bronze(spark, lake, ['{"event_id": "a"}'])
    report = validate_layer(spark, settings, "bronze", run_id="deferred", run_summary=bronze, defer_writes=True)
    finish_writes()
    assert not report.critical_failures
    pages = Path(lake.quality_docs) / "validations" / "bronze"
    assert {p.relative_to(pages).parts[1] for p in pages.rglob("*.html")} == {"deferred"}
    assert "validations/bronze/run_rows/deferred/" in (Path(lake.quality_docs) / "index.html").read_text()

    # The index cannot be written (a folder holds its name): the gate itself still passes,
    # and finish_writes raises the rendering's error.
    (Path(lake.quality_docs) / "index.html").unlink()
    (Path(lake.quality_docs) / "index.html").mkdir()
    report = validate_layer(spark, settings, "bronze", run_id="unwritable", run_summary=bronze, defer_writes=True)
    assert not report.critical_failures
    with pytest.raises(IsADirectoryError):
        finish_writes()
    finish_writes()  # raised once: nothing is left pending


def test_a_passing_gates_rows_are_written_in_the_background_and_a_failing_gates_at_once(spark, settings, lake):
    """A pipeline's gate that passed hands its results-table rows to a background thread
    (finish_writes waits for them); one with a critical failure writes them before it
    returns, so the failure is on record when the run stops."""
    from eventlake.quality.engine import finish_writes

    def stored(run_id: str) -> list[tuple[str, str, bool]]:
        rows = spark.read.format("delta").load(lake.quality_results.path).where(f"run_id = '{run_id}'")
        return sorted((r.suite, r.expectation, r.success) for r in rows.collect())

    clean = write_bronze(spark, lake, ['{"event_id": "a"}', '{"event_id": "b"}'])
    passed = validate_layer(spark, settings, "bronze", run_id="passed", run_summary=clean, defer_writes=True)
    finish_writes()
    assert not passed.critical_failures
    assert stored("passed") == sorted((r.suite, r.expectation, r.success) for r in passed.results)

    bad = write_bronze(spark, lake, ["not json"] * 8)  # with the two above: 8 of 10 rows
    failing = validate_layer(spark, settings, "bronze", run_id="failing", run_summary=bad, defer_writes=True)
    assert failing.critical_failures
    # No finish_writes: the rows are there already.
    assert stored("failing") == sorted((r.suite, r.expectation, r.success) for r in failing.results)
    assert ("bronze.run", "parse_failure_share_below_fail", False) in stored("failing")
    finish_writes()


@pytest.mark.unit
def test_a_pandas_batch_carries_only_the_columns_its_checks_read():
    from eventlake.quality.engine import pandas_columns
    from eventlake.quality.suites import ExpectationSpec

    def spec(kind: str, **kwargs: object) -> ExpectationSpec:
        return ExpectationSpec(name=kind, type=kind, severity="critical", kwargs=kwargs)

    checks = [
        spec("ExpectColumnValuesToNotBeNull", column="event_id"),
        spec("ExpectColumnPairValuesAToBeGreaterThanB", column_A="mau", column_B="dau"),
        spec("ExpectCompoundColumnsToBeUnique", column_list=["event_date", "market"]),
        # Its query runs in Spark over the batch's Spark frame, every column there.
        spec("UnexpectedRowsExpectation", unexpected_rows_query="SELECT * FROM {batch} WHERE x > y"),
    ]
    assert pandas_columns(checks) == {"event_id", "mau", "dau", "event_date", "market"}
    # Whenever it is not known to read fewer, it reads them all.
    assert pandas_columns([*checks, spec("ExpectTableColumnCountToEqual", value=3)]) is None
    assert pandas_columns([*checks, spec("ExpectColumnValuesToNotBeNull", column="a", row_condition="b > 1")]) is None
    assert pandas_columns([spec("ExpectColumnValuesToNotBeNull", column={"$PARAMETER": "name"})]) is None
    assert pandas_columns([checks[-1]]) is None
