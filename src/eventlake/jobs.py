"""What every spark-submit entry point under jobs/ shares: settings, session, clean errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from eventlake.config import Settings
from eventlake.errors import UserError


@contextmanager
def job_session(app_name: str, *, catalog: bool = False) -> Iterator[tuple[object, Settings]]:
    """Yield (spark, settings); a UserError becomes one line on stderr and its exit code."""
    from eventlake.spark import build_spark_session

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        spark = build_spark_session(settings, app_name, catalog=catalog)
        yield spark, settings
    except UserError as error:
        print(f"{app_name}: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
