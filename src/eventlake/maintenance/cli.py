"""`eventlake maintenance <task>`: the lake's upkeep, as the Airflow maintenance and erasure
DAGs run it (their spark-submit entry points in jobs/maintenance/ call this command).

    eventlake maintenance retention --as-of 2024-05-01 [--bronze-days 90 ...]
    eventlake maintenance optimize [--as-of D --recent-days N | --all-partitions] [--table T]
    eventlake maintenance vacuum [--retain-hours 168] [--table T]
    EVENTLAKE_ERASE_USER_ID=<raw id> eventlake maintenance erase-user --request-id R
    EVENTLAKE_DSAR_USER_ID=<raw id> eventlake maintenance dsar --output PATH [--request-id R]
        [--user-id-env VARIABLE]

Each task holds the lake's lease while it writes and prints what it did as one JSON line.
The raw id of an erasure or an export comes from the environment, never from argv: argv
shows in process lists, in spark-submit's logged command line and in Airflow's rendered
task fields.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventlake.clock import parse_day
from eventlake.config import Settings
from eventlake.maintenance.policy import RECENT_DAYS, VACUUM_RETAIN_HOURS, RetentionPolicy

USER_ID_VARIABLE = "EVENTLAKE_ERASE_USER_ID"


@dataclass(frozen=True)
class Task:
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    action: Callable[[Any, Settings, argparse.Namespace], Any]
    app_name: str  # the Spark application and the lease holder's name
    # Checks of what the task reads besides argv: a mistake is one line before any lease or JVM.
    precheck: Callable[[argparse.Namespace], object] = lambda args: None


def _configure_retention(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_day, required=True,
                        help="the day retention is computed from (the DAG's logical date)")
    defaults = RetentionPolicy()
    parser.add_argument("--landing-days", type=int, default=defaults.landing_days)
    parser.add_argument("--bronze-days", type=int, default=defaults.bronze_days)
    parser.add_argument("--quarantine-days", type=int, default=defaults.quarantine_days)
    parser.add_argument("--silver-days", type=int, default=defaults.silver_days)


def _retention(spark: Any, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from eventlake.lake import Lake
    from eventlake.maintenance.retention import apply_retention

    policy = RetentionPolicy(
        landing_days=args.landing_days,
        bronze_days=args.bronze_days,
        quarantine_days=args.quarantine_days,
        silver_days=args.silver_days,
    )
    return apply_retention(spark, Lake.from_settings(settings), args.as_of, policy).as_dict()


def _configure_optimize(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=parse_day,
                        help="with --recent-days: only partitions from as_of - N days are rewritten")
    parser.add_argument("--recent-days", type=int, default=RECENT_DAYS,
                        help=f"partitioned tables: compact only this many recent days (default {RECENT_DAYS})")
    parser.add_argument("--all-partitions", action="store_true",
                        help="compact every partition (e.g. after a backfill)")
    parser.add_argument("--table", action="append", dest="tables", metavar="NAME",
                        help="only this table (repeatable), e.g. silver.events or gold.daily_kpis")


def _optimize(spark: Any, settings: Settings, args: argparse.Namespace) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from eventlake.lake import Lake
    from eventlake.maintenance.compaction import optimize_tables

    results = optimize_tables(
        spark,
        Lake.from_settings(settings),
        as_of=None if args.all_partitions else args.as_of,
        recent_days=None if args.all_partitions else args.recent_days,
        only=set(args.tables) if args.tables else None,
    )
    return [asdict(result) for result in results]


def _configure_vacuum(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retain-hours", type=float, default=float(VACUUM_RETAIN_HOURS),
                        help=f"keep files younger than this (default {VACUUM_RETAIN_HOURS} = Delta's 7 days)")
    parser.add_argument("--table", action="append", dest="tables", metavar="NAME",
                        help="only this table (repeatable)")


def _vacuum(spark: Any, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from eventlake.lake import Lake
    from eventlake.maintenance.compaction import vacuum_tables

    vacuumed = vacuum_tables(
        spark,
        Lake.from_settings(settings),
        retain_hours=args.retain_hours,
        only=set(args.tables) if args.tables else None,
    )
    return {"vacuumed": vacuumed, "retain_hours": args.retain_hours}


def _configure_erase_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--request-id", required=True,
                        help="the erasure request's id, kept in _audit/erasures")


def _user_to_erase() -> str:
    """The raw id from the environment; a missing or oversized one stops before the JVM."""
    from eventlake.maintenance.erasure import validate_user_id

    return validate_user_id(os.environ.get(USER_ID_VARIABLE))


def _erase_user(spark: Any, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime

    from eventlake.maintenance.erasure import erase_user

    # The clock at the edge: when this erasure actually ran, for the audit record.
    result = erase_user(
        spark, settings, _user_to_erase(), request_id=args.request_id, erased_at=datetime.now(UTC),
    )
    return result.as_dict()


def _configure_dsar(parser: argparse.ArgumentParser) -> None:
    from eventlake.maintenance.dsar import DEFAULT_USER_ID_VARIABLE

    parser.add_argument("--user-id-env", default=DEFAULT_USER_ID_VARIABLE, metavar="VARIABLE",
                        help="the environment variable that holds the raw user id "
                        f"(default {DEFAULT_USER_ID_VARIABLE}); the id itself is never an argument")
    parser.add_argument("--output", required=True, metavar="PATH",
                        help="where the JSON document goes: a local file path, or a URI such as "
                        "s3a://bucket/dsar/R.json (written with the lake's S3 settings)")
    parser.add_argument("--request-id", default=None,
                        help="the access request's id, kept in _audit/dsar_exports "
                        "(default: dsar-<UTC time>-<random>)")


def _dsar_precheck(args: argparse.Namespace) -> str:
    """The raw id from the named variable and a writable output: one line before the JVM."""
    from eventlake.maintenance.dsar import check_output, user_id_from_env

    raw_user_id = user_id_from_env(args.user_id_env)
    check_output(args.output)
    return raw_user_id


def _dsar(spark: Any, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from datetime import UTC, datetime

    from eventlake.maintenance.dsar import export_user

    # The clock at the edge: when this export ran, for the document and the audit record.
    result = export_user(
        spark, settings, _dsar_precheck(args), output=args.output, request_id=args.request_id,
        generated_at=datetime.now(UTC),
    )
    return result.as_dict()


TASKS: dict[str, Task] = {
    "retention": Task(
        "delete partitions older than the retention limits (004 §8.3); gold is kept",
        _configure_retention, _retention, "eventlake-maintenance-apply-retention",
    ),
    "optimize": Task(
        "compact small files of the lake's Delta tables (OPTIMIZE, Z-order)",
        _configure_optimize, _optimize, "eventlake-maintenance-optimize-tables",
    ),
    "vacuum": Task(
        "VACUUM the lake's Delta tables (this is when erased rows leave the storage)",
        _configure_vacuum, _vacuum, "eventlake-maintenance-vacuum-tables",
    ),
    "erase-user": Task(
        f"erase one user (raw id in ${USER_ID_VARIABLE}) from landing, bronze, quarantine, "
        "silver and per-user gold; gold's aggregates follow on its next run",
        _configure_erase_user, _erase_user, "eventlake-maintenance-erase-user",
        precheck=lambda args: _user_to_erase(),
    ),
    "dsar": Task(
        "export one user's data (raw id in the variable --user-id-env names) as one JSON "
        "document: silver events, quarantined and bronze raw lines, per-user gold rows "
        "(right of access and portability, docs/dsar.md); audited in _audit/dsar_exports",
        _configure_dsar, _dsar, "eventlake-maintenance-dsar", precheck=_dsar_precheck,
    ),
}


def configure(parser: argparse.ArgumentParser) -> None:
    tasks = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for name, task in TASKS.items():
        task.configure(tasks.add_parser(name, help=task.help, description=task.help))


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.lease import lake_lease
    from eventlake.spark import build_spark_session

    task = TASKS[args.task]
    task.precheck(args)
    with lake_lease(settings, task.app_name):  # before the JVM: a waiting task holds no Spark
        spark = build_spark_session(settings, task.app_name)
        result = task.action(spark, settings, args)
    print(json.dumps(result, sort_keys=True, default=str))
    return 0
