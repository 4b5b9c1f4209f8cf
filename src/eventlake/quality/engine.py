"""Great Expectations plumbing: suites from expectations/ → GX suites, a checkpoint per layer, Data Docs.

A layer's run is one GX checkpoint: a validation definition per suite (each suite's frame
reaches it through the batch parameters, see checkpoint.py), and two actions: one renders
the layer's new validations in Data Docs, the other records the results in the lake's
results table.

GX's project config lives in the process's memory (an ephemeral context); the repository's
YAML files stay the only definition of the suites. The validation results are the lake's: GX's
validation results store is `_quality/gx/validations/` of the lake (for an S3 lake, a local
copy synchronised with that prefix), so the one Data Docs site, `_quality/docs/`, lists
every validation of every process and task that ran on the lake, newest first (the index
shows the newest INDEX_LIMIT; every validation keeps its page). A build renders only the
pages of its own results, so its cost does not grow with the lake's history.

Small batches (gold aggregates, up to PANDAS_MAX_ROWS rows) are validated with GX's pandas
engine, larger ones with its Spark engine: same expectations, same results.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame

from eventlake.config import Settings
from eventlake.lake import bucket_and_prefix
from eventlake.quality import disable_gx_analytics
from eventlake.quality.report import ExpectationResult, LayerRun
from eventlake.quality.suites import ExpectationSpec, SuiteDefinitionError, SuiteSpec
from eventlake.schemas import PERSONAL_COLUMNS
from eventlake.spark import CONCURRENT_SMALL_JOBS

if TYPE_CHECKING:  # GX and pandas are imported when a suite runs, not with this module
    import pandas as pd
    from great_expectations.checkpoint.checkpoint import Checkpoint, CheckpointResult
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.core.validation_definition import ValidationDefinition
    from great_expectations.expectations.expectation import Expectation

    from eventlake.quality.checkpoint import (
        LayerPandasDatasource,
        LayerSparkDatasource,
        PandasSuiteFrame,
        SparkSuiteFrame,
    )

log = logging.getLogger(__name__)

DATASOURCE = "eventlake"
DOCS_SITE = "eventlake"
DOCS_VIEWS = "eventlake.quality.docs_views"
# How many unexpected values a result keeps in its details (enough to start an investigation).
SAMPLE_VALUES = 5
# The checkpoint asks for counts only. GX looks for unexpected values of every column check
# it runs, and on a check that passes that search finds nothing after reading the whole batch
# (a uniqueness check even sorts it again). Only the checks that failed run a second time
# with GX's usual sample (FAILURE_SAMPLE), for their Data Docs page and results row.
COUNTS_ONLY = {"result_format": "BASIC", "partial_unexpected_count": 0}
FAILURE_SAMPLE = {"result_format": "BASIC", "partial_unexpected_count": 20}
# Batches up to this many rows are validated with GX's pandas engine (see below).
PANDAS_MAX_ROWS = 50_000
RESULTS_STORE = "eventlake_validation_results"
# Validations the Data Docs index lists (the newest); rendering the index reads each one.
INDEX_LIMIT = 200


def build_expectation(suite: SuiteSpec, spec: ExpectationSpec) -> Expectation:
    """The GX expectation for one entry of a suite file, with its severity and name."""
    import great_expectations as gx

    # Called, not typed as its class: which expectation (and so which fields) is known at run time only.
    cls: Callable[..., Expectation] | None = getattr(gx.expectations, spec.type, None)
    if cls is None:
        raise SuiteDefinitionError(
            f"{suite.name}.{spec.name}: {spec.type!r} is not a Great Expectations expectation"
        )
    try:
        return cls(
            **spec.kwargs,
            severity=spec.severity,
            meta={"name": spec.name, "suite": suite.name, "table": suite.table},
            notes=spec.notes,
        )
    except Exception as error:  # pydantic's validation error: a typo in the YAML
        raise SuiteDefinitionError(f"{suite.name}.{spec.name}: {error}".splitlines()[0]) from None


@dataclass(frozen=True)
class SuiteBatch:
    """A suite ready for its layer's checkpoint: the expectations it can run and its frame."""

    suite: SuiteSpec
    expectations: list[ExpectationSpec]
    frame: DataFrame


class GxWorkspace:
    """One GX context in memory, with eventlake's data sources, one checkpoint per layer and
    the lake's Data Docs site.

    Ephemeral, not a file context in a temporary folder: each asset or batch definition
    added (two per suite) saved the whole project config, every data source with every
    asset, to that folder's YAML file. Gold's first gate of a process wrote the growing file
    34 times, and eventlake never read it. (GX still serialises the config in memory.)"""

    def __init__(self, docs_dir: Path, results_dir: Path):
        disable_gx_analytics()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from eventlake.quality import checkpoint as layer_types  # registers eventlake's GX types

        self.gx = gx
        self.types = layer_types
        self.context = gx.get_context(mode="ephemeral")
        self.context.enable_analytics(False)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        results_dir.mkdir(parents=True, exist_ok=True)
        self.context.add_store(RESULTS_STORE, {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)},
        })
        self.context.validation_results_store_name = RESULTS_STORE
        self.context.variables.save()
        self.docs_dir = docs_dir
        self.results_dir = results_dir
        docs_dir.mkdir(parents=True, exist_ok=True)
        self.context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                # GX's TypedDict for this config is incomplete (its own note says so); SiteBuilder takes it.
                "show_how_to_buttons": False,  # type: ignore[typeddict-unknown-key]
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder", "validation_results_limit": INDEX_LIMIT,
                    "view": {"module_name": DOCS_VIEWS, "class_name": "IndexPageView"},
                },
                # GX's views, their templates compiled once per process (docs_views says why).
                "site_section_builders": {
                    section: {"view": {"module_name": DOCS_VIEWS, "class_name": "PageView"}}
                    for section in ("expectations", "validations", "profiling")
                },
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
        # What a pipeline's gate left to write in the background (run_layer): its Data Docs
        # pages, and its results-table rows when it passed. Two threads: a gate's pages and
        # its rows are written at once; the next gate waits for both before it starts.
        self._writer: ThreadPoolExecutor | None = None
        self._writing: list[Future[None]] = []
        # Stored in the context once per process rather than on every run (a run's values
        # reach them as expectation parameters), and again when what they hold changes.
        self._definitions: dict[str, tuple[tuple[str, str], ValidationDefinition]] = {}
        self._checkpoints: dict[str, tuple[tuple[str, ...], Checkpoint]] = {}
        # GX's own persist would keep every batch of the process cached (see run_layer).
        sources = self.context.data_sources
        self.sources: dict[str, LayerSparkDatasource | LayerPandasDatasource] = {
            "spark": sources.add_eventlake_spark(DATASOURCE, persist=False),
            "pandas": sources.add_eventlake_pandas(f"{DATASOURCE}-small"),
        }

    def _validation_definition(
        self, suite: SuiteSpec, expectations: list[ExpectationSpec], engine: str
    ) -> ValidationDefinition:
        """A suite's GX suite and validation definition on an engine (one entry per suite
        name, as in the context's stores: a run whose runnable expectations or engine differ
        stores them again)."""
        signature = (engine, repr(expectations))
        cached = self._definitions.get(suite.name)
        if cached is None or cached[0] != signature:
            gx = self.gx
            gx_suite = self.context.suites.add_or_update(gx.ExpectationSuite(
                name=suite.name, expectations=[build_expectation(suite, e) for e in expectations],
                meta={"table": suite.table, "description": suite.description},
            ))
            source = self.sources[engine]
            try:
                # GX types get_asset loosely; this source holds only suite-frame assets.
                asset: SparkSuiteFrame | PandasSuiteFrame = source.get_asset(suite.name)
            except LookupError:
                asset = source.add_suite_frame(suite.name)
            try:
                whole = asset.get_batch_definition("whole")
            except KeyError:
                whole = asset.add_batch_definition_whole_dataframe("whole")
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite.name, data=whole, suite=gx_suite)
            )
            self._definitions[suite.name] = cached = (signature, definition)
        return cached[1]

    def _checkpoint(self, layer: str, batches: list[tuple[SuiteBatch, str]]) -> Checkpoint:
        """The layer's checkpoint: a validation definition per suite this run validates, and
        the actions that render Data Docs and record the results."""
        signature = tuple(f"{batch.suite.name}:{engine}:{batch.expectations!r}" for batch, engine in batches)
        cached = self._checkpoints.get(layer)
        if cached is None or cached[0] != signature:
            definitions = [self._validation_definition(b.suite, b.expectations, e) for b, e in batches]
            checkpoint = self.context.checkpoints.add_or_update(self.gx.Checkpoint(
                name=layer,
                validation_definitions=definitions,
                actions=[
                    self.types.LayerDataDocsAction(name="data_docs", site_names=[DOCS_SITE]),
                    self.types.ResultsTableAction(name="results_table"),
                ],
                result_format=COUNTS_ONLY,
            ))
            self._checkpoints[layer] = cached = (signature, checkpoint)
        return cached[1]

    def run_layer(
        self,
        layer: str,
        batches: list[SuiteBatch],
        parameters: Mapping[str, Any],
        layer_run: LayerRun,
        *,
        defer_writes: bool = False,
    ) -> None:
        """Run a layer's checkpoint over its suites' frames. Its actions render the new
        validations in Data Docs and add the results to `layer_run.report` and to the lake's
        results table. A layer with nothing to validate records its skipped suites in the
        results table and leaves Data Docs as they are.

        `defer_writes`: the pages are rendered, and a passing gate's rows written to the
        results table, on background threads (`finish_writes` waits for them) while the
        caller goes on. Rendering is Python only (≈0.7 s for bronze's pages, ≈1.7 s for
        gold's 17 suites) and the rows one small Delta commit (≈0.6 s), so both overlap the
        Spark work that follows a gate: the next layer, gold's commits. A gate with a
        critical failure writes its rows before it returns. The next gate of the process
        waits for both first, so GX's context is used by one thread at a time and the
        results table by one writer."""
        finish_writes()
        if not batches:
            from eventlake.quality.report import write_results

            write_results(layer_run)
            return
        # Spark batches are not cached: the checkpoint asks for counts only, so a suite reads
        # its batch in a few passes (one aggregate for its column checks, one per uniqueness
        # or SQL check), each reading only the columns it needs. Caching the batch first cost
        # more than it saved (silver's gate at 1 M events, warm: 15.9-17.1 s cached,
        # 14.0-15.2 s not) and held the batch in memory. Batches are collected a few at once:
        # each is a small Spark job or two (a read, a collect).
        with ThreadPoolExecutor(max_workers=CONCURRENT_SMALL_JOBS, thread_name_prefix="quality-frame") as pool:
            prepared = list(pool.map(_prepare, batches))
        frames: dict[str, DataFrame | pd.DataFrame] = {}
        engines: list[str] = []
        single_rows: dict[str, dict[str, Any] | None] = {}  # None but for metrics batches
        for batch, (frame, engine, single_row) in zip(batches, prepared, strict=True):
            # A pandas batch answers its SQL checks through its Spark frame until the
            # checkpoint ends (the `finally` below forgets it).
            frames[batch.suite.name] = frame if isinstance(frame, DataFrame) else self.types.spark_backed(frame, batch.frame)
            engines.append(engine)
            single_rows[batch.suite.name] = single_row
        try:
            ahead = [
                (frame, e.kwargs["unexpected_rows_query"])
                for batch in batches
                if not isinstance(frame := frames[batch.suite.name], DataFrame)
                for e in batch.expectations
                if e.type == "UnexpectedRowsExpectation" and isinstance(e.kwargs.get("unexpected_rows_query"), str)
            ]
            if ahead:
                with ThreadPoolExecutor(max_workers=CONCURRENT_SMALL_JOBS, thread_name_prefix="quality-query") as pool:
                    list(pool.map(lambda item: self.types.answer_ahead(*item), ahead))
            checkpoint = self._checkpoint(layer, list(zip(batches, engines, strict=True)))
            by_suite = {batch.suite.name: batch for batch in batches}
            layer_run.to_results = lambda outcome: _to_results(outcome, by_suite, single_rows)
            for action in checkpoint.actions:
                if isinstance(action, self.types.ResultsTableAction):
                    action.for_run(layer_run, write=self._write_later if defer_writes else None)
                elif isinstance(action, self.types.LayerDataDocsAction):
                    action.for_run(
                        lambda outcome: self._sample_failures(outcome, frames, parameters, by_suite),
                        render=self._render_later if defer_writes else None,
                    )
            checkpoint.run(
                batch_parameters={self.types.FRAMES: frames},
                expectation_parameters=dict(parameters),
                run_id=self.gx.RunIdentifier(run_name=layer_run.report.run_id),
            )
        finally:
            for frame in frames.values():
                if not isinstance(frame, DataFrame):
                    self.types.forget_spark_backing(frame)

    def _in_background(self, write: Callable[[], None]) -> None:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="quality-write")
        self._writing.append(self._writer.submit(write))

    def _render_later(self, identifiers: list[Any]) -> None:
        """Render the pages of these validations and suites, and the index, in the background."""

        def render() -> None:
            try:
                self.context.build_data_docs(
                    site_names=[DOCS_SITE], resource_identifiers=identifiers, dry_run=False, build_index=True
                )
            except Exception:
                log.exception("Data Docs: rendering %d pages failed", len(identifiers))
                raise

        self._in_background(render)

    def _write_later(self, layer_run: LayerRun) -> None:
        """Write a passing gate's rows to the results table in the background."""
        from eventlake.quality.report import write_results

        def write() -> None:
            try:
                write_results(layer_run)
            except Exception:
                log.exception("quality: writing %s's results of run %s failed",
                              layer_run.report.layer, layer_run.report.run_id)
                raise

        self._in_background(write)

    def finish_writes(self) -> None:
        """Wait for what the gates left to write; raises the first error of those writes."""
        writing, self._writing = self._writing, []
        errors = []
        for done in writing:
            try:
                done.result()
            except Exception as error:  # each is waited for; the first is raised
                errors.append(error)
        if errors:
            raise errors[0]

    def _sample_failures(
        self,
        outcome: CheckpointResult,
        frames: Mapping[str, DataFrame | pd.DataFrame],
        parameters: Mapping[str, Any],
        batches: Mapping[str, SuiteBatch],
    ) -> None:
        """Add a sample of unexpected values to each result of a column check that failed,
        and store its suite's result again (the checkpoint ran them with COUNTS_ONLY)."""
        from great_expectations.validator.v1_validator import Validator

        for key, validation in outcome.run_results.items():
            suite_batch = batches[validation.suite_name]
            by_name = {e.name: e for e in suite_batch.expectations}
            failed = [item for item in validation.results
                      if not item.success and (item.result or {}).get("unexpected_count")
                      and not _on_personal_column(by_name[_spec_name(item)])]
            if not failed:
                continue
            validator = Validator(
                batch_definition=self._definitions[validation.suite_name][1].batch_definition,
                result_format=FAILURE_SAMPLE,
                batch_parameters={self.types.FRAMES: dict(frames)},
            )
            for item in failed:
                spec = by_name[_spec_name(item)]
                again = validator.validate_expectation(build_expectation(suite_batch.suite, spec), dict(parameters))
                item.result.update({k: v for k, v in (again.result or {}).items() if k.startswith("partial_unexpected")})
            self.context.validation_results_store.set(key, validation)


def _spec_name(item: Any) -> str:
    """The eventlake name of the expectation a GX result is for."""
    assert item.expectation_config is not None  # a suite's result names its expectation
    return str(item.expectation_config.meta["name"])


def _on_personal_column(spec: ExpectationSpec) -> bool:
    """A check of a column that holds personal data (schemas.PERSONAL_COLUMNS): its
    unexpected values are that data (an e-mail left in `properties`, a raw id in `user_key`),
    and a sample would copy them into the results table, GX's stored results and Data Docs,
    where no erasure reaches. Such a check reports its counts only."""
    return spec.kwargs.get("column") in PERSONAL_COLUMNS


def _to_results(
    outcome: CheckpointResult, batches: Mapping[str, SuiteBatch], single_rows: Mapping[str, dict[str, Any] | None]
) -> list[ExpectationResult]:
    """A checkpoint's GX results in eventlake's terms: one per expectation, in suite order."""
    results = []
    for validation in outcome.run_results.values():
        batch = batches[validation.suite_name]
        by_name = {e.name: e for e in batch.expectations}
        for item in validation.results:
            config = item.expectation_config
            assert config is not None  # a checkpoint's result names the expectation it ran
            spec = by_name[config.meta["name"]]
            results.append(_to_result(batch.suite, spec, item, config.kwargs, single_rows.get(batch.suite.name)))
    return results


def _small_enough_for_pandas(
    frame: DataFrame, expectations: list[ExpectationSpec]
) -> tuple[DataFrame | pd.DataFrame, str]:
    """(batch, engine): a small frame as pandas, validated in-process; otherwise Spark.

    Each GX metric on Spark is at least one Spark job; gold tables and a run's one-row
    metrics are small, and validating them in pandas turns a few seconds per suite into
    milliseconds. An UnexpectedRowsExpectation's Spark SQL query still runs in Spark, over
    the frame the pandas batch was collected from (`checkpoint.spark_backed`, in
    `run_layer`); one with a row_condition keeps its suite on Spark, where GX applies the
    condition first.
    """
    if any(e.type == "UnexpectedRowsExpectation" and "row_condition" in e.kwargs for e in expectations):
        return frame, "spark"
    read = pandas_columns(expectations)
    # Only what the pandas checks read: most of a run's row is columns no check looks at.
    narrow = frame if read is None else frame.select(*[name for name in frame.columns if name in read])
    head = narrow.limit(PANDAS_MAX_ROWS + 1).toPandas()
    if len(head) > PANDAS_MAX_ROWS:
        return frame, "spark"
    return head, "pandas"


# The kwargs naming the columns an expectation of these families reads (GX's column,
# column-pair and multicolumn domains).
_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list")
_COLUMN_FAMILIES = ("ExpectColumn", "ExpectCompoundColumns", "ExpectMulticolumn", "ExpectSelectColumn")


def pandas_columns(expectations: list[ExpectationSpec]) -> set[str] | None:
    """The columns GX's pandas engine reads to run `expectations`; None when that is not
    known to be fewer than all of them (a table-level expectation, a row_condition, an
    unknown family, or no column at all). An UnexpectedRowsExpectation reads none: its query
    runs in Spark over the batch's Spark frame, every column there (`checkpoint.spark_backed`).
    A column absent from the frame stays absent, so GX reports it as before."""
    read: set[str] = set()
    for expectation in expectations:
        if "row_condition" in expectation.kwargs:
            return None
        if expectation.type == "UnexpectedRowsExpectation":
            continue
        if not expectation.type.startswith(_COLUMN_FAMILIES):
            return None
        for key in _COLUMN_KWARGS:
            value = expectation.kwargs.get(key)
            if isinstance(value, str):
                read.add(value)
            elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                read.update(value)
            elif value is not None:  # a parameter or something unexpected: read everything
                return None
    return read or None


def _prepare(batch: SuiteBatch) -> tuple[DataFrame | pd.DataFrame, str, dict[str, Any] | None]:
    """(batch for GX, engine, the row of a one-row metrics batch for the results' details)."""
    frame, engine = _small_enough_for_pandas(batch.frame, batch.expectations)
    single_row = _single_row(batch.frame) if batch.suite.data.endswith("metrics") else None
    return frame, engine, single_row


def _single_row(frame: DataFrame) -> dict[str, Any] | None:
    rows = frame.limit(2).collect()
    return rows[0].asDict() if len(rows) == 1 else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, default=str)
    return str(value)


def _to_result(
    suite: SuiteSpec, spec: ExpectationSpec, item: ExpectationValidationResult, kwargs: dict[str, Any],
    single_row: dict[str, Any] | None,
) -> ExpectationResult:
    assert item.expectation_config is not None  # validate() read this result's expectation from it
    result = dict(item.result or {})
    details: dict[str, Any] = {
        "type": spec.type,
        "kwargs": {k: v for k, v in kwargs.items() if k != "batch_id"},
    }
    if spec.notes:
        details["notes"] = spec.notes
    exception = item.exception_info or {}
    if exception.get("raised_exception"):
        details["exception"] = str(exception.get("exception_message"))[:500]
    if "observed_value" in result:
        observed = _text(result["observed_value"])
    elif single_row is not None and kwargs.get("column") in single_row:
        observed = _text(single_row[kwargs["column"]])
    elif "element_count" in result:
        observed = f"{result.get('unexpected_count', 0)} of {result['element_count']} rows unexpected"
    else:
        observed = None
    if result.get("partial_unexpected_list"):
        details["unexpected_sample"] = result["partial_unexpected_list"][:SAMPLE_VALUES]
    if single_row is not None:
        details["run"] = single_row
    return ExpectationResult(
        layer=suite.layer,
        table=suite.table,
        suite=suite.name,
        expectation=spec.name,
        expectation_type=spec.type,
        severity=str(getattr(item.expectation_config.severity, "value", spec.severity)),
        success=bool(item.success),
        observed_value=observed,
        details=json.dumps(details, default=str, sort_keys=True),
    )


_WORKSPACES: dict[str, GxWorkspace] = {}


def workspace(docs_dir: Path, results_dir: Path) -> GxWorkspace:
    """The process's GX workspace for a lake (one context per process and lake)."""
    key = str(docs_dir)
    if key not in _WORKSPACES:
        finish_writes()  # a new GX context becomes GX's current one: nothing renders meanwhile
        _WORKSPACES[key] = GxWorkspace(docs_dir, results_dir)
    return _WORKSPACES[key]


def finish_writes() -> None:
    """Wait until every Data Docs page and results-table row a gate left to the background
    is written (see GxWorkspace.run_layer's `defer_writes`); raises what writing raised."""
    for gx_workspace in list(_WORKSPACES.values()):
        gx_workspace.finish_writes()


def local_quality_dirs(settings: Settings, lake_docs: str, lake_results: str) -> tuple[Path, Path]:
    """(docs site, validation results) where GX writes them: the lake's own folders, or for
    an S3 lake local copies that `pull_results` and `publish` keep in step with it (GX
    1.x stores only on a filesystem)."""
    if not settings.is_s3:
        return Path(lake_docs), Path(lake_results)
    staging = Path(tempfile.gettempdir()) / "eventlake-quality" / settings.lake_root.split("://", 1)[1]
    return staging / "docs", staging / "validations"


def _remote_keys(client: Any, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
        keys.update(item["Key"][len(prefix) + 1:] for item in page.get("Contents", []))
    return keys


def pull_results(settings: Settings, results_dir: Path, lake_results: str) -> None:
    """Bring an S3 lake's validation results that the local copy lacks (other tasks' and
    machines'), so the index this process builds lists them too."""
    if not settings.is_s3:
        return
    from eventlake.landing import s3_client

    client = s3_client(settings)
    bucket, prefix = bucket_and_prefix(lake_results)
    for relative in sorted(_remote_keys(client, bucket, prefix)):
        target = results_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, f"{prefix}/{relative}", str(target))


def publish(settings: Settings, docs_dir: Path, lake_docs: str, results_dir: Path, lake_results: str,
            since: float) -> str:
    """Upload what this process wrote (validation results, docs pages, the index) to an S3
    lake; returns where the site's index lives."""
    if not settings.is_s3:
        return str(docs_dir / "index.html")
    from eventlake.landing import s3_client

    client = s3_client(settings)
    for folder, uri in ((results_dir, lake_results), (docs_dir, lake_docs)):
        bucket, prefix = bucket_and_prefix(uri)
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime >= since):
            key = f"{prefix}/{path.relative_to(folder).as_posix()}"
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
    bucket, prefix = bucket_and_prefix(lake_docs)
    return f"s3://{bucket}/{prefix}/index.html"
