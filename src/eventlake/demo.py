"""`eventlake demo`: the embedded default end to end — generate traffic into the local lake,
run the pipeline (bronze → silver → gold with quality gates), print the headline gold tables.

Rerunning it is safe: the same seed writes the same landing files, which bronze already
holds, so the second run has nothing new and the tables stay as they are.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import date

from eventlake.clock import parse_day
from eventlake.config import Settings
from eventlake.errors import UserError

HEADLINE_TABLES = ("daily_kpis", "daily_active_users", "content_engagement", "search_performance", "track_daily")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=20_000, help="events to generate (default 20000)")
    parser.add_argument("--days", type=int, default=3, help="days of traffic (default 3)")
    parser.add_argument("--start-date", type=parse_day, default=date(2026, 11, 1),
                        help="first day of traffic (default 2026-11-01)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    if settings.is_s3:
        raise UserError("the demo runs on the embedded local lake; unset EVENTLAKE_LAKE_URI or point it at a folder")
    from eventlake.generate import generate_traffic
    from eventlake.gold.show import gold_table, read_rows, render
    from eventlake.pipeline import print_layer, run_pipeline
    from eventlake.quality import preload
    from eventlake.spark import build_spark_session

    print(f"1/3 generating {args.events} events over {args.days} days into {settings.lake_root}/landing")
    summary = generate_traffic(
        settings, events=args.events, days=args.days, start_date=args.start_date, seed=args.seed
    )
    print(f"    {summary.lines} lines in {len(summary.files)} landing files")
    print("2/3 pipeline: bronze → silver → gold, each behind its quality suite")
    preload()  # GX's import overlaps the JVM's start
    spark = build_spark_session(settings, "eventlake-demo", catalog=True, one_run=True)
    run_pipeline(spark, settings, run_id=f"demo-{uuid.uuid4().hex[:8]}", on_layer=print_layer)
    print("3/3 gold tables (also: eventlake show gold.<table>, eventlake sql '…')")
    for name in HEADLINE_TABLES:
        table = gold_table(f"gold.{name}")
        rows, total = read_rows(settings, table, limit=10)
        print(f"\ngold.{name} — newest first, {len(rows)} of {total} rows")
        print(render(table, rows))
    return 0
