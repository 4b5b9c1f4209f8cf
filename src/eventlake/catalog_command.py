"""`eventlake catalog`: register the lake's Delta tables in the Spark catalog (bronze.events,
silver.events, silver.events_quarantine, gold.*), as every run does after writing.

For a catalog that lost its entries (a new metastore, a copied lake); jobs/catalog/
register_tables.py is this command under spark-submit.
"""

from __future__ import annotations

import argparse

from eventlake.config import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    """No options: every table the lake holds is registered."""


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.catalog import register_tables
    from eventlake.lease import lake_lease
    from eventlake.spark import build_spark_session

    with lake_lease(settings, "eventlake-register-tables"):  # catalog DDL is not safe concurrently
        spark = build_spark_session(settings, "eventlake-register-tables", catalog=True)
        print("registered:", ", ".join(register_tables(spark, settings)) or "nothing yet")
    return 0
