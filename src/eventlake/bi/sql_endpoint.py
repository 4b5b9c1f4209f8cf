"""`eventlake serve-sql`: the lake's gold tables over JDBC/ODBC, read-only, for BI tools.

Spark's Thrift JDBC/ODBC server (the HiveServer2 protocol; its jar ships in the pyspark
wheel) started inside this process's Spark session, so it sees Delta, UTC and the lake the
way every eventlake job does. What it adds to Spark's server (docs/bi.md):

- **Its own catalog.** Every `gold.<table>` is registered by location in an in-memory
  catalog, again every `--refresh-seconds` (a gold table written after the start shows up).
  Nothing here opens the lake's Derby metastore, which one process at a time may hold, so
  the pipeline, `eventlake sql` and `spark-sql` keep working beside the server.
- **Gold only.** Bronze and the quarantine hold raw identifiers, silver one row per event
  and pseudonymous user; BI reads aggregates (a readers' S3 key may read gold/ only:
  infra/policies/readers-gold.json).
- **Authentication**: one user and password from the environment (EVENTLAKE_SQL_USER,
  EVENTLAKE_SQL_PASSWORD), checked by HiveServer2's CUSTOM authentication.
- **Read-only**: a check rule rejects every statement that is not a query or a SHOW,
  DESCRIBE, EXPLAIN or USE (eventlake.sql.ReadOnlyGuard), and reading files by path is off.

Both are small Java classes (bi/java/), compiled once per machine with the JDK's javac
against the pyspark wheel's jars into a jar named by the sources' hash. The server runs its
queries in its own JVM (a local master): gold is small, and a cluster's executors would lack
the classes it puts on the driver's class path.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.lake import Lake, Table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

JAVA_SOURCES = Path(__file__).with_name("java")
GUARD_CLASS = "eventlake.sql.ReadOnlyGuard"
AUTHENTICATOR_CLASS = "eventlake.sql.EnvironmentPasswordAuthenticator"


def served_tables(settings: Settings) -> list[Table]:
    """What BI reads: every gold table (aggregates; no row per event or per person)."""
    from eventlake.gold.tables import GOLD_TABLES

    lake = Lake.from_settings(settings)
    return [lake.gold(name) for name in GOLD_TABLES]


def endpoint_jar(settings: Settings) -> Path:
    """The jar of the guard and the authenticator, compiled on first use (needs javac)."""
    import pyspark

    from eventlake.spark_defaults import spark_home

    sources = sorted(JAVA_SOURCES.rglob("*.java"))
    digest = hashlib.sha256(pyspark.__version__.encode())
    for source in sources:
        digest.update(source.relative_to(JAVA_SOURCES).as_posix().encode() + b"\0" + source.read_bytes())
    folder = Path(settings.ivy_dir).parent / "sql-endpoint"
    jar = folder / f"eventlake-sql-endpoint-{digest.hexdigest()[:12]}.jar"
    if jar.is_file():
        return jar
    javac = shutil.which("javac")
    if javac is None:
        raise UserError("serve-sql compiles two small classes once and needs a JDK's javac on PATH "
                        "(Debian: apt install openjdk-17-jdk-headless)")
    classpath = str(spark_home() / "jars" / "*")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as build:
        done = subprocess.run(
            [javac, "-nowarn", "--release", "17", "-cp", classpath, "-d", build, *map(str, sources)],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise UserError(f"could not compile the SQL endpoint's classes: {done.stderr.strip()[:500]}")
        partial = jar.with_suffix(f".{os.getpid()}.partial")
        with zipfile.ZipFile(partial, "w") as archive:
            for compiled in sorted(Path(build).rglob("*.class")):
                archive.write(compiled, compiled.relative_to(build).as_posix())
        os.replace(partial, jar)  # whole or absent, also with two servers starting at once
    return jar


def server_conf(settings: Settings, *, host: str, port: int, jar: Path) -> dict[str, str]:
    """What the session and its Thrift server run with, besides eventlake's own Spark conf."""
    from eventlake.spark import resolved_jars, spark_conf
    from eventlake.spark_defaults import resolve_dependencies

    if resolved_jars(settings) is None:
        resolve_dependencies(settings)  # a fresh machine: once, as `make setup` does
    jars = [*_not_shipped_with_spark(resolved_jars(settings) or []), str(jar)]
    conf = {
        "spark.sql.extensions": f"{spark_conf(settings)['spark.sql.extensions']},{GUARD_CLASS}",
        # `SELECT * FROM parquet.`/path`` (or delta.`/path`) would read any table or file
        # the server can, bronze included; the guard keeps users from turning it back on.
        "spark.sql.runSQLOnFiles": "false",
        # Each connection gets its own session (its USE and temporary state stay its own).
        "spark.sql.hive.thriftServer.singleSession": "false",
        "spark.ui.enabled": "false",
        # HiveServer2 reads these from the session's Hadoop configuration.
        "spark.hadoop.hive.server2.thrift.bind.host": host,
        "spark.hadoop.hive.server2.thrift.port": str(port),
        "spark.hadoop.hive.server2.transport.mode": "binary",
        "spark.hadoop.hive.server2.authentication": "CUSTOM",
        "spark.hadoop.hive.server2.enable.doAs": "false",
        # Per-statement log files under /tmp that nothing reads (and that it failed to delete).
        "spark.hadoop.hive.server2.logging.operation.enabled": "false",
    }
    # Delta and the endpoint's classes on the JVM's own class path, not in `spark.jars`:
    # HiveServer2 closes the class loader of `spark.jars` when a client's session ends (Hive's
    # SessionState.close), after which registering a Delta table failed with
    # DATA_SOURCE_NOT_FOUND. The server runs its queries in its own JVM (local master).
    conf["spark.driver.extraClassPath"] = os.pathsep.join(jars)
    conf["spark.jars"] = ""
    return conf


def _not_shipped_with_spark(jars: list[str]) -> list[str]:
    """The resolved jars whose artifact Spark's own jars folder lacks (Delta's, hadoop-aws).

    A class path entry comes before Spark's jars, so a second copy of what Spark ships
    (Jackson, Parquet, log4j in Delta's dependency tree) would replace Spark's own version;
    `spark.jars` never did, its class loader asks Spark's first.
    """
    from eventlake.spark_defaults import spark_home

    def artifact(file_name: str) -> str:
        return re.sub(r"-\d[\w.\-]*\.jar$", "", file_name)

    # Spark names its jars `artifact-version.jar` (spark-core_2.13-4.0.4.jar); Ivy's cache
    # names them `group_artifact-version.jar` (io.delta_delta-spark_4.0_2.13-4.4.0.jar).
    shipped = {artifact(p.name) for p in (spark_home() / "jars").glob("*.jar")}
    return [jar for jar in jars if artifact(Path(jar).name.split("_", 1)[-1]) not in shipped]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=10000, help="HiveServer2 port (default 10000)")
    parser.add_argument("--refresh-seconds", type=float, default=30.0,
                        help="how often new tables are looked for (default 30)")
    parser.add_argument("--compile-only", action="store_true",
                        help="compile the endpoint's two Java classes (needs javac) and exit: "
                        "for images that run without a JDK")


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.compile_only:
        print(f"eventlake serve-sql: {endpoint_jar(settings)}")
        return 0
    if not settings.sql_password:
        raise UserError("set EVENTLAKE_SQL_PASSWORD (and EVENTLAKE_SQL_USER, default 'bi'): "
                        "the SQL endpoint never serves without authentication")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a TCP port")
    if args.refresh_seconds <= 0:
        raise UserError("--refresh-seconds must be more than 0")
    # The authenticator reads the password from the JVM's environment, inherited from here.
    os.environ["EVENTLAKE_SQL_USER"] = settings.sql_user
    os.environ["EVENTLAKE_SQL_PASSWORD"] = settings.sql_password
    jar = endpoint_jar(settings)

    from eventlake.spark import build_spark_session

    if not settings.spark_master.startswith("local"):
        log.info("serve-sql runs its queries locally (local[*]), not on %s", settings.spark_master)
        settings = settings.with_overrides(spark_master="local[*]")
    spark = build_spark_session(
        settings, "eventlake-sql-endpoint",
        extra_conf=server_conf(settings, host=args.host, port=args.port, jar=jar),
    )
    jvm = spark._jvm
    assert jvm is not None
    # This session alone may write the catalog (registering tables); every connection's
    # session is another one and read-only.
    jvm.eventlake.sql.ReadOnlyGuard.trust(spark._jsparkSession)
    # HiveServer2 builds the CUSTOM authenticator from a fresh HiveConf, which reads Java's
    # system properties but not the session's configuration.
    jvm.java.lang.System.setProperty("hive.server2.custom.authentication.class", AUTHENTICATOR_CLASS)
    served = refresh_catalog(spark, settings)
    server = jvm.org.apache.spark.sql.hive.thriftserver.HiveThriftServer2.startWithContext(
        spark._jsparkSession.sqlContext()
    )
    print(f"eventlake serve-sql: jdbc:hive2://{args.host}:{args.port}/default "
          f"(user {settings.sql_user}), serving {', '.join(served) or 'no table yet'}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(args.refresh_seconds):
        try:
            refresh_catalog(spark, settings)
        except Exception as error:  # a refresh failing must not stop serving what is there
            log.warning("serve-sql: could not refresh the catalog: %s", _first_line(error))
    print("eventlake serve-sql: stopping", flush=True)
    server.stop()
    spark.stop()
    return 0


def refresh_catalog(spark: SparkSession, settings: Settings) -> list[str]:
    """Register every served table that exists (cheap when it is already registered)."""
    from eventlake.catalog import register_table

    return [table.name for table in served_tables(settings) if register_table(spark, table)]


def _first_line(error: Exception) -> str:
    """The cause in one line: a Py4J error's own first line only says which call failed."""
    java_exception = getattr(error, "java_exception", None)
    text = str(java_exception.toString()) if java_exception is not None else str(error)
    return (text.strip().splitlines() or [type(error).__name__])[0]
