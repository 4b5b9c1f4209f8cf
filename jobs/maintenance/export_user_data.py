"""spark-submit entry point: `eventlake maintenance dsar`.

    EVENTLAKE_DSAR_USER_ID=<raw id> spark-submit jobs/maintenance/export_user_data.py --output PATH --request-id R

GDPR right of access and portability: one user's data from silver, quarantine, bronze and
per-user gold as one JSON document, with an audit record (docs/dsar.md). The raw id comes
from the environment, never from argv: argv shows in process lists, in spark-submit's
logged command line and in Airflow's rendered task fields."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintenance", "dsar", *sys.argv[1:]]))
