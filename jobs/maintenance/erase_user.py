"""GDPR erasure of one user from landing, bronze, quarantine, silver and per-user gold, with
a tombstone and an audit record (docs/privacy.md).

EVENTLAKE_ERASE_USER_ID=<raw id> spark-submit jobs/maintenance/erase_user.py --request-id R

The raw id comes from the environment, never from argv: argv shows in process lists, in
spark-submit's logged command line and in Airflow's rendered task fields.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

USER_ID_VARIABLE = "EVENTLAKE_ERASE_USER_ID"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="erase_user",
        description=(
            f"Erase one user's events (raw id in ${USER_ID_VARIABLE}) from landing, bronze, "
            "quarantine, silver and per-user gold; gold's aggregates follow on its next run."
        ),
    )
    parser.add_argument("--request-id", required=True,
                        help="the erasure request's id, kept in _audit/erasures")
    return parser


def action(spark, settings, args: argparse.Namespace) -> dict:
    from datetime import UTC, datetime

    from eventlake.maintenance.erasure import erase_user

    # The clock at the edge: when this erasure actually ran, for the audit record.
    result = erase_user(
        spark,
        settings,
        os.environ.get(USER_ID_VARIABLE),
        request_id=args.request_id,
        erased_at=datetime.now(UTC),
    )
    return result.as_dict()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # before any Spark import: --help stays light
    from eventlake.jobs import job_session

    with job_session("eventlake-maintenance-erase-user") as (spark, settings):
        print(json.dumps(action(spark, settings, args), sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
