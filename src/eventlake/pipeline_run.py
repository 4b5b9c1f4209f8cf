"""`eventlake run bronze|silver|gold`: one layer with the same semantics as the pipeline.

jobs/bronze/ingest_events.py, jobs/silver/clean_events.py and jobs/gold/build_gold.py are
this command under spark-submit (the Airflow gold task among them): one set of options.
"""

from __future__ import annotations

import argparse
import uuid

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.gold import checked_table_names
from eventlake.pipeline import LAYERS, add_run_options, gate_writes_finished, print_layer, recompute_range, run_layer


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("layer", choices=LAYERS, help="the layer to bring up to date")
    add_run_options(parser)  # the pipeline's options: one front door, one meaning
    # What only one layer takes.
    parser.add_argument(
        "--table", action="append", dest="tables", metavar="NAME",
        help="gold: only this table (repeatable; default every table), e.g. daily_kpis",
    )
    parser.add_argument(
        "--files-per-batch", type=int, metavar="N",
        help="bronze: landing files per Delta commit (default 500)",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.catalog import register_tables
    from eventlake.spark import build_spark_session

    from eventlake.lease import lake_lease

    recompute = recompute_range(args.from_date, args.to_date)  # a mistake stops before any JVM
    tables = checked_table_names(args.tables) if args.tables else None
    if tables is not None and args.layer != "gold":
        raise UserError("--table applies to gold only")
    if args.files_per_batch is not None and (args.layer != "bronze" or args.files_per_batch < 1):
        raise UserError("--files-per-batch applies to bronze only, and is at least 1")
    with lake_lease(settings, f"eventlake run {args.layer}"):  # before the JVM starts
        if not args.skip_quality:
            from eventlake.quality import preload

            preload()  # GX's import overlaps the JVM's start
        spark = build_spark_session(settings, f"eventlake-{args.layer}", catalog=True, one_run=recompute is None)
        silver_summary = None
        if args.layer == "gold" and args.run_id and not args.skip_quality:
            # Gold's per-run checks use the silver run's event dates: that of this run's id
            # when one ran (an Airflow run's silver and gold share the DAG run's id).
            from eventlake.quality.validate import read_run_record

            record = read_run_record(spark, settings, args.run_id, "silver")
            silver_summary = record.summary if record else None
        with gate_writes_finished(not args.skip_quality):
            result = run_layer(
                spark, settings, args.layer, run_id=args.run_id or uuid.uuid4().hex,
                quality=not args.skip_quality, as_of=args.as_of, recompute=recompute,
                silver_summary=silver_summary, tables=tables, files_per_batch=args.files_per_batch,
                wait_for_writes=False,
            )
            register_tables(spark, settings, after_writing=True)
    print_layer(result)
    return 0

