"""spark-submit entry point: bring the gold tables up to date with silver (contract §6).

    spark-submit jobs/gold/build_gold.py [--table NAME ...] [--from-date D --to-date D] [--run-id ID]

Without dates each table is rebuilt incrementally (only the periods new silver changes can
alter); with dates the periods covering them are recomputed from silver.
"""

from __future__ import annotations

import argparse
import json
import sys
from eventlake.clock import parse_day, parse_instant


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from eventlake.gold.tables import GOLD_TABLES  # no Spark session is started by this import

    parser = argparse.ArgumentParser(prog="build_gold.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--table", action="append", choices=list(GOLD_TABLES), metavar="NAME",
        help=f"a gold table to build (repeatable; default all): {', '.join(GOLD_TABLES)}",
    )
    parser.add_argument("--from-date", type=parse_day, metavar="YYYY-MM-DD",
                        help="recompute from this day (default: incremental)")
    parser.add_argument("--to-date", type=parse_day, metavar="YYYY-MM-DD",
                        help="recompute up to this day, inclusive (default: incremental)")
    parser.add_argument("--run-id", help="id recorded with the run (default: random)")
    parser.add_argument(
        "--audit", action="store_true",
        help="run the built tables' gold quality suites on their new content before "
             "committing it (exit 3 on a critical failure: nothing is committed)",
    )
    parser.add_argument("--as-of", type=parse_instant, metavar="TIMESTAMP",
                        help="the run's logical time (UTC) for --audit's freshness check")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from eventlake.gold.build import build_gold
    from eventlake.jobs import job_session

    # Like every job: logging set up, settings checked, the lease before the JVM, and a
    # user's mistake (or a failed audit, exit 3) as one line with its exit code.
    with job_session("eventlake-gold", catalog=True) as (spark, settings):
        audit = _auditor(spark, settings, args) if args.audit else None
        run = build_gold(
            spark, settings, tables=args.table, from_date=args.from_date,
            to_date=args.to_date, run_id=args.run_id, audit=audit,
        )
    print(json.dumps(run.as_dict(), default=str))
    return 0


def _auditor(spark, settings, args: argparse.Namespace):
    """The gold suites of the tables this task builds, run on their staged content."""
    from eventlake.quality.validate import read_run_record, validate_layer

    record = read_run_record(spark, settings, args.run_id, "silver") if args.run_id else None
    only = {f"gold.{name}" for name in args.table} if args.table else None

    def audit(staged) -> None:
        report = validate_layer(
            spark, settings, "gold", run_id=args.run_id or "adhoc",
            run_summary=record.summary if record else None, as_of=args.as_of,
            staged=staged, only_tables=only,
        )
        print(report.summary(), file=sys.stderr)
        report.raise_for_critical()

    return audit


if __name__ == "__main__":
    sys.exit(main())
