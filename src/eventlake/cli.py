"""`eventlake` — the command line (contract §7).

Each command lives in its own module exposing `configure(parser)` and
`main(args, settings) -> int`; this file only wires them up and turns user mistakes into
one-line messages with a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from eventlake.errors import UserError

# command -> (module, one-line help). Modules import heavy libraries inside main().
COMMANDS: dict[str, tuple[str, str]] = {
    "pipeline": ("eventlake.pipeline", "bronze -> silver -> gold with quality gates, for everything new"),
    "run": ("eventlake.pipeline_run", "run one layer: bronze, silver or gold"),
    "generate": ("eventlake.generate.cli", "write realistic synthetic traffic (landing files or POSTs)"),
    "collector": ("eventlake.collector.cli", "serve the HTTP collector"),
    "kafka": ("eventlake.kafka.cli", "land 002's Kafka topic, up to its current end, into landing/"),
    "demo": ("eventlake.demo", "generate, run the pipeline and print gold, on the local lake"),
    "show": ("eventlake.gold.show", "print a table (e.g. gold.daily_kpis) for people to read"),
    "maintenance": ("eventlake.maintenance.cli", "the lake's upkeep: retention, optimize, vacuum, erase-user, dsar"),
    "dsar": ("eventlake.maintenance.dsar_cli", "export one user's data as one JSON document (raw id from the environment)"),
    "quality": ("eventlake.quality.cli", "run the data-quality suites and print a summary"),
    "catalog": ("eventlake.catalog_command", "register the lake's tables in the Spark catalog"),
    "serve-sql": ("eventlake.bi.sql_endpoint", "serve silver and gold to BI tools over JDBC/ODBC (read-only, with a password)"),
    "sql": ("eventlake.catalog", "run a Spark SQL query against the catalog (bronze.events, gold.x)"),
    "jvm-archive": ("eventlake.jvm_archive", "train this machine's JVM class archive: local runs start faster"),
    "spark-defaults": ("eventlake.spark_defaults", "write the spark-defaults.conf for spark-submit/spark-sql"),
    "config": ("eventlake.settings_cli", "print the effective settings (secrets masked) and unknown variables"),
}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the chosen command's module is imported (and so can fail to)."""
    parser = argparse.ArgumentParser(
        prog="eventlake",
        description="eventlake: collector, Spark + Delta lakehouse, gold tables for BI.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.configure(command_parser)
            command_parser.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((word for word in argv if not word.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("py4j", "botocore", "urllib3", "great_expectations"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        from eventlake.config import Settings, report_unknown_variables

        settings = Settings.from_env()
        if args.command != "config":  # config prints them itself
            report_unknown_variables()
        return int(args._module.main(args, settings) or 0)
    except UserError as error:
        print(f"eventlake {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"eventlake {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
