"""spark-submit entry point: `eventlake run gold`, bring the gold tables up to date with silver (contract §6).

    spark-submit jobs/gold/build_gold.py [--table NAME ...] [--from-date D --to-date D] [--run-id ID] [--as-of T]

Without dates each table is rebuilt incrementally (only the periods new silver changes can
alter); with dates the periods covering them are recomputed from silver. The gold suites
validate every rebuilt table's new content before anything is committed (exit 3 on a
critical failure: nothing is committed)."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "gold", *sys.argv[1:]]))
