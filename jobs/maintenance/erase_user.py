"""spark-submit entry point: `eventlake maintenance erase-user`.

    EVENTLAKE_ERASE_USER_ID=<raw id> spark-submit jobs/maintenance/erase_user.py --request-id R

GDPR erasure of one user from landing, bronze, quarantine, silver and per-user gold, with a
tombstone and an audit record (docs/privacy.md). The raw id comes from the environment,
never from argv: argv shows in process lists, in spark-submit's logged command line and in
Airflow's rendered task fields."""

import sys

from eventlake.cli import main

if __name__ == "__main__":
    sys.exit(main(["maintenance", "erase-user", *sys.argv[1:]]))
