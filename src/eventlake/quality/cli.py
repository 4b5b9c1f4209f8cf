"""`eventlake quality [--layer …] [--run-id ID] [--as-of TS]`: run the suites on demand."""

from __future__ import annotations

import argparse

from eventlake.clock import parse_instant
from eventlake.config import Settings
from eventlake.errors import QualityGateFailed

LAYER_CHOICES = ("bronze", "silver", "gold", "all")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id",
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


def main(args: argparse.Namespace, settings: Settings) -> int:
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
    failed = [r for r in reports if r.critical_failures]
    if failed:
        # Every layer was validated and printed; the exit code says a gate failed.
        messages = []
        for report in failed:
            try:
                report.raise_for_critical()
            except QualityGateFailed as error:
                messages.append(str(error))
        raise QualityGateFailed("; ".join(messages))
    return 0
