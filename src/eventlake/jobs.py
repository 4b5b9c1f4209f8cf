"""What every spark-submit entry point under jobs/ shares: settings, session, clean errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from eventlake.config import Settings, report_unknown_variables
from eventlake.errors import UserError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@contextmanager
def job_session(app_name: str, *, catalog: bool = False) -> Iterator[tuple[SparkSession, Settings]]:
    """Yield (spark, settings) while holding the lake's writer lease (every job writes: its
    tables, quality results, the catalog); a UserError — including `LeaseHeld`, exit 75
    when another writer kept the lake past EVENTLAKE_LEASE_WAIT_SECONDS — becomes one line
    on stderr and its exit code."""
    from eventlake.lease import lake_lease
    from eventlake.spark import build_spark_session

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        report_unknown_variables()
        with lake_lease(settings, app_name):  # before the JVM: a waiting job holds no Spark
            spark = build_spark_session(settings, app_name, catalog=catalog)
            yield spark, settings
    except UserError as error:
        print(f"{app_name}: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
