"""VACUUM: delete data files no table version inside the retention window still needs.

spark-submit jobs/maintenance/vacuum_tables.py [--retain-hours 168] [--table silver.events]
"""

from __future__ import annotations

import argparse
import json
import sys

from eventlake.maintenance.policy import VACUUM_RETAIN_HOURS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vacuum_tables",
        description="VACUUM the lake's Delta tables (this is when erased rows leave the storage).",
    )
    parser.add_argument("--retain-hours", type=float, default=float(VACUUM_RETAIN_HOURS),
                        help=f"keep files younger than this (default {VACUUM_RETAIN_HOURS} = Delta's 7 days)")
    parser.add_argument("--table", action="append", dest="tables", metavar="NAME",
                        help="only this table (repeatable)")
    return parser


def action(spark, settings, args: argparse.Namespace) -> dict:
    from eventlake.lake import Lake
    from eventlake.maintenance.compaction import vacuum_tables

    vacuumed = vacuum_tables(
        spark,
        Lake.from_settings(settings),
        retain_hours=args.retain_hours,
        only=set(args.tables) if args.tables else None,
    )
    return {"vacuumed": vacuumed, "retain_hours": args.retain_hours}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before any Spark import: --help stays light
    from eventlake.jobs import job_session

    with job_session("eventlake-maintenance-vacuum-tables") as (spark, settings):
        print(json.dumps(action(spark, settings, args), sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
