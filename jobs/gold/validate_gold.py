"""spark-submit entry point: `eventlake quality --layer gold`, run the gold data-quality suites for a run; exit 3 on a critical failure.

The run's counts are read from the run log (_state/job_runs) by --run-id; results go to
_quality/results and Data Docs to _quality/docs/."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["quality", "--layer", "gold", *sys.argv[1:]]))
