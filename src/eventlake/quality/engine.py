"""Great Expectations plumbing: suites from expectations/ → GX suites, checkpoints, Data Docs.

GX's own project (its config and validation store) lives in a temporary folder per process;
the repository's YAML files stay the only definition of the suites. One process (e.g.
`eventlake pipeline`) reuses one context, so its Data Docs index lists every layer it
validated. Data Docs are written to `_quality/docs/` of a local lake, or built in a local
folder and uploaded for an S3 lake.

Small batches (gold aggregates, up to PANDAS_MAX_ROWS rows) are validated with GX's pandas
engine, larger ones with its Spark engine: same expectations, same results.
"""

from __future__ import annotations

import atexit
import json
import logging
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame

from eventlake.config import Settings
from eventlake.quality.report import ExpectationResult
from eventlake.quality.suites import ExpectationSpec, SuiteDefinitionError, SuiteSpec

if TYPE_CHECKING:  # GX and pandas are imported when a suite runs, not with this module
    import pandas as pd
    from great_expectations.checkpoint.checkpoint import Checkpoint
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.datasource.fluent.pandas_datasource import DataFrameAsset as PandasFrameAsset
    from great_expectations.datasource.fluent.pandas_datasource import PandasDatasource
    from great_expectations.datasource.fluent.spark_datasource import DataFrameAsset as SparkFrameAsset
    from great_expectations.datasource.fluent.spark_datasource import SparkDatasource
    from great_expectations.expectations.expectation import Expectation

log = logging.getLogger(__name__)

DATASOURCE = "eventlake"
DOCS_SITE = "eventlake"
# How many unexpected values a result keeps in its details (enough to start an investigation).
SAMPLE_VALUES = 5
# Batches up to this many rows are validated with GX's pandas engine (see below).
PANDAS_MAX_ROWS = 50_000
SPARK_ONLY = frozenset({"UnexpectedRowsExpectation"})


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


class GxWorkspace:
    """One GX file context in a temporary folder, with eventlake's Spark data source and docs site."""

    def __init__(self, docs_dir: Path):
        # GX sends usage analytics unless told not to; a lakehouse job must not phone home.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.gx = gx
        self.root = Path(tempfile.mkdtemp(prefix="eventlake-gx-"))
        atexit.register(shutil.rmtree, self.root, ignore_errors=True)
        self.context = gx.get_context(mode="file", project_root_dir=str(self.root))
        self.context.enable_analytics(False)
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.context.variables.save()
        self.docs_dir = docs_dir
        docs_dir.mkdir(parents=True, exist_ok=True)
        self.context.add_data_docs_site(
            DOCS_SITE,
            {
                "class_name": "SiteBuilder",
                # GX's TypedDict for this config is incomplete (its own note says so); SiteBuilder takes it.
                "show_how_to_buttons": False,  # type: ignore[typeddict-unknown-key]
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
            },
        )
        # eventlake persists each batch itself and releases it after its checkpoint; GX's
        # own persist would keep every batch of the process cached.
        self._checkpoints: dict[str, tuple[tuple[str, str], Checkpoint]] = {}
        self.sources: dict[str, SparkDatasource | PandasDatasource] = {
            "spark": self.context.data_sources.add_spark(DATASOURCE, persist=False),
            "pandas": self.context.data_sources.add_pandas(f"{DATASOURCE}-small"),
        }

    def _batch_definition(self, engine: str, suite_name: str) -> BatchDefinition[None]:  # whole frame: no partitioner
        source = self.sources[engine]
        try:
            # GX types get_asset loosely; this source holds only the DataFrame assets added below.
            asset: SparkFrameAsset[Any] | PandasFrameAsset = source.get_asset(suite_name)
        except LookupError:
            asset = source.add_dataframe_asset(suite_name)
        try:
            return asset.get_batch_definition("whole")
        except KeyError:
            return asset.add_batch_definition_whole_dataframe("whole")

    def _checkpoint(self, suite: SuiteSpec, expectations: list[ExpectationSpec], engine: str) -> Checkpoint:
        """The GX checkpoint of a suite on an engine, stored in the context once per process
        rather than on every run (a run's values reach it as expectation parameters).

        One entry per suite name, as in the context's stores: when a run's runnable
        expectations or engine differ from the stored ones, the suite, its validation
        definition and its checkpoint are stored again and replace them."""
        signature = (engine, repr(expectations))
        cached = self._checkpoints.get(suite.name)
        if cached is None or cached[0] != signature:
            gx = self.gx
            gx_suite = self.context.suites.add_or_update(gx.ExpectationSuite(
                name=suite.name, expectations=[build_expectation(suite, e) for e in expectations],
                meta={"table": suite.table, "description": suite.description},
            ))
            definition = self.context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=suite.name, data=self._batch_definition(engine, suite.name), suite=gx_suite
                )
            )
            checkpoint = self.context.checkpoints.add_or_update(
                gx.Checkpoint(
                    name=suite.name, validation_definitions=[definition], actions=[], result_format="BASIC"
                )
            )
            self._checkpoints[suite.name] = cached = (signature, checkpoint)
        return cached[1]

    def validate(
        self,
        suite: SuiteSpec,
        expectations: list[ExpectationSpec],
        frame: DataFrame,
        parameters: Mapping[str, Any],
        run_name: str,
    ) -> list[ExpectationResult]:
        """Run one suite through a GX checkpoint on one DataFrame; one result per expectation."""
        gx = self.gx
        batch, engine = _small_enough_for_pandas(frame, expectations)
        if engine == "spark":
            frame = batch = frame.persist()
        try:
            checkpoint = self._checkpoint(suite, expectations, engine)
            outcome = checkpoint.run(
                batch_parameters={"dataframe": batch},
                expectation_parameters=dict(parameters),
                run_id=gx.RunIdentifier(run_name=run_name),
            )
            single_row = _single_row(frame) if suite.data.endswith("metrics") else None
        finally:
            if engine == "spark":
                frame.unpersist()
        by_name = {e.name: e for e in expectations}
        results = []
        for validation in outcome.run_results.values():
            for item in validation.results:
                config = item.expectation_config
                assert config is not None  # a checkpoint's result names the expectation it ran
                spec = by_name[config.meta["name"]]
                results.append(_to_result(suite, spec, item, config.kwargs, single_row))
        return results

    def build_docs(self) -> Path:
        self.context.build_data_docs(site_names=[DOCS_SITE])
        return self.docs_dir / "index.html"


def _small_enough_for_pandas(
    frame: DataFrame, expectations: list[ExpectationSpec]
) -> tuple[DataFrame | pd.DataFrame, str]:
    """(batch, engine): a small frame as pandas, validated in-process; otherwise Spark.

    Each GX metric on Spark is at least one Spark job; gold tables are small aggregates, and
    validating them in pandas turns a few seconds per table into milliseconds. GX has no
    pandas implementation of UnexpectedRowsExpectation (Spark SQL), so suites using it stay
    on Spark.
    """
    if any(e.type in SPARK_ONLY for e in expectations):
        return frame, "spark"
    head = frame.limit(PANDAS_MAX_ROWS + 1).toPandas()
    if len(head) > PANDAS_MAX_ROWS:
        return frame, "spark"
    return head, "pandas"


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


def workspace(docs_dir: Path) -> GxWorkspace:
    """The process's GX workspace for a docs folder (one context per process and lake)."""
    key = str(docs_dir)
    if key not in _WORKSPACES:
        _WORKSPACES[key] = GxWorkspace(docs_dir)
    return _WORKSPACES[key]


def local_docs_dir(settings: Settings, lake_docs: str) -> Path:
    """Where GX writes the docs site: the lake's folder, or a local staging folder for S3."""
    if not settings.is_s3:
        return Path(lake_docs)
    staging = Path(tempfile.gettempdir()) / "eventlake-quality-docs" / settings.lake_root.split("://", 1)[1]
    return staging


def publish_docs(settings: Settings, docs_dir: Path, lake_docs: str) -> str:
    """Upload a locally built site to `_quality/docs/` of an S3 lake; returns where it lives."""
    if not settings.is_s3:
        return str(docs_dir / "index.html")
    from eventlake.landing import s3_client

    client = s3_client(settings)
    bucket, _, prefix = lake_docs.split("://", 1)[1].partition("/")
    for path in sorted(p for p in docs_dir.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(docs_dir).as_posix()}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": content_type})
    return f"s3://{bucket}/{prefix}/index.html"
