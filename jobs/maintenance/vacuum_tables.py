"""spark-submit entry point: `eventlake maintenance vacuum`.

    spark-submit jobs/maintenance/vacuum_tables.py [--retain-hours 168] [--table silver.events]

Deletes data files no table version inside the retention window still needs."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintenance", "vacuum", *sys.argv[1:]]))
