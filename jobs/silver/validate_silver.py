"""spark-submit entry point: run the silver data-quality suites for a run; exit 3 on a critical failure.

The run's counts are read from the run log (_state/job_runs) by --run-id; results go to
_quality/results and Data Docs to _quality/docs/.
"""

import sys

from eventlake.quality.cli import validate_job

if __name__ == "__main__":
    sys.exit(validate_job("silver", __doc__))
