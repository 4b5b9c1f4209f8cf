"""spark-submit entry point: run the silver data-quality suites for a run; exit 3 on a critical failure.

The run's counts are read from the run log (_state/job_runs) by --run-id; results go to
_quality/results and Data Docs to _quality/docs/.
"""

import argparse
import sys


def main(argv=None) -> int:
    from eventlake.quality.cli import add_run_arguments

    parser = argparse.ArgumentParser(description=__doc__)
    add_run_arguments(parser)
    args = parser.parse_args(argv)

    from eventlake.jobs import job_session
    from eventlake.quality.validate import validate_from_run_log

    with job_session("eventlake-validate-silver") as (spark, settings):
        report = validate_from_run_log(spark, settings, "silver", run_id=args.run_id, as_of=args.as_of)
        print(report.summary())
        report.raise_for_critical()
    return 0


if __name__ == "__main__":
    sys.exit(main())
