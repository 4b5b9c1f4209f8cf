"""spark-submit entry point: clean what is new in bronze into silver.events (contract §5)."""

import argparse
import sys
from eventlake.clock import parse_day


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", help="run identifier recorded in the run log")
    parser.add_argument("--reprocess-from", type=parse_day, metavar="YYYY-MM-DD",
                        help="re-apply the rules to bronze lines ingested from this date")
    parser.add_argument("--reprocess-to", type=parse_day, metavar="YYYY-MM-DD",
                        help="… up to and including this date")
    parser.add_argument("--audit", action="store_true",
                        help="run the silver quality suite before the bronze watermark moves "
                             "(exit 3 on a critical failure; the next run redoes the work)")
    args = parser.parse_args(argv)

    from eventlake.jobs import job_session
    from eventlake.silver.job import clean_silver

    with job_session("eventlake-silver-clean") as (spark, settings):
        def run_audit(run):
            from eventlake.quality import validate_layer

            report = validate_layer(spark, settings, "silver", run_id=run.run_id,
                                    run_summary=run.as_dict())
            print(report.summary())
            report.raise_for_critical()

        audit = run_audit if args.audit else None

        run = clean_silver(spark, settings, run_id=args.run_id, audit=audit,
                           reprocess_from=args.reprocess_from, reprocess_to=args.reprocess_to)
        print(run.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
