"""Retention: drop landing/bronze/quarantine/silver partitions older than their limits.

spark-submit jobs/maintenance/apply_retention.py --as-of 2024-05-01 [--bronze-days 90 ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from eventlake.clock import parse_day
from eventlake.maintenance.policy import RetentionPolicy


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apply_retention",
        description="Delete lake partitions older than the retention limits (004 §8.3); gold is kept.",
    )
    parser.add_argument("--as-of", type=parse_day, required=True,
                        help="the day retention is computed from (the DAG's logical date)")
    defaults = RetentionPolicy()
    parser.add_argument("--landing-days", type=int, default=defaults.landing_days)
    parser.add_argument("--bronze-days", type=int, default=defaults.bronze_days)
    parser.add_argument("--quarantine-days", type=int, default=defaults.quarantine_days)
    parser.add_argument("--silver-days", type=int, default=defaults.silver_days)
    return parser


def action(spark, settings, args: argparse.Namespace) -> dict:
    from eventlake.lake import Lake
    from eventlake.maintenance.retention import apply_retention

    policy = RetentionPolicy(
        landing_days=args.landing_days,
        bronze_days=args.bronze_days,
        quarantine_days=args.quarantine_days,
        silver_days=args.silver_days,
    )
    return apply_retention(spark, Lake.from_settings(settings), args.as_of, policy).as_dict()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before any Spark import: --help stays light
    from eventlake.jobs import job_session

    with job_session("eventlake-maintenance-apply-retention") as (spark, settings):
        print(json.dumps(action(spark, settings, args), sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
