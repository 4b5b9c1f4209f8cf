"""Validation results: what operators read, what the pipeline gates on, what trends query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

from eventlake.config import Settings
from eventlake.errors import QualityGateFailed
from eventlake.lake import Lake, append_by_delta_rs, open_delta

if TYPE_CHECKING:  # GX is imported when a suite runs
    from deltalake import DeltaTable
    from great_expectations.checkpoint.checkpoint import CheckpointResult

RESULTS_SCHEMA = (
    "run_id STRING, validated_at TIMESTAMP, layer STRING, table_name STRING, suite STRING, "
    "expectation STRING, expectation_type STRING, severity STRING, success BOOLEAN, "
    "observed_value STRING, details STRING"
)


@dataclass(frozen=True)
class ExpectationResult:
    layer: str
    table: str
    suite: str
    expectation: str  # the stable name from expectations/<layer>.yaml
    expectation_type: str  # the GX expectation class (or "skipped")
    severity: str  # "critical" | "warning"
    success: bool
    observed_value: str | None = None
    details: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.suite}.{self.expectation}"


@dataclass
class QualityReport:
    layer: str
    run_id: str
    results: list[ExpectationResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # checks skipped for a harmless reason
    docs_index: str | None = None

    @property
    def critical_failures(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == "warning"]

    @property
    def passed(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.success]

    def failure_message(self) -> str | None:
        """The critical failures in one line (what `raise_for_critical` raises); None if none."""
        failed = self.critical_failures
        if not failed:
            return None
        names = ", ".join(
            f"{r.qualified_name} (observed {r.observed_value})" if r.observed_value else r.qualified_name
            for r in failed
        )
        return f"{self.layer} quality gate failed for run {self.run_id}: {names}"

    def raise_for_critical(self) -> None:
        message = self.failure_message()
        if message is not None:
            raise QualityGateFailed(message)

    def summary(self) -> str:
        """A readable table of every result, failures first, then the counts."""
        lines = [f"{self.layer} quality, run {self.run_id}"]
        order = {"critical": 0, "warning": 1}
        ranked = sorted(self.results, key=lambda r: (r.success, order.get(r.severity, 2), r.suite))
        width = max((len(r.qualified_name) for r in ranked), default=10)
        for r in ranked:
            status = "ok" if r.success else ("FAILED" if r.severity == "critical" else "WARN")
            observed = "" if r.observed_value is None else f"  observed {r.observed_value}"
            lines.append(f"  {status:<6} {r.severity:<8} {r.qualified_name:<{width}}{observed}")
            if not r.success and r.expectation_type == "skipped":
                lines.append(f"         {r.details}")
        for note in self.notes:
            lines.append(f"  note   {note}")
        lines.append(
            f"  {len(self.results)} expectations: {len(self.passed)} passed, "
            f"{len(self.warnings)} warnings, {len(self.critical_failures)} critical failures"
        )
        if self.docs_index:
            lines.append(f"  data docs: {self.docs_index}")
        return "\n".join(lines)


@dataclass
class LayerRun:
    """What eventlake knows of a layer's run beyond GX's results: the report so far (suites
    skipped before GX, with their reasons), where and when to record the results, and
    (set by the workspace) how to read GX's results back into eventlake's terms."""

    spark: SparkSession
    settings: Settings
    lake: Lake
    report: QualityReport
    validated_at: datetime
    to_results: Callable[[CheckpointResult], list[ExpectationResult]] | None = None


def write_results(run: LayerRun) -> None:
    """Store the run's report in `_quality/results`, replacing an earlier validation of the
    same run and layer (re-running a validation is idempotent)."""
    spark, report = run.spark, run.report
    rows = [
        (
            report.run_id, run.validated_at, r.layer, r.table, r.suite, r.expectation,
            r.expectation_type, r.severity, r.success, r.observed_value, r.details,
        )
        for r in report.results
    ]
    frame = spark.createDataFrame(rows, RESULTS_SCHEMA)
    path = run.lake.quality_results.path
    stored = open_delta(run.settings, path)
    if stored is None:
        # The first validation of the lake creates the table, with the lake's properties.
        frame.write.format("delta").mode("append").save(path)
        return
    if not _may_hold(stored, report.run_id, report.layer):
        # Nothing of this run and layer in it: a plain append. replaceWhere would first
        # search the table for files to rewrite, about 1 s of every gate; and a few dozen
        # rows are one delta-rs commit (0.2-0.3 s) where Spark's append is a job, a
        # snapshot and a commit (1.4-2.4 s; docs/benchmarks.md).
        if append_by_delta_rs(run.settings, path, frame.toArrow()):
            return
        frame.write.format("delta").mode("append").save(path)
        return
    run_id = report.run_id.replace("'", "''")
    (
        frame.write.format("delta").mode("overwrite")
        .option("replaceWhere", f"run_id = '{run_id}' AND layer = '{report.layer}'")
        .save(path)
    )


def _may_hold(table: DeltaTable, run_id: str, layer: str) -> bool:
    """Whether a file of the results table may hold rows of this run and layer.

    Decided from each file's min/max statistics in the Delta log, read with delta-rs (no
    Spark job). They are the statistics Delta's own data skipping prunes `replaceWhere`'s
    search with, so where this says no, replaceWhere would have removed nothing. A file
    without statistics may hold anything.
    """
    import pyarrow as pa

    files = pa.table(table.get_add_actions(flatten=True))
    wanted = {"run_id": run_id, "layer": layer}
    bounds = [f"{edge}.{column}" for column in wanted for edge in ("min", "max")]
    if not set(bounds) <= set(files.column_names):
        return bool(files.num_rows > 0)
    return any(
        all(_within(value, stats[f"min.{column}"], stats[f"max.{column}"]) for column, value in wanted.items())
        for stats in files.select(bounds).to_pylist()
    )


def _within(value: str, low: str | None, high: str | None) -> bool:
    """`low <= value <= high`, an unknown bound allowing anything. Delta keeps only a long
    string's first 32 characters: as a minimum that is still a lower bound, and to a
    truncated maximum Delta appends a tie-breaker character that keeps it an upper bound
    (tests/quality/test_report.py runs a 36-character run id through both)."""
    return (low is None or low <= value) and (high is None or value <= high)
