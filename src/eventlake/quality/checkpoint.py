"""The GX types a layer checkpoint is made of: data sources whose assets take a layer's frames,
and the checkpoint's two actions (Data Docs once per layer, the lake's results table).

A layer's checkpoint holds one validation definition per suite; GX runs a checkpoint with
one set of batch parameters for all of them. A suite-frame asset therefore takes
`{"dataframe": {suite name: frame}}` and validates the frame filed under its own name (its
asset name is the suite's), where GX's own DataFrame assets take `{"dataframe": frame}`.
(The key stays GX's: GX keeps a run's batch parameters in its results, except "dataframe".)

Imported when a suite first runs (it imports GX); the classes register themselves with GX
as they are defined, so that the context can read them back from its stores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Type

from great_expectations.checkpoint.actions import UpdateDataDocsAction, ValidationAction
from great_expectations.compatibility.pydantic import PrivateAttr
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.datasource.fluent.batch_request import BatchRequest
from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier
from great_expectations.datasource.fluent.pandas_datasource import DataFrameAsset as PandasFrameAsset
from great_expectations.datasource.fluent.pandas_datasource import PandasDatasource
from great_expectations.datasource.fluent.spark_datasource import DataFrameAsset as SparkFrameAsset
from great_expectations.datasource.fluent.spark_datasource import SparkDatasource
from great_expectations.execution_engine.pandas_execution_engine import PandasExecutionEngine
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.checkpoint.actions import ActionContext
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.datasource.fluent.interfaces import DataAsset

    from pyspark.sql import DataFrame

    from eventlake.quality.report import LayerRun

# The batch parameter that maps each suite's name to the frame it validates.
FRAMES = "dataframe"


def _suite_frame(name: str, options: dict[str, Any] | None) -> dict[str, Any]:
    frames = (options or {}).get(FRAMES) or {}
    if name not in frames:
        raise KeyError(f"no frame for suite {name!r} in this layer's batch parameters")
    return {"dataframe": frames[name]}


class SparkSuiteFrame(SparkFrameAsset):  # type: ignore[type-arg]  # GX's generic is the DataFrame type
    """A suite's Spark DataFrame, taken from a layer's batch parameters by the suite's name."""

    type: Literal["eventlake_spark_suite_frame"] = "eventlake_spark_suite_frame"  # type: ignore[assignment]

    def build_batch_request(self, options: Any = None, batch_slice: Any = None,
                            partitioner: Any = None) -> BatchRequest[Any]:
        return super().build_batch_request(_suite_frame(self.name, options), batch_slice, partitioner)


class PandasSuiteFrame(PandasFrameAsset):
    """A suite's pandas DataFrame, taken from a layer's batch parameters by the suite's name."""

    type: Literal["eventlake_pandas_suite_frame"] = "eventlake_pandas_suite_frame"  # type: ignore[assignment]

    def build_batch_request(self, options: Any = None, batch_slice: Any = None,
                            partitioner: Any = None) -> BatchRequest[Any]:
        return super().build_batch_request(_suite_frame(self.name, options), batch_slice, partitioner)


class LayerSparkDatasource(SparkDatasource):
    """GX's Spark data source, holding suite-frame assets (`context.data_sources.add_eventlake_spark`)."""

    type: Literal["eventlake_spark"] = "eventlake_spark"  # type: ignore[assignment]
    asset_types: ClassVar[list[Type[DataAsset[Any, Any]]]] = [SparkSuiteFrame]  # noqa: UP006 (`type` is a field here)
    assets: list[SparkSuiteFrame] = []  # type: ignore[assignment]

    def add_suite_frame(self, name: str) -> SparkSuiteFrame:
        asset: SparkSuiteFrame = self._add_asset(SparkSuiteFrame(name=name))
        return asset


class LayerPandasDatasource(PandasDatasource):
    """GX's pandas data source, holding suite-frame assets (`context.data_sources.add_eventlake_pandas`)."""

    type: Literal["eventlake_pandas"] = "eventlake_pandas"  # type: ignore[assignment]
    asset_types: ClassVar[list[Type[DataAsset[Any, Any]]]] = [PandasSuiteFrame]  # noqa: UP006
    assets: list[PandasSuiteFrame] = []  # type: ignore[assignment]

    def add_suite_frame(self, name: str) -> PandasSuiteFrame:
        asset: PandasSuiteFrame = self._add_asset(PandasSuiteFrame(name=name))
        return asset


# A small batch is validated with GX's pandas engine, but GX implements the metrics of
# UnexpectedRowsExpectation (a Spark SQL query over `{batch}`) for SQL databases and Spark
# only. Every pandas batch of eventlake is a Spark frame collected, so the query runs where
# its author wrote it for: in Spark SQL, over that Spark frame (same dialect, same rows, same
# answer), while the suite's other checks run in pandas. `spark_backed` files the Spark
# frame under a token kept in the pandas frame's `attrs`; `forget_spark_backing` drops it
# when the layer's checkpoint is done.
SPARK_BACKING = "eventlake_spark_frame"
_SPARK_FRAMES: dict[str, DataFrame] = {}
# Each query's answer, (row count, first rows): GX asks for the count and the rows as two
# metrics, and one job answers both when the rows are few, as they are when a check passes.
_ANSWERS: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {}


def spark_backed(rows: pd.DataFrame, frame: DataFrame) -> pd.DataFrame:
    """`rows` (collected from `frame`), able to answer a Spark SQL query through `frame`."""
    import uuid

    token = uuid.uuid4().hex
    _SPARK_FRAMES[token] = frame
    rows.attrs[SPARK_BACKING] = token
    return rows


def forget_spark_backing(rows: pd.DataFrame) -> None:
    token = rows.attrs.pop(SPARK_BACKING, "")
    for key in [key for key in _ANSWERS if key[0] == token]:
        del _ANSWERS[key]
    frame = _SPARK_FRAMES.pop(token, None)
    if frame is not None:
        frame.sparkSession.catalog.dropTempView(_view_name(token))


def _view_name(token: str) -> str:
    return f"eventlake_batch_{token}"


def _unexpected_rows(
    provider: Any, engine: PandasExecutionEngine, domain: dict[str, Any], values: dict[str, Any]
) -> tuple[int, list[dict[str, Any]]]:
    """How many rows an UnexpectedRowsExpectation's query selects from a pandas batch, and
    the first MAX_RESULT_RECORDS of them, as Spark computes them from the batch's Spark
    frame. `provider` is the metric's class, which GX passes to a metric function as `cls`."""
    rows, _, _ = engine.get_compute_domain(domain, domain_type=MetricDomainTypes.TABLE)
    if domain.get("row_condition"):
        raise ValueError("an UnexpectedRowsExpectation with a row_condition runs on GX's Spark engine only")
    token = rows.attrs.get(SPARK_BACKING, "")
    frame = _SPARK_FRAMES.get(token)
    if frame is None:
        raise ValueError("this pandas batch has no Spark frame to run the query on (see spark_backed)")
    return _answer(token, frame, provider._get_query_from_metric_value_kwargs(values))


def _answer(token: str, frame: DataFrame, query: str) -> tuple[int, list[dict[str, Any]]]:
    if (token, query) not in _ANSWERS:
        view = _view_name(token)
        frame.createOrReplaceTempView(view)  # GX's own Spark metric uses one "tmp_view"
        selected = frame.sparkSession.sql(QueryMetricProvider._format_query(query, batch=view))
        first = selected.limit(MAX_RESULT_RECORDS + 1).collect()
        count = len(first) if len(first) <= MAX_RESULT_RECORDS else selected.count()
        _ANSWERS[(token, query)] = (count, [row.asDict() for row in first[:MAX_RESULT_RECORDS]])
    return _ANSWERS[(token, query)]


def answer_ahead(rows: pd.DataFrame, query: str) -> None:
    """Run one UnexpectedRowsExpectation query of a Spark-backed batch now. GX validates a
    checkpoint's suites one after another, each query a small Spark job of its own; a gate
    runs its queries a few at once first (silver's seven took ≈ 1.2 s one by one), and the
    checkpoint finds their answers. A query that fails here is left to the checkpoint,
    which fails it again and reports it as the check's error, as before."""
    token = rows.attrs.get(SPARK_BACKING, "")
    frame = _SPARK_FRAMES.get(token)
    if frame is None:
        return
    try:
        _answer(token, frame, query)
    except Exception:  # noqa: BLE001 (reported by GX when the checkpoint asks again)
        return


class _SparkBackedUnexpectedRows(QueryMetricProvider):
    """An UnexpectedRowsExpectation metric on a Spark-backed pandas batch. Without a
    metric_name of its own GX registers nothing for this class, only for the two below."""

    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"


class PandasUnexpectedRowsCount(_SparkBackedUnexpectedRows):
    metric_name = "unexpected_rows_query.row_count"

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict[str, Any],
                metric_value_kwargs: dict[str, Any], metrics: dict[str, Any], runtime_configuration: dict[str, Any]) -> int:
        return _unexpected_rows(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs)[0]


class PandasUnexpectedRowsTable(_SparkBackedUnexpectedRows):
    metric_name = "unexpected_rows_query.table"  # GX's first rows

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict[str, Any],
                metric_value_kwargs: dict[str, Any], metrics: dict[str, Any],
                runtime_configuration: dict[str, Any]) -> list[dict[str, Any]]:
        return _unexpected_rows(cls, execution_engine, metric_domain_kwargs, metric_value_kwargs)[1]


class LayerDataDocsAction(UpdateDataDocsAction):
    """Renders a layer's validations and suites and the site's index, once per checkpoint run.

    GX's UpdateDataDocsAction builds the site once per validation result, and each build
    renders the index, which reads the newest INDEX_LIMIT validations of the lake: for a
    layer of ten suites that is ten index builds where one does.

    The checkpoint asks for counts only; before rendering, the action has the checks that
    failed sampled (the workspace's `sample_failures`, set for each run). GX runs Data Docs
    actions before any other, so this is the first moment after validation where a sample
    can still reach both the pages and the results table.

    The pages themselves are built by `render` when the workspace sets one (a pipeline's
    gate hands them to a background thread, see GxWorkspace.run_layer), else here.
    """

    type: Literal["eventlake_layer_data_docs"] = "eventlake_layer_data_docs"  # type: ignore[assignment]

    _sample_failures: Callable[[CheckpointResult], None] | None = PrivateAttr(default=None)
    _render: Callable[[list[Any]], None] | None = PrivateAttr(default=None)

    def for_run(
        self,
        sample_failures: Callable[[CheckpointResult], None],
        render: Callable[[list[Any]], None] | None = None,
    ) -> LayerDataDocsAction:
        self._sample_failures = sample_failures
        self._render = render
        return self

    def run(self, checkpoint_result: CheckpointResult, action_context: ActionContext | None = None) -> dict[str, Any]:
        sample_failures, self._sample_failures = self._sample_failures, None
        render, self._render = self._render, None
        if sample_failures is not None:
            sample_failures(checkpoint_result)
        identifiers: list[Any] = []
        for result_id, result in checkpoint_result.run_results.items():
            identifiers += [result_id, ExpectationSuiteIdentifier(name=result.suite_name)]
        if render is not None:
            render(identifiers)
        else:
            self._build_data_docs(site_names=self.site_names, resource_identifiers=identifiers)
        return {}


class ResultsTableAction(ValidationAction):
    """Appends the layer's results to the report and records them in the lake's results
    table (`_quality/results`), replacing an earlier validation of the same run and layer."""

    type: Literal["eventlake_results_table"] = "eventlake_results_table"

    # GX passes an action only the checkpoint's result; the run's context comes through here,
    # set by the workspace for each run (not part of the stored checkpoint).
    _layer_run: LayerRun | None = PrivateAttr(default=None)
    _write: Callable[[LayerRun], None] | None = PrivateAttr(default=None)

    def for_run(self, layer_run: LayerRun, write: Callable[[LayerRun], None] | None = None) -> ResultsTableAction:
        """`write`, when given, takes a passing gate's rows to write later (a pipeline's gate
        hands them to a background thread, see GxWorkspace.run_layer)."""
        self._layer_run = layer_run
        self._write = write
        return self

    def run(self, checkpoint_result: CheckpointResult, action_context: ActionContext | None = None) -> dict[str, Any]:
        from eventlake.quality.report import write_results

        layer_run, self._layer_run = self._layer_run, None
        write, self._write = self._write, None
        if layer_run is None or layer_run.to_results is None:
            raise RuntimeError("ResultsTableAction ran outside GxWorkspace.run_layer, which gives it its run")
        layer_run.report.results.extend(layer_run.to_results(checkpoint_result))
        if write is not None and not layer_run.report.critical_failures:
            write(layer_run)
        else:  # a failing gate's rows are in the table before it stops the run
            write_results(layer_run)
        return {"results_table": layer_run.lake.quality_results.path}
