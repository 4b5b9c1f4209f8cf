"""spark-submit entry point: `eventlake run silver`, clean what is new in bronze into silver.events (contract §5).

    spark-submit jobs/silver/clean_events.py [--run-id ID] [--from-date D --to-date D] [--skip-quality]

The silver suite audits the run before bronze's watermark moves (exit 3 on a critical
failure: the next run redoes the work). --from-date/--to-date re-apply the rules to the
bronze lines ingested on those days (a repair after a fix)."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "silver", *sys.argv[1:]]))
