"""`eventlake quality [--layer …] [--run-id ID] [--as-of TS]`: run the suites on demand.

`eventlake quality --release RUN_ID` lets silver read a bronze run held by its failed gate
(eventlake.quality.held), as it is; no Spark is started."""

from __future__ import annotations

import argparse

from eventlake.clock import parse_instant
from eventlake.config import Settings
from eventlake.errors import QualityGateFailed, UserError

LAYER_CHOICES = ("bronze", "silver", "gold", "all")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    from eventlake.pipeline import run_id_argument

    parser.add_argument(
        "--run-id", type=run_id_argument,
        help="the run to validate, as recorded in _state/job_runs (default: the newest run)",
    )
    parser.add_argument(
        "--as-of",
        type=parse_instant,
        metavar="TIMESTAMP",
        help="the run's logical time for the freshness check (default: when the run was recorded)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--layer", choices=LAYER_CHOICES, default="all", help="which suites to run (default: all)"
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--release", metavar="RUN_ID",
        help="let silver read the lines of a bronze run its failed gate holds back, as they are "
             "(silver quarantines what it cannot use); validates nothing",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.release:
        return release(settings, args.release)
    from eventlake.quality import preload
    from eventlake.quality.validate import validate_from_run_log
    from eventlake.spark import build_spark_session

    from eventlake.lease import lake_lease

    layers = ("bronze", "silver", "gold") if args.layer == "all" else (args.layer,)
    reports = []
    with lake_lease(settings, "eventlake quality"):  # it writes _quality/results and docs
        preload()  # GX's import overlaps the JVM's start
        spark = build_spark_session(settings, "eventlake-quality")
        for layer in layers:
            report = validate_from_run_log(spark, settings, layer, run_id=args.run_id, as_of=args.as_of)
            print(report.summary())
            print()
            reports.append(report)
    failures = [message for r in reports if (message := r.failure_message()) is not None]
    if failures:
        # Every layer was validated and printed; the exit code says a gate failed.
        raise QualityGateFailed("; ".join(failures))
    return 0


def release(settings: Settings, run_id: str) -> int:
    from eventlake.lease import lake_lease
    from eventlake.quality.held import held_bronze_runs, release_bronze_run

    with lake_lease(settings, "eventlake quality --release"):
        released = release_bronze_run(settings, run_id)
        if released is None:
            held = ", ".join(run.run_id for run in held_bronze_runs(settings)) or "none"
            raise UserError(f"no bronze run {run_id} is held (held runs: {held})")
    print(f"bronze run {run_id} released (held since {released.held_at[:19]}Z: {released.reason}): "
          "the next silver run reads its lines")
    return 0
