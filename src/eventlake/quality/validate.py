"""`validate_layer`: build a layer's batches and run its GX checkpoint (results, Data Docs)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.clock import as_utc, from_spark, utc_now
from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.quality.batches import (
    BUILDERS,
    BatchContext,
    Builder,
    SharedResults,
    Skip,
    StagedTable,
    run_parameters,
)
from eventlake.quality.engine import SuiteBatch, local_quality_dirs, publish, pull_results, workspace
from eventlake.quality.report import ExpectationResult, LayerRun, QualityReport
from eventlake.quality.suites import LayerSuites, SuiteDefinitionError, SuiteSpec, load_layer
from eventlake.spark import CONCURRENT_SMALL_JOBS
from eventlake.state import delta_table_exists

log = logging.getLogger(__name__)


def base_parameters(settings: Settings, suites: LayerSuites) -> dict[str, Any]:
    """Parameters every suite may use: YAML defaults, Settings thresholds, shared rules."""
    from eventlake.privacy import EMAIL_PATTERN, PHONE_PATTERN
    from eventlake.taxonomy import load_taxonomy

    return dict(suites.parameters) | {
        "quarantine_warn_share": settings.quarantine_warn_share,
        "quarantine_fail_share": settings.quarantine_fail_share,
        # A line that is not JSON is quarantined in silver: the same budget applies in bronze.
        "parse_failure_warn_share": settings.quarantine_warn_share,
        "parse_failure_fail_share": settings.quarantine_fail_share,
        "taxonomy_event_names": sorted(load_taxonomy().names),
        "email_pattern": EMAIL_PATTERN,
        "phone_pattern": PHONE_PATTERN,
    }


def validate_layer(
    spark: SparkSession,
    settings: Settings,
    layer: str,
    *,
    run_id: str,
    run_summary: Mapping[str, Any] | None = None,
    as_of: datetime | None = None,
    validated_at: datetime | None = None,
    suites_dir: Path | None = None,
    staged: Mapping[str, StagedTable] | None = None,
    only_tables: Collection[str] | None = None,
    defer_writes: bool = False,
) -> QualityReport:
    """Validate what a run produced in one layer; append the results; rebuild Data Docs.

    `run_summary` is the run's reconciled counts (`BronzeRun.as_dict()` for bronze,
    `SilverRun.as_dict()` for silver and for gold, whose checks use the silver run's event
    dates). Without it, per-run suites are skipped and recorded as warnings. `as_of` is the
    run's logical time, for freshness; without it freshness is skipped with a note.
    Critical failures do not raise here: call `report.raise_for_critical()`.

    `staged` maps table names (`gold.daily_kpis`) to their content staged for a commit not
    made yet (write-audit-publish): a table's own suite validates the rows the commit
    writes, a check of the whole table (volume) the table as it will read. A run that stages
    stages every table of the layer it rewrites, so when `staged` is given, the layer's
    other tables are unchanged: their suites passed when that content was written and are
    noted, not run again (suites on another layer's table, such as gold's freshness and
    referential checks on silver, still run). `only_tables` limits the run to the suites of
    those tables (a task that builds a few gold tables audits them).

    `defer_writes` leaves the run's Data Docs pages, and its results-table rows when no
    critical check failed, to background threads (a local lake only: an S3 lake's pages are
    uploaded here); `eventlake.quality.engine.finish_writes` waits for them, and so does the
    next validation in the process.
    """
    lake = Lake.from_settings(settings)
    if suites_dir is None and settings.expectations_dir:
        suites_dir = Path(settings.expectations_dir)
    definitions = load_layer(layer, suites_dir)
    parameters = base_parameters(settings, definitions) | run_parameters(
        run_summary if layer != "bronze" else None
    )
    docs_dir, results_dir = local_quality_dirs(settings, lake.quality_docs, lake.quality_validations)
    started = time.time()
    pull_results(settings, results_dir, lake.quality_validations)
    gx_workspace = workspace(docs_dir, results_dir)
    report = QualityReport(layer, run_id)
    selected: list[tuple[SuiteSpec, Builder | Skip]] = []  # a suite's builder, or why it is not run
    for suite in definitions.suites:
        if only_tables is not None and suite.table not in only_tables:
            continue
        if staged is not None and suite.table.startswith(f"{layer}.") and suite.table not in staged:
            selected.append((suite, Skip(f"{suite.table} unchanged by this run, not validated again")))
            continue
        builder = BUILDERS.get((layer, suite.data))
        if builder is None:
            raise SuiteDefinitionError(f"{suite.name}: unknown data {suite.data!r} for {layer}")
        selected.append((suite, builder))

    shared = SharedResults()

    def build(item: tuple[SuiteSpec, Builder | Skip]) -> DataFrame | Skip:
        suite, builder = item
        if isinstance(builder, Skip):
            return builder
        return builder(BatchContext(
            spark, settings, lake, run_id, run_summary, as_of, suite.table, shared, dict(staged or {})
        ))

    # A few builders at once: many read a small table or collect a row, a job or two each.
    with ThreadPoolExecutor(max_workers=CONCURRENT_SMALL_JOBS, thread_name_prefix="quality-batch") as pool:
        built = list(pool.map(build, selected))
    batches: list[SuiteBatch] = []
    for (suite, _), frame in zip(selected, built, strict=True):  # in the suites' order
        if isinstance(frame, Skip):
            _record_skip(report, suite, frame)
            continue
        runnable = [e for e in suite.expectations if e.parameters <= parameters.keys()]
        for missing in (e for e in suite.expectations if e not in runnable):
            absent = ", ".join(sorted(missing.parameters - parameters.keys()))
            report.results.append(_skipped(suite, missing.name, f"no value for {absent}"))
        if runnable:
            batches.append(SuiteBatch(suite, runnable, frame))
    # The layer's checkpoint: its actions render Data Docs and record the results.
    gx_workspace.run_layer(layer, batches, parameters, LayerRun(
        spark, settings, lake, report, as_utc(validated_at) if validated_at else utc_now()
    ), defer_writes=defer_writes and not settings.is_s3)
    report.docs_index = publish(
        settings, docs_dir, lake.quality_docs, results_dir, lake.quality_validations, since=started
    )
    log.info(
        "%s quality for run %s: %d expectations, %d warnings, %d critical failures",
        layer, run_id, len(report.results), len(report.warnings), len(report.critical_failures),
    )
    return report


def _skipped(suite: SuiteSpec, expectation: str, reason: str) -> ExpectationResult:
    return ExpectationResult(
        layer=suite.layer, table=suite.table, suite=suite.name, expectation=expectation,
        expectation_type="skipped", severity="warning", success=False, details=reason,
    )


def _record_skip(report: QualityReport, suite: SuiteSpec, skip: Skip) -> None:
    if skip.warn:
        report.results.append(_skipped(suite, "skipped", skip.reason))
    else:
        report.notes.append(f"{suite.name}: {skip.reason}")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    job: str
    recorded_at: datetime  # aware UTC
    summary: dict[str, Any]


def read_run_record(spark: SparkSession, settings: Settings, run_id: str | None, job: str) -> RunRecord | None:
    """A job's entry in the run log (`_state/job_runs`): the given run, or the newest one."""
    path = Lake.from_settings(settings).run_log.path
    if not delta_table_exists(spark, path):
        return None
    runs = spark.read.format("delta").load(path).where(F.col("job") == job)
    if run_id is not None:
        runs = runs.where(F.col("run_id") == run_id)
    row = runs.orderBy(F.col("recorded_at").desc()).limit(1).first()
    if row is None:
        return None
    return RunRecord(row["run_id"], row["job"], from_spark(row["recorded_at"]), json.loads(row["summary"]))


# The run log entry each layer's per-run checks read: gold checks use the silver run's dates.
RUN_LOG_JOB = {"bronze": "bronze", "silver": "silver", "gold": "silver"}


def validate_from_run_log(
    spark: SparkSession,
    settings: Settings,
    layer: str,
    *,
    run_id: str | None,
    as_of: datetime | None = None,
) -> QualityReport:
    """Validate a run recorded in the run log (the newest one when no run_id is given).

    Used by `eventlake quality` and the jobs/*/validate_*.py entry points. Without an
    explicit `as_of`, the run log's `recorded_at` is the logical time (freshness).
    """
    record = read_run_record(spark, settings, run_id, RUN_LOG_JOB[layer])
    if run_id is None:
        run_id = record.run_id if record else "adhoc"
    return validate_layer(
        spark,
        settings,
        layer,
        run_id=run_id,
        run_summary=record.summary if record else None,
        as_of=as_of or (record.recorded_at if record else None),
    )
