"""The results table: a validation appends its rows, and validating the same run and layer
again replaces them, whichever way `write_results` takes to get there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyspark.testing import assertDataFrameEqual

from eventlake.quality.report import ExpectationResult, LayerRun, QualityReport, write_results

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 2, 9, tzinfo=UTC)
# Longer than the 32 characters Delta keeps of a string in a file's statistics.
LONG_RUN = "scheduled__2026-11-02T09:10:00+00:00"


def record(spark, settings, lake, layer: str, run_id: str, outcomes: dict[str, bool]) -> None:
    report = QualityReport(layer, run_id, results=[
        ExpectationResult(layer, f"{layer}.events", f"{layer}.events", name, "expect_x", "critical", success)
        for name, success in outcomes.items()
    ])
    write_results(LayerRun(spark, settings, lake, report, AT))


def stored(spark, lake):
    return spark.read.format("delta").load(lake.quality_results.path).select(
        "run_id", "layer", "expectation", "success")


def test_a_second_validation_of_a_run_and_layer_replaces_only_its_rows(spark, settings, lake):
    record(spark, settings, lake, "bronze", "run-a", {"x": True, "y": True})
    record(spark, settings, lake, "silver", "run-a", {"z": True})
    record(spark, settings, lake, "bronze", LONG_RUN, {"x": True})
    record(spark, settings, lake, "bronze", "run-b", {"x": False})

    # Again: run-a's bronze with other outcomes, and the long run id (whose statistics are
    # truncated) with one expectation fewer.
    record(spark, settings, lake, "bronze", "run-a", {"x": False})
    record(spark, settings, lake, "bronze", LONG_RUN, {})

    assertDataFrameEqual(stored(spark, lake), [
        ("run-a", "bronze", "x", False),
        ("run-a", "silver", "z", True),
        ("run-b", "bronze", "x", False),
    ])


def test_a_run_id_that_only_shares_the_kept_prefix_is_not_replaced(spark, settings, lake):
    record(spark, settings, lake, "gold", LONG_RUN, {"x": True})
    record(spark, settings, lake, "gold", LONG_RUN + "-retry", {"x": False})
    record(spark, settings, lake, "gold", LONG_RUN + "-retry", {"x": True})

    assertDataFrameEqual(stored(spark, lake), [
        (LONG_RUN, "gold", "x", True),
        (LONG_RUN + "-retry", "gold", "x", True),
    ])


def engines(spark, lake) -> list[str]:
    history = spark.sql(f"DESCRIBE HISTORY delta.`{lake.quality_results.path}`").orderBy("version").collect()
    return ["delta-rs" if (h.engineInfo or "").startswith("delta-rs") else "spark" for h in history]


def test_appends_are_delta_rs_commits_and_spark_appends_when_delta_rs_cannot(spark, settings, lake, monkeypatch):
    import deltalake

    record(spark, settings, lake, "bronze", "run-a", {"x": True})  # creates the table: Spark
    record(spark, settings, lake, "silver", "run-a", {"y": True})  # an append: delta-rs
    record(spark, settings, lake, "bronze", "run-a", {"x": False})  # a replacement: Spark

    def refused(*args, **kwargs):
        raise OSError("delta-rs cannot write here")

    monkeypatch.setattr(deltalake, "write_deltalake", refused)
    record(spark, settings, lake, "gold", "run-a", {"z": True})  # an append, by Spark

    assert engines(spark, lake) == ["spark", "delta-rs", "spark", "spark"]
    assertDataFrameEqual(stored(spark, lake), [
        ("run-a", "bronze", "x", False),
        ("run-a", "silver", "y", True),
        ("run-a", "gold", "z", True),
    ])
    validated = spark.read.format("delta").load(lake.quality_results.path).selectExpr(
        "CAST(validated_at AS STRING)").distinct()
    assert [r[0] for r in validated.collect()] == ["2026-11-02 09:00:00"]  # AT, in the session's UTC
