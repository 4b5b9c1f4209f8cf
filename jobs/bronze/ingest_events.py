"""spark-submit entry point: ingest every new landing file into bronze.events (exactly once)."""

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", help="run identifier recorded in the run log")
    parser.add_argument("--files-per-batch", type=int, default=500, help="files per Delta commit")
    args = parser.parse_args(argv)

    from eventlake.bronze.ingest import ingest_bronze
    from eventlake.jobs import job_session

    with job_session("eventlake-bronze-ingest") as (spark, settings):
        run = ingest_bronze(spark, settings, run_id=args.run_id, files_per_batch=args.files_per_batch)
        print(run.as_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
