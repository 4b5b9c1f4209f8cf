"""Compaction: OPTIMIZE every lake table, Z-ordering silver on the columns gold filters by.

spark-submit jobs/maintenance/optimize_tables.py --as-of 2024-05-01 [--recent-days 7] [--table silver.events]
"""

from __future__ import annotations

import argparse
import json
import sys
from eventlake.clock import parse_day
from eventlake.maintenance.policy import RECENT_DAYS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="optimize_tables",
        description="Compact small files of the lake's Delta tables (OPTIMIZE, Z-order).",
    )
    parser.add_argument("--as-of", type=parse_day,
                        help="with --recent-days: only partitions from as_of - N days are rewritten")
    parser.add_argument("--recent-days", type=int, default=RECENT_DAYS,
                        help=f"partitioned tables: compact only this many recent days (default {RECENT_DAYS})")
    parser.add_argument("--all-partitions", action="store_true",
                        help="compact every partition (e.g. after a backfill)")
    parser.add_argument("--table", action="append", dest="tables", metavar="NAME",
                        help="only this table (repeatable), e.g. silver.events or gold.daily_kpis")
    return parser


def action(spark, settings, args: argparse.Namespace) -> list[dict]:
    from dataclasses import asdict

    from eventlake.lake import Lake
    from eventlake.maintenance.compaction import optimize_tables

    results = optimize_tables(
        spark,
        Lake.from_settings(settings),
        as_of=None if args.all_partitions else args.as_of,
        recent_days=None if args.all_partitions else args.recent_days,
        only=set(args.tables) if args.tables else None,
    )
    return [asdict(result) for result in results]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before any Spark import: --help stays light
    from eventlake.jobs import job_session

    with job_session("eventlake-maintenance-optimize-tables") as (spark, settings):
        print(json.dumps(action(spark, settings, args), sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
