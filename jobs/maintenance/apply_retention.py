"""spark-submit entry point: `eventlake maintenance retention`.

    spark-submit jobs/maintenance/apply_retention.py --as-of 2024-05-01 [--bronze-days 90 ...]

Deletes landing/bronze/quarantine/silver partitions older than their limits; gold is kept."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintenance", "retention", *sys.argv[1:]]))
