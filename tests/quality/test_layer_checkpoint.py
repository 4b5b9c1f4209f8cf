"""A layer's validation is one GX checkpoint whose actions record the results and render Data Docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.testing import assertDataFrameEqual

from eventlake.quality import engine, validate_layer
from eventlake.quality.suites import load_layer

from .tables import write_bronze

pytestmark = pytest.mark.unit


def _workspace(lake) -> engine.GxWorkspace:
    return engine._WORKSPACES[str(Path(lake.quality_docs))]


def test_a_layer_is_one_checkpoint_whose_actions_record_results_and_render_docs(spark, settings, lake):
    import great_expectations as gx

    summary = write_bronze(spark, lake, ['{"event_id": "a"}', "not json"])

    report = validate_layer(spark, settings, "bronze", run_id="cp-1", run_summary=summary)

    # The checkpoint GX stored, read back from the context's store (kept serialised there, in
    # memory): eventlake's data source, asset and action types survive GX's own serialisation.
    context = _workspace(lake).context
    stored = context.checkpoints.get("bronze")
    assert stored is not _workspace(lake)._checkpoints["bronze"][1]  # read back, not the object added
    suites = [suite.name for suite in load_layer("bronze").suites]
    assert [definition.name for definition in stored.validation_definitions] == suites
    assert {d.data.data_asset.type for d in stored.validation_definitions} <= {
        "eventlake_spark_suite_frame", "eventlake_pandas_suite_frame",
    }
    assert [action.type for action in stored.actions] == ["eventlake_layer_data_docs", "eventlake_results_table"]
    # A context in memory: no project folder rewritten per asset, no config-variables
    # template parsed on every lookup of a context variable (engine.GxWorkspace).
    assert isinstance(context, gx.data_context.EphemeralDataContext)
    assert context.root_directory is None

    # The results action: the report and the lake's results table hold the same results.
    assert {r.suite for r in report.results} == set(suites)
    rows = spark.read.format("delta").load(lake.quality_results.path).where("run_id = 'cp-1'")
    assertDataFrameEqual(
        rows.select("layer", "suite", "expectation", "severity", "success", "observed_value"),
        [("bronze", r.suite, r.expectation, r.severity, r.success, r.observed_value) for r in report.results],
    )
    assert {r.qualified_name for r in report.critical_failures} == {"bronze.run.parse_failure_share_below_fail"}

    # The Data Docs action: a page per suite for this run, each linked from the index.
    docs = Path(lake.quality_docs)
    index = (docs / "index.html").read_text()
    for suite in suites:
        folder = Path(*suite.split(".")) / "cp-1"
        assert list((docs / "validations" / folder).rglob("*.html")), suite
        assert f"validations/{folder.as_posix()}/" in index, suite


def test_a_layer_with_nothing_to_validate_records_its_skips_and_leaves_docs_alone(spark, settings, lake):
    summary = write_bronze(spark, lake, ['{"event_id": "a"}'])
    validate_layer(spark, settings, "bronze", run_id="cp-2", run_summary=summary)
    index = Path(lake.quality_docs) / "index.html"
    rendered = index.read_text(), index.stat().st_mtime_ns

    # Without the run's summary the bronze suites have nothing to check: no checkpoint runs.
    report = validate_layer(spark, settings, "bronze", run_id="cp-3", run_summary=None)

    assert report.results and all(r.expectation_type == "skipped" for r in report.results)
    assert (index.read_text(), index.stat().st_mtime_ns) == rendered
    assert "cp-3" not in {p.name for p in Path(lake.quality_validations).rglob("*")}
    rows = spark.read.format("delta").load(lake.quality_results.path).where("run_id = 'cp-3'")
    assertDataFrameEqual(
        rows.select("suite", "expectation", "expectation_type", "success"),
        [(r.suite, r.expectation, "skipped", False) for r in report.results],
    )


def test_a_suite_without_its_frame_in_the_batch_parameters_is_named():
    from eventlake.quality.checkpoint import _suite_frame

    assert _suite_frame("bronze.run", {"dataframe": {"bronze.run": "frame"}}) == {"dataframe": "frame"}
    with pytest.raises(KeyError, match="no frame for suite 'bronze.run'"):
        _suite_frame("bronze.run", {"dataframe": {"bronze.run_rows": "frame"}})


def test_a_query_answered_ahead_is_the_answer_the_checkpoint_gets(spark):
    """A gate runs its pandas batches' SQL checks a few at once before the checkpoint; the
    checkpoint then finds those answers. A query that fails ahead leaves nothing behind:
    the checkpoint runs it again and reports its error."""
    from eventlake.quality import checkpoint

    frame = spark.createDataFrame([(1, 2), (3, 1), (5, 0)], "a INT, b INT")
    rows = checkpoint.spark_backed(frame.toPandas(), frame)
    token = rows.attrs[checkpoint.SPARK_BACKING]
    try:
        query = "SELECT * FROM {batch} WHERE a > b"
        checkpoint.answer_ahead(rows, query)
        count, first = checkpoint._ANSWERS[(token, query)]
        assert count == 2
        assert sorted(first, key=lambda row: row["a"]) == [{"a": 3, "b": 1}, {"a": 5, "b": 0}]

        broken = "SELECT * FROM {batch} WHERE no_such_column > 0"
        checkpoint.answer_ahead(rows, broken)
        assert (token, broken) not in checkpoint._ANSWERS
    finally:
        checkpoint.forget_spark_backing(rows)
    assert not [key for key in checkpoint._ANSWERS if key[0] == token]
