"""spark-submit entry point: `eventlake run bronze`, ingest every new landing file into bronze.events (exactly once).

    spark-submit jobs/bronze/ingest_events.py [--run-id ID] [--files-per-batch 500] [--skip-quality]"""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", "bronze", *sys.argv[1:]]))
