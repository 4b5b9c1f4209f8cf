"""The Spark catalog: `bronze.events`, `silver.events`, `gold.<table>` … over the lake's paths.

Tables are external Delta tables registered by location, so registering is cheap and
idempotent, and the data stays where the contract puts it. `eventlake sql` runs a query
against them.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.lake import Lake, Table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def lake_tables(settings: Settings) -> list[Table]:
    lake = Lake.from_settings(settings)
    tables = [lake.bronze_events, lake.silver_events, lake.silver_quarantine]
    try:
        from eventlake.gold.tables import GOLD_TABLES
    except ImportError:  # gold not installed in this build
        GOLD_TABLES = {}
    tables += [lake.gold(name) for name in GOLD_TABLES]
    tables += [lake.quality_results, lake.run_log, lake.watermarks]
    return tables


def register_table(spark: SparkSession, table: Table, databases_made: set[str] | None = None) -> bool:
    """Register one existing Delta table (external, by location); False when there is none.

    A table already registered at its path costs one catalog lookup: neither its Delta log
    nor the storage is read (every pipeline run re-registers the lake's ~25 tables).
    `databases_made`: databases known to exist (this adds to it), not created again.
    """
    from eventlake.state import delta_table_exists

    registered = _registered_location(spark, table)
    if registered is not None and _same_path(registered, table.path):
        return True
    if not delta_table_exists(spark, table.path):
        return False
    if databases_made is None or table.database not in databases_made:
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {table.database}")  # a metastore transaction
        if databases_made is not None:
            databases_made.add(table.database)
    if registered is not None:
        spark.sql(f"DROP TABLE {table.name}")  # external: only the catalog entry goes
    spark.sql(f"CREATE TABLE {table.name} USING DELTA LOCATION '{table.path}'")
    return True


def _registered_location(spark: SparkSession, table: Table) -> str | None:
    """Where the catalog says `table` lives (None when it is not registered), read from the
    session catalog's metadata: no Delta snapshot is loaded, unlike DESCRIBE DETAIL."""
    jvm = spark._jvm
    assert jvm is not None  # set while the session's SparkContext runs
    name = table.name.split(".", 1)[1]
    identifier = jvm.org.apache.spark.sql.catalyst.TableIdentifier(
        name, jvm.scala.Option.apply(table.database)
    )
    # The session catalog itself, not spark.catalog.tableExists: Delta's catalog answers
    # that by loading the table, and fails when its folder is gone (a lake moved or rebuilt).
    catalog = spark._jsparkSession.sessionState().catalog()
    if not catalog.tableExists(identifier):
        return None
    return str(catalog.getTableMetadata(identifier).location().toString())


def _same_path(location: str, path: str) -> bool:
    def plain(value: str) -> str:
        for prefix in ("file://", "file:"):
            value = value.removeprefix(prefix)
        return value.rstrip("/")

    return plain(location) == plain(path)


_WHY_UNAVAILABLE = (
    "the embedded Derby catalog admits one process at a time (is `eventlake sql`, `spark-sql` "
    "or another run open?), or the metastore database (EVENTLAKE_METASTORE_URL) is unreachable"
)


def _is_unavailable(error: Exception) -> bool:
    return "HiveMetaStoreClient" in str(error)


@contextmanager
def needs_catalog(what: str) -> Iterator[None]:
    """Around Delta DDL on a path (`writeTo(delta.`/path`)`, `ALTER TABLE delta.`/path``):
    Spark resolves those through the session catalog too, so with the catalog busy they
    fail. That is CatalogUnavailable (exit 75, try again), saying what was not done, rather
    than Hive's stack trace."""
    try:
        yield
    except Exception as error:  # Spark's AnalysisException, or py4j's error around Hive's
        if not _is_unavailable(error):
            raise
        raise CatalogUnavailable(
            f"{what} goes through Spark's catalog, which cannot be opened: {_WHY_UNAVAILABLE}; "
            "nothing of it was committed, run again when the catalog is free"
        ) from None


def open_catalog(spark: SparkSession, what: str) -> None:
    """Open the session catalog now (nothing when it is Spark's in-memory one), before work
    that will need it: CatalogUnavailable, naming `what`, when it cannot be opened."""
    with needs_catalog(what):
        spark.catalog.databaseExists("default")


class CatalogUnavailable(UserError):
    """The metastore cannot be opened: the embedded Derby is open in another process, or the
    shared database is unreachable. Exit 75 (EX_TEMPFAIL): trying again later can work."""

    exit_code = 75


def register_tables(spark: SparkSession, settings: Settings, *, database: str | None = None,
                    after_writing: bool = False) -> list[str]:
    """Register every existing Delta table of the lake (or of one `database`: a layer just
    written); returns the names registered. Raises CatalogUnavailable, unless
    `after_writing` (see register_many)."""
    chosen = [t for t in lake_tables(settings) if database is None or t.database == database]
    return register_many(spark, chosen, after_writing=after_writing)


def register_many(spark: SparkSession, tables: list[Table], *, after_writing: bool = False) -> list[str]:
    """Register `tables`. `after_writing`: a job has just committed them, whatever happens
    here, so a busy catalog is a warning and the next run (or `eventlake catalog`) registers
    them; otherwise it raises CatalogUnavailable."""
    from pyspark.errors import AnalysisException

    try:
        databases_made: set[str] = set()
        return [table.name for table in tables if register_table(spark, table, databases_made)]
    except AnalysisException as error:
        if not _is_unavailable(error):
            raise
        busy = CatalogUnavailable(f"the catalog cannot be opened: {_WHY_UNAVAILABLE}; try again when it is free")
    if not after_writing:
        raise busy
    log.warning("catalog: tables not registered this time (the data is written): %s", busy)
    return []


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="a Spark SQL query, e.g. 'SELECT * FROM gold.daily_kpis'")
    parser.add_argument("--limit", type=int, default=50, help="rows to print (default 50)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from pyspark.errors import AnalysisException, ParseException

    from eventlake.spark import build_spark_session

    spark = build_spark_session(settings, "eventlake-sql", catalog=True)
    register_tables(spark, settings)
    try:
        spark.sql(args.query).show(args.limit, truncate=False)
    except (AnalysisException, ParseException) as error:
        first_line = str(error).strip().splitlines()[0]
        raise UserError(f"query failed: {first_line}") from None
    return 0
