"""`eventlake run bronze|silver|gold`: one layer with the same semantics as the pipeline."""

from __future__ import annotations

import argparse
import uuid

from eventlake.config import Settings
from eventlake.pipeline import LAYERS, add_run_options, print_layer, recompute_range, run_layer


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("layer", choices=LAYERS, help="the layer to bring up to date")
    add_run_options(parser)  # the pipeline's options: one front door, one meaning


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.catalog import register_tables
    from eventlake.spark import build_spark_session

    from eventlake.lease import lake_lease

    recompute = recompute_range(args.from_date, args.to_date)  # a mistake stops before any JVM
    with lake_lease(settings, f"eventlake run {args.layer}"):  # before the JVM starts
        spark = build_spark_session(settings, f"eventlake-{args.layer}", catalog=True)
        result = run_layer(
            spark, settings, args.layer, run_id=args.run_id or uuid.uuid4().hex,
            quality=not args.skip_quality, as_of=args.as_of, recompute=recompute,
        )
        register_tables(spark, settings)
    print_layer(result)
    return 0
