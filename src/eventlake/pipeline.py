"""`eventlake pipeline`: bronze → silver → gold for everything new, each layer behind its
quality gate, then the tables are (re)registered in the Spark catalog.

A critical expectation failure stops the run at that layer (exit code 3): nothing
downstream of bad data is built, and gold is audited before it is committed, so a failing
gold gate leaves every gold table as it was. Warnings are recorded and printed; the run
goes on. The whole run holds the lake's writer lease (eventlake.lease): a second writer
waits, or exits with code 75.

Before any JVM starts, `main` asks `eventlake.pending` whether there is anything to do
(read from the ingestion ledger, the consumers' watermarks and the Delta logs); an idle
run says so and returns in seconds. A run that starts Spark runs only the layers with
something to do (a layer with nothing new is neither run nor validated again; an explicit
recompute always runs gold, and silver when bronze holds lines ingested on its days).
`--force` runs every layer.
"""

from __future__ import annotations

import argparse
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date, datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventlake.clock import parse_day, parse_instant
from eventlake.config import Settings
from eventlake.errors import QualityGateFailed, UserError

if TYPE_CHECKING:  # pyspark is imported when a run starts Spark, not with this module
    from pyspark.sql import SparkSession

    from eventlake.quality.batches import StagedTable

log = logging.getLogger(__name__)
LAYERS = ("bronze", "silver", "gold")


@dataclass
class LayerResult:
    layer: str
    summary: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    quality_seconds: float = 0.0  # of the layer's wall time, spent in its quality gate


def run_layer(
    spark: SparkSession,
    settings: Settings,
    layer: str,
    *,
    run_id: str,
    quality: bool = True,
    silver_summary: dict[str, Any] | None = None,
    as_of: datetime | None = None,
    recompute: tuple[date, date] | None = None,
    tables: list[str] | None = None,
    files_per_batch: int | None = None,
    wait_for_writes: bool = True,
) -> LayerResult:
    """Run one layer under the lake's lease and, unless disabled, its quality suite (raises
    QualityGateFailed on a critical failure).

    Write, audit, publish: silver is audited before its bronze watermark moves, gold before
    any gold table is committed (the suites validate the staged tables), so a critical
    failure leaves gold as it was and the next run redoes the work. Bronze is the raw,
    append-only record of what landed; its gate stops silver from reading a bad batch.
    The gold suite bounds its checks by the silver run's event dates (`silver_summary`) and
    measures freshness against the run's logical time (`as_of`); both are optional.
    `recompute` (first, last day) is an explicit repair: silver re-applies its rules to the
    bronze lines ingested on those days and gold rebuilds the periods holding those event
    days, whatever the watermarks say. `tables` limits gold to those tables (and its suites
    to theirs); `files_per_batch` sizes bronze's commits.

    The gate leaves its Data Docs pages and a passing gate's results-table rows to
    background threads; `wait_for_writes` waits for them before returning, whether the
    layer passed or failed. A caller that runs more work after the layer passes False and
    wraps its whole run in `gate_writes_finished`, which waits once at its end, so the
    writes overlap that work.
    """
    from eventlake.lease import lake_lease
    from eventlake.lineage import layer_run

    warnings: list[str] = []
    audited = False
    quality_seconds = 0.0

    def gate(checked: dict[str, Any] | None, staged: Mapping[str, StagedTable] | None = None) -> None:
        nonlocal audited, quality_seconds
        from eventlake.quality import validate_layer

        audited = True
        started = time.perf_counter()
        # The gate's Data Docs pages, and its results-table rows when it passes, are written
        # in the background while the run goes on; `gate_writes_finished` waits for them
        # before the run ends, also when this gate fails (a failed gate's rows are written
        # in the gate, so the failure is on record at once).
        report = validate_layer(
            spark, settings, layer, run_id=run_id, run_summary=checked, as_of=as_of, staged=staged,
            only_tables={f"gold.{name}" for name in tables} if tables else None, defer_writes=True,
        )
        quality_seconds += time.perf_counter() - started
        warnings.extend(str(w) for w in report.warnings)
        failure = report.failure_message()
        if failure is not None and layer == "bronze" and checked is not None:
            from eventlake.quality.held import hold_bronze_run

            # Its files are in the ledger already: without this, the next run would find
            # nothing new and silver would read the batch that failed (quality/held.py).
            hold_bronze_run(settings, run_id, checked, failure)
        report.raise_for_critical()

    with layer_run(settings, layer, run_id=run_id, gold_tables=tables), \
            lake_lease(settings, f"eventlake {layer}"), \
            gate_writes_finished(quality and wait_for_writes):
        if layer == "bronze":
            from eventlake.bronze.ingest import DEFAULT_FILES_PER_BATCH, ingest_bronze

            summary = ingest_bronze(spark, settings, run_id=run_id,
                                    files_per_batch=files_per_batch or DEFAULT_FILES_PER_BATCH).as_dict()
        elif layer == "silver":
            from eventlake.silver.job import clean_silver

            if quality:
                started = time.perf_counter()
                warnings.extend(_recheck_held_bronze_runs(spark, settings))
                quality_seconds += time.perf_counter() - started
            audit = (lambda run: gate(run.as_dict())) if quality else None
            first, last = recompute or (None, None)
            summary = clean_silver(spark, settings, run_id=run_id, audit=audit,
                                   reprocess_from=first, reprocess_to=last).as_dict()
        elif layer == "gold":
            from eventlake.gold.build import build_gold

            audit = (lambda staged: gate(silver_summary, staged)) if quality else None
            first, last = recompute or (None, None)
            summary = _as_dict(build_gold(spark, settings, run_id=run_id, audit=audit,
                                          from_date=first, to_date=last, tables=tables))
        else:  # argparse restricts the choices; this guards programmatic callers
            raise ValueError(f"unknown layer {layer!r}")
        if quality and not audited:  # bronze, or a layer with nothing to stage
            gate(silver_summary if layer == "gold" else summary)
    return LayerResult(layer, summary, warnings, quality_seconds)


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "as_dict"):
        summary: dict[str, Any] = value.as_dict()  # the runs' as_dict (eventlake.runs, GoldRun)
        return summary
    from dataclasses import asdict, is_dataclass

    # Instances only: asdict() refuses a dataclass's class (and so does dict()).
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else dict(value)


def _recheck_held_bronze_runs(spark: SparkSession, settings: Settings) -> list[str]:
    """Validate every held bronze run again before silver reads bronze: release those that
    pass now; stop the run (exit 3) while one still fails. Returns the warnings to print."""
    from eventlake.quality import validate_layer
    from eventlake.quality.held import held_bronze_runs, release_bronze_run

    released = []
    for held in held_bronze_runs(settings):
        report = validate_layer(spark, settings, "bronze", run_id=held.run_id, run_summary=held.summary)
        failure = report.failure_message()
        if failure is not None:
            raise QualityGateFailed(
                f"silver did not run: bronze run {held.run_id}'s lines are held since "
                f"{held.held_at[:19]}Z and still fail: {failure}. Fix the cause, or accept the "
                f"batch as it is (silver quarantines what it cannot use): "
                f"eventlake quality --release {held.run_id}"
            )
        release_bronze_run(settings, held.run_id)
        released.append(f"bronze run {held.run_id} passes its quality gate now; silver reads its lines")
    return released


def run_pipeline(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str,
    layers: tuple[str, ...] = LAYERS,
    quality: bool = True,
    as_of: datetime | None = None,
    recompute: tuple[date, date] | None = None,
    on_layer: Callable[[LayerResult], None] | None = None,
) -> list[LayerResult]:
    from eventlake.lease import lake_lease

    with lake_lease(settings, "eventlake pipeline"):  # once for the run; layers re-enter it
        return _run_layers(spark, settings, run_id=run_id, layers=layers, quality=quality,
                           as_of=as_of, recompute=recompute, on_layer=on_layer)


def _run_layers(spark: SparkSession, settings: Settings, *, run_id: str, layers: tuple[str, ...],
                quality: bool, as_of: datetime | None, recompute: tuple[date, date] | None,
                on_layer: Callable[[LayerResult], None] | None) -> list[LayerResult]:
    from eventlake.catalog import register_tables

    results: list[LayerResult] = []
    with gate_writes_finished(quality):
        for layer in layers:
            silver = next((r.summary for r in results if r.layer == "silver"), None)
            result = run_layer(
                spark, settings, layer, run_id=run_id, quality=quality,
                silver_summary=silver, as_of=as_of, recompute=recompute, wait_for_writes=False,
            )
            results.append(result)
            if settings.metastore_url:
                # A shared metastore: readers find a layer's tables as soon as it is written.
                # (Derby is left alone until the end: the first catalog call locks it to this
                # process until the run ends, and `eventlake sql`/`spark-sql` cannot open it.)
                register_tables(spark, settings, database=layer, after_writing=True)
            if on_layer:
                on_layer(result)
        register_tables(spark, settings, after_writing=True)
    return results


@contextmanager
def gate_writes_finished(quality: bool) -> Iterator[None]:
    """Around a run's layers: what their gates left to write in the background (Data Docs
    pages, a passing gate's results-table rows) is written before the run ends, and so
    before it leaves the lake's lease. A write's error fails a run that otherwise passed;
    when the run itself failed, its own error stands (a write's is logged where it happens)."""
    if not quality:
        yield
        return
    from eventlake.quality.engine import finish_writes

    try:
        yield
    except BaseException:
        with suppress(Exception):
            finish_writes()
        raise
    finish_writes()  # the last gate's, written while the catalog was updated


def print_layer(result: LayerResult) -> None:
    figures = ", ".join(
        f"{key}={value}" for key, value in result.summary.items()
        if isinstance(value, (int, float, bool, str)) and key != "run_id"
    )
    print(f"{result.layer:>6}: {figures}")
    for warning in result.warnings:
        print(f"{'':>6}  warning: {warning}")


def configure(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    parser.add_argument(
        "--force", action="store_true",
        help="start Spark and run every layer and gate even when nothing new has landed",
    )


def run_id_argument(text: str) -> str:
    """A run id as given, refused (a one-line usage error) when it is empty or holds a path
    separator: GX's result and Data Docs stores refuse `/` and `\\` in their keys, and a
    run's gate would otherwise fail with a stack trace after the layer had written."""
    if not text.strip() or "/" in text or "\\" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a run id: give one without '/' or '\\'")
    return text


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options `eventlake pipeline` and `eventlake run <layer>` share."""
    parser.add_argument("--run-id", type=run_id_argument,
                        help="identifier recorded with every result, without a slash or backslash (default: random)")
    parser.add_argument(
        "--skip-quality", action="store_true", help="do not run the data-quality suites"
    )
    parser.add_argument(
        "--as-of", type=parse_instant, metavar="YYYY-MM-DDTHH:MM",
        help="the run's logical time (UTC), for the freshness check; without it freshness is skipped",
    )
    parser.add_argument(
        "--from-date", type=parse_day, metavar="YYYY-MM-DD",
        help="explicit recompute (with --to-date): silver re-cleans the bronze lines ingested "
             "on these days, gold rebuilds the periods of these event days",
    )
    parser.add_argument("--to-date", type=parse_day, metavar="YYYY-MM-DD",
                        help="last day of the explicit recompute, inclusive")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.spark import build_spark_session

    from eventlake.lease import lake_lease

    run_id = args.run_id or uuid.uuid4().hex
    recompute = recompute_range(args.from_date, args.to_date)
    layers: tuple[str, ...] = LAYERS
    new_bytes: int | None = None  # the new landing data's size, once pending_work read it
    # The lease before the JVM: a second pipeline waits without holding a Spark session.
    with lake_lease(settings, "eventlake pipeline"):
        if not args.force:
            from eventlake.pending import pending_work

            # Read without Spark after taking the lease: a run that waited for another
            # finds that one's work done and starts no JVM.
            pending = pending_work(settings, recompute)
            if pending.idle and recompute is None:
                print(f"pipeline {run_id}: {pending.describe()}; no Spark started "
                      f"(--force runs every layer anyway)")
                return 0
            log.info("pipeline: %s%s", pending.describe(),
                     "" if recompute is None else f"; recomputing {recompute[0]}..{recompute[1]}")
            layers, new_bytes = pending.layers(), pending.new_bytes
            for layer in LAYERS:
                if layer not in layers:
                    print(f"{layer:>6}: skipped, nothing to do: {pending.skipped(layer)}")
        if not args.skip_quality:
            from eventlake.quality import preload

            preload()  # GX's import overlaps the JVM's start
        spark = build_spark_session(settings, "eventlake-pipeline", catalog=True, one_run=recompute is None,
                                    new_bytes=new_bytes)
        run_pipeline(
            spark, settings, run_id=run_id, layers=layers, quality=not args.skip_quality,
            as_of=args.as_of, recompute=recompute, on_layer=print_layer,
        )
    print(f"pipeline {run_id}: done; lake {settings.lake_root}")
    return 0


def recompute_range(first: date | None, last: date | None) -> tuple[date, date] | None:
    """An explicit recompute's days from --from-date/--to-date (both or neither)."""
    if first is None and last is None:
        return None
    if first is None or last is None:
        raise UserError("give both --from-date and --to-date, or neither")
    if first > last:
        raise UserError(f"--from-date {first} is after --to-date {last}")
    return first, last
