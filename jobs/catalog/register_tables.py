"""spark-submit entry point: register the lake's Delta tables in the Spark catalog."""

import argparse
import sys


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)

    from eventlake.catalog import register_tables
    from eventlake.jobs import job_session

    with job_session("eventlake-register-tables", catalog=True) as (spark, settings):
        print("registered:", ", ".join(register_tables(spark, settings)) or "nothing yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
