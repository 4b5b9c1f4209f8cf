"""spark-submit entry point: `eventlake maintenance optimize`.

    spark-submit jobs/maintenance/optimize_tables.py --as-of 2024-05-01 [--recent-days 7] [--table silver.events]

Compacts small files of the lake's Delta tables (OPTIMIZE; silver.events Z-ordered)."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintenance", "optimize", *sys.argv[1:]]))
