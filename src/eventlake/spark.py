"""The one place that builds a SparkSession (and says how spark-submit must be configured).

The same configuration is rendered three ways so they can never drift apart:
- `build_spark_session()` for sessions started from Python (CLI, tests);
- `spark_submit_options()` for `spark-submit` (the Airflow DAG, docs);
- `spark_defaults_text()` for a `spark-defaults.conf` (plain `spark-submit`, `spark-sql`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from eventlake.config import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from eventlake.jvm_archive import JvmLaunch

log = logging.getLogger(__name__)

# Delta's jar must match the Spark line (4.0) and the delta-spark Python wheel (pyproject).
DELTA_PACKAGE = "io.delta:delta-spark_4.0_2.13:4.4.0"
# hadoop-aws must match the Hadoop client that the pyspark wheel ships (3.4.1).
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.4.1"
# Spark's OpenLineage listener (EVENTLAKE_SPARK_LINEAGE): lineage of every query a job runs.
OPENLINEAGE_SPARK_PACKAGE = "io.openlineage:openlineage-spark_2.13:1.53.0"
# The JDBC driver of a PostgreSQL metastore (EVENTLAKE_METASTORE_URL=jdbc:postgresql://…).
POSTGRES_JDBC_PACKAGE = "org.postgresql:postgresql:42.7.14"
# Secrets never written to spark-submit options or a spark-defaults.conf: the jobs read
# them from the environment into their own session's configuration.
SECRET_CONF_KEYS = (
    "spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key",
    "spark.hadoop.fs.s3a.aws.credentials.provider", "spark.hadoop.javax.jdo.option.ConnectionPassword",
)

# How many small Spark jobs one run submits at once, from threads: gold's tables (each a few
# aggregates and a Delta commit) and a quality gate's batches (each a Delta read and a
# collect). Most of a small job is the driver's latency (reading a Delta log, scheduling,
# committing), so a few at once keep both cores busy.
CONCURRENT_SMALL_JOBS = 4

# Which local jar files Ivy resolved for each package set, written by the first session that
# resolved it (`eventlake spark-defaults --install` does so at setup). Later JVM starts
# read the jars from here and never ask Ivy or the network again.
JAR_MANIFEST = "eventlake-resolved-jars.json"


def spark_packages(settings: Settings) -> list[str]:
    packages = [DELTA_PACKAGE]
    if settings.is_s3:
        packages.append(HADOOP_AWS_PACKAGE)
    if (settings.metastore_url or "").startswith("jdbc:postgresql:"):
        packages.append(POSTGRES_JDBC_PACKAGE)
    if settings.spark_lineage:
        packages.append(OPENLINEAGE_SPARK_PACKAGE)
    return packages


def _manifest(settings: Settings) -> Path:
    return Path(settings.ivy_dir) / JAR_MANIFEST


def _read_manifest(settings: Settings) -> dict[str, list[str]]:
    try:
        data = json.loads(_manifest(settings).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def resolved_jars(settings: Settings) -> list[str] | None:
    """The local jars of this lake's package set as resolved before, or None (resolve first).

    None too when a recorded jar has gone (a cleaned cache): the session then resolves again.
    """
    jars = _read_manifest(settings).get(",".join(spark_packages(settings)))
    if not jars or not all(Path(jar).is_file() for jar in jars):
        return None
    return list(dict.fromkeys(jars))  # once each, whatever an older manifest recorded


def remember_resolved_jars(settings: Settings, spark_jars: str) -> None:
    """Record what Spark resolved `spark.jars.packages` to (its `spark.jars`), atomically."""
    # Spark lists each resolved jar twice in `spark.jars` (file:// and file: spellings);
    # recorded twice, every later JVM added each jar twice, with a warning per jar.
    jars = list(dict.fromkeys(
        jar.removeprefix("file://").removeprefix("file:") for jar in spark_jars.split(",") if jar
    ))
    if not jars:
        return
    manifest = _read_manifest(settings) | {",".join(spark_packages(settings)): jars}
    target = _manifest(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    temporary.replace(target)


_RESOLVE = (
    "from eventlake.config import Settings\n"
    "from eventlake.spark import build_spark_session\n"
    "build_spark_session(Settings.from_env(), 'eventlake-resolve-jars').stop()\n"
)


def resolve_packages(settings: Settings) -> None:
    """Resolve this lake's package set through Ivy in a throwaway JVM (a JVM's class path is
    fixed when it starts, so one that needs a resolved jar on it cannot resolve it itself)."""
    import subprocess

    # The settings that choose the package set, whatever the environment says.
    env = {**os.environ, "EVENTLAKE_LAKE_URI": settings.lake_uri, "EVENTLAKE_IVY_DIR": settings.ivy_dir,
           "EVENTLAKE_METASTORE_URL": settings.metastore_url or "",
           "EVENTLAKE_SPARK_LINEAGE": "true" if settings.spark_lineage else "false"}
    if settings.is_s3:
        env.setdefault("EVENTLAKE_PSEUDONYM_SALT", "resolve-only")
    done = subprocess.run([sys.executable, "-c", _RESOLVE], env=env, capture_output=True, text=True)
    if done.returncode != 0 or resolved_jars(settings) is None:
        from eventlake.errors import UserError

        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"could not resolve Spark's packages ({', '.join(spark_packages(settings))}): {tail[0]}")


def dependency_conf(settings: Settings) -> dict[str, str]:
    """How a JVM started here finds Delta (and hadoop-aws): resolved local jars when there
    are any, else Maven coordinates for Ivy (the first start, or a fresh machine)."""
    jars = resolved_jars(settings)
    if jars:
        return {"spark.jars": ",".join(jars)}
    return {"spark.jars.packages": ",".join(spark_packages(settings))}


# Shuffle partitions when EVENTLAKE_SPARK_PARTITIONS is unset, sized for a small cluster; a
# local session uses two per core instead (size_shuffles_to_local_cores).
CLUSTER_SHUFFLE_PARTITIONS = 16
# Tasks that load a Delta snapshot when EVENTLAKE_SPARK_PARTITIONS is unset: 4 on a cluster,
# 1 in a local session (size_shuffles_to_local_cores).
SNAPSHOT_PARTITIONS = "spark.databricks.delta.snapshotPartitions"
CLUSTER_SNAPSHOT_PARTITIONS = 4
LOCAL_SNAPSHOT_PARTITIONS = 1


def spark_conf(settings: Settings, *, catalog: bool = False) -> dict[str, str]:
    """Every Spark setting eventlake relies on, except the master and the packages."""
    conf = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        # UTC whatever TZ the machines have (docs/deployment.md, "Time zone"): Spark SQL,
        # the driver and executor JVMs, and the executors' Python workers (silver's judge
        # runs there; PySpark converts naive datetimes with the process's local zone).
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executorEnv.TZ": "UTC",
        "spark.jars.ivy": settings.ivy_dir,
        # Small data dominates a batch lakehouse's runs; AQE coalesces what is left.
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.shuffle.partitions": str(settings.spark_partitions or CLUSTER_SHUFFLE_PARTITIONS),
        # Delta rebuilds a table's state from its log with this many tasks whenever it loads
        # a snapshot (every read, write, DELETE or MERGE of a table). Its default, 50, is
        # sized for tables of many thousand files; jobs on one machine over small tables
        # spent much of their CPU starting and deserialising those tasks. Every JVM gets it:
        # `eventlake`, spark-submit (Airflow's tasks), spark-defaults.conf.
        SNAPSHOT_PARTITIONS: str(settings.spark_partitions or CLUSTER_SNAPSHOT_PARTITIONS),
        # VACUUM lists a table's folders with this many tasks. Spark's default (10000, meant
        # for listing huge partitioned folders) made a VACUUM of a small table cost ~100 s on
        # 2 cores against ~20 s at 8 (measured under load 5); a lake table has far fewer
        # folders than 16 tasks can list.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": "16",
        # Delta: new tables get change data feed (incremental consumers read it) and
        # column mapping stays off so delta-rs / DuckDB / Polars can read every table.
        "spark.databricks.delta.properties.defaults.enableChangeDataFeed": "true",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # Parquet timestamps as microseconds adjusted to UTC, not Spark's default INT96:
        # other readers take INT96 for nanoseconds, so an instant outside 1678-2261 (valid,
        # contract §5) failed delta-rs (`eventlake show`) and read silently wrong in pyarrow
        # and pandas; DuckDB read it without its zone. Spark reads both kinds alike.
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.ui.showConsoleProgress": "false",
    }
    if catalog:
        # The persistent catalog (bronze.events, silver.events, gold.*): a Hive metastore.
        # Embedded Derby by default (one process at a time); a shared database (PostgreSQL)
        # with EVENTLAKE_METASTORE_URL (metastore_conf).
        root = settings.catalog_root
        conf.update(
            {
                "spark.sql.catalogImplementation": "hive",
                "spark.sql.warehouse.dir": f"{root}/warehouse",
                "spark.hadoop.javax.jdo.option.ConnectionURL": (
                    f"jdbc:derby:;databaseName={root}/metastore_db;create=true"
                ),
                "spark.driver.extraJavaOptions": (
                    f"-Duser.timezone=UTC -Dderby.system.home={root}"
                ),
            }
        )
        if settings.metastore_url:
            conf.update(metastore_conf(settings))
        else:
            # Embedded Derby admits one process, and another's lock does not go away in the
            # 20 s Hive's handler spends retrying (10 × 2 s, a stack trace each). The least
            # Hive takes is 1 (its store also reads it as its number of tries: 0 never opens
            # the database): a busy catalog is reported in ≈9 s instead of ≈28 s. A shared
            # metastore keeps the retries, which ride out a network blip.
            conf["spark.hadoop.hive.hmshandler.retry.attempts"] = "1"
    else:
        conf["spark.sql.catalogImplementation"] = "in-memory"
    if settings.is_s3:
        conf.update(s3a_conf(settings))
    if settings.spark_lineage:
        conf.update(spark_lineage_conf())
    return conf


def spark_lineage_conf(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Spark's OpenLineage listener, sending where eventlake's own lineage events go: the
    OpenLineage client's variables, translated to the listener's `spark.openlineage.*` keys
    (OPENLINEAGE_URL for HTTP; the file transport writes `<file>.spark<suffix>` beside the
    layer events' file, so two writers never share one). The job's parent, when a task
    passed one (OPENLINEAGE_PARENT_ID), is the Spark application's parent too."""
    from eventlake.lineage import run_reference

    env = os.environ if env is None else env
    conf = {
        "spark.extraListeners": "io.openlineage.spark.agent.OpenLineageSparkListener",
        "spark.openlineage.namespace": env.get("OPENLINEAGE_NAMESPACE", "eventlake"),
    }
    transport = env.get("OPENLINEAGE__TRANSPORT__TYPE", "").strip().lower()
    if transport == "file" and env.get("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH"):
        layer_events = Path(env["OPENLINEAGE__TRANSPORT__LOG_FILE_PATH"])
        conf["spark.openlineage.transport.type"] = "file"
        conf["spark.openlineage.transport.location"] = str(
            layer_events.with_name(f"{layer_events.stem}.spark{layer_events.suffix}"))
    elif transport == "http" or env.get("OPENLINEAGE_URL"):
        conf["spark.openlineage.transport.type"] = "http"
        conf["spark.openlineage.transport.url"] = env.get("OPENLINEAGE__TRANSPORT__URL") or env["OPENLINEAGE_URL"]
    else:
        conf["spark.openlineage.transport.type"] = "console"  # configured nowhere: the driver's log
    parent = run_reference(env.get("OPENLINEAGE_PARENT_ID", ""))
    if parent is not None:
        conf.update({
            "spark.openlineage.parentJobNamespace": parent[0],
            "spark.openlineage.parentJobName": parent[1],
            "spark.openlineage.parentRunId": parent[2],
        })
    return conf


def metastore_conf(settings: Settings) -> dict[str, str]:
    """A Hive metastore in a shared database: every process (jobs, `eventlake sql`,
    `spark-sql`, several at once) sees the same catalog. Spark's built-in Hive client creates
    the metastore's tables in an empty database on first use (docs/bi.md, "The catalog")."""
    assert settings.metastore_url
    conf = {
        "spark.hadoop.javax.jdo.option.ConnectionURL": settings.metastore_url,
        # DataNucleus creates a metastore table when first used, inside the transaction that
        # needs it, and adds its foreign keys from a second connection: on PostgreSQL that
        # ALTER TABLE waits for the first transaction's lock on the table it references, which
        # waits for the ALTER TABLE: the first CREATE TABLE hangs. So tables and columns are
        # created on first use, foreign keys never (the metastore keeps its own references;
        # autoCreateAll would switch constraints back on).
        "spark.hadoop.datanucleus.schema.autoCreateAll": "false",
        "spark.hadoop.datanucleus.schema.autoCreateTables": "true",
        "spark.hadoop.datanucleus.schema.autoCreateColumns": "true",
        "spark.hadoop.datanucleus.schema.autoCreateConstraints": "false",
        "spark.hadoop.hive.metastore.schema.verification": "false",
    }
    if settings.metastore_url.startswith("jdbc:postgresql:"):
        conf["spark.hadoop.javax.jdo.option.ConnectionDriverName"] = "org.postgresql.Driver"
    if settings.metastore_user:
        conf["spark.hadoop.javax.jdo.option.ConnectionUserName"] = settings.metastore_user
    if settings.metastore_password:
        conf["spark.hadoop.javax.jdo.option.ConnectionPassword"] = settings.metastore_password
    conf.update(metastore_driver_class_path(settings))
    return conf


def metastore_driver_class_path(settings: Settings) -> dict[str, str]:
    """`spark.driver.extraClassPath` with the metastore's JDBC driver, once resolved.

    The metastore client finds its driver through java.sql.DriverManager, which does not
    look into the class loader of `spark.jars`: the driver goes on the class path. That path
    is fixed when the driver's JVM starts, so spark-submit must be given it (the job's own
    session is too late)."""
    driver_jars = [jar for jar in resolved_jars(settings) or [] if Path(jar).name.startswith("org.postgresql_")]
    return {"spark.driver.extraClassPath": os.pathsep.join(driver_jars)} if driver_jars else {}


def s3a_conf(settings: Settings) -> dict[str, str]:
    conf = {
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint.region": settings.aws_region,
        "spark.hadoop.fs.s3a.fast.upload": "true",
        # Delta on S3: one writer per table at a time (see docs/s3.md for multi-cluster).
        "spark.delta.logStore.s3a.impl": "io.delta.storage.S3SingleDriverLogStore",
    }
    if settings.s3_endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = settings.s3_endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        if settings.s3_endpoint.startswith("http://"):
            conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = "false"
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        # Keys from the environment only; without them the default AWS chain applies.
        conf["spark.hadoop.fs.s3a.aws.credentials.provider"] = (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        )
        conf["spark.hadoop.fs.s3a.access.key"] = settings.aws_access_key_id
        conf["spark.hadoop.fs.s3a.secret.key"] = settings.aws_secret_access_key
    return conf


def spark_submit_options(settings: Settings) -> dict[str, object]:
    """What `spark-submit` needs besides the application: packages and conf (no secrets).

    S3 keys are left out on purpose: spark-submit passes them on through the environment
    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), where the jobs' Settings read them.
    """
    conf = {k: v for k, v in spark_conf(settings).items() if k not in SECRET_CONF_KEYS}
    if settings.metastore_url:
        conf.update(metastore_driver_class_path(settings))
    dependencies = dependency_conf(settings)
    return {
        "packages": dependencies.get("spark.jars.packages", ""),
        "jars": dependencies.get("spark.jars", ""),
        "conf": conf,
    }


def spark_defaults_text(
    settings: Settings, *, catalog: bool = True, local_jars: bool = False
) -> str:
    """A spark-defaults.conf that makes plain `spark-submit` and `spark-sql` see the lake.

    `local_jars`: name the jars resolved on this machine instead of Maven coordinates (the
    venv's own file; a cluster's file keeps coordinates, its machines have their own cache).
    """
    conf = {k: v for k, v in spark_conf(settings, catalog=catalog).items() if k not in SECRET_CONF_KEYS}
    conf.update(
        dependency_conf(settings) if local_jars
        else {"spark.jars.packages": ",".join(spark_packages(settings))}
    )
    lines = ["# Written by `eventlake spark-defaults`; regenerate rather than edit."]
    lines += [f"{key} {value}" for key, value in sorted(conf.items())]
    return "\n".join(lines) + "\n"


def under_spark_submit() -> bool:
    """True in a driver that spark-submit (or pyspark's launcher) started: the JVM is up,
    its jars and log configuration were fixed on the command line, and the Python side only
    attaches to it (PySpark passes the gateway's port in this variable)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def build_spark_session(
    settings: Settings,
    app_name: str,
    *,
    catalog: bool = False,
    extra_conf: dict[str, str] | None = None,
    jvm: JvmLaunch | None = None,
    one_run: bool = False,
    new_bytes: int | None = None,
) -> SparkSession:
    """Build (or reuse) the session: Delta, UTC, the jars resolved at setup.

    Under spark-submit the JVM already exists and its jars come from the command line or
    spark-defaults.conf; here they are set for sessions started from plain Python. The first
    session on a machine resolves the Maven packages through Ivy and records the jar files,
    so every later start is offline and skips resolution. A local JVM started here maps the
    machine's class archive when there is one (`jvm`, default `jvm_archive.jvm_launch`), and
    compiles with C1 only for a command that runs once over little new data (`one_run`;
    `new_bytes`, that data's size when the caller has measured it).
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from eventlake.jvm_archive import JvmLaunch, jvm_launch, launch_environment

    if catalog and settings.metastore_url and resolved_jars(settings) is None:
        resolve_packages(settings)  # the metastore's JDBC driver must be on the class path
    # Arrow's timezone handling in pandas-on-Spark (used by pyspark.testing) wants this set.
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    Path(settings.ivy_dir).mkdir(parents=True, exist_ok=True)
    if catalog:
        Path(settings.catalog_root).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName(app_name)
    dependencies: dict[str, str] = {}
    if not under_spark_submit():
        builder = builder.master(settings.spark_master)
        dependencies = dependency_conf(settings)
        for key, value in dependencies.items():
            builder = builder.config(key, value)
        if settings.spark_master.startswith("local"):
            # Local mode runs everything in the driver JVM; Spark's 1g default ran out of
            # heap in silver at 1 M events (bench/pipeline_bench.py).
            builder = builder.config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "4g"))
        if settings.spark_master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
            # Local Python workers must run this interpreter (the one with eventlake in it);
            # PySpark takes the workers' interpreter from this variable.
            os.environ["PYSPARK_PYTHON"] = sys.executable
    conf = spark_conf(settings, catalog=catalog)
    # Quiet unless asked (`eventlake -v`): Spark's start-up and catalog warnings (a line per
    # jar, metastore notices) drown a run's own lines. Only for a JVM started here; under
    # spark-submit the launcher's log4j2 configuration stands.
    quiet = not under_spark_submit() and not logging.getLogger().isEnabledFor(logging.DEBUG)
    if quiet:
        config_file = Path(__file__).with_name("log4j2-quiet.properties")
        conf["spark.driver.extraJavaOptions"] += f" -Dlog4j2.configurationFile={config_file.as_uri()}"
    launch = JvmLaunch()
    # Only for a JVM started here: a session reused (getOrCreate) keeps the JVM it has, and
    # sizing the new data would list the landing zone for nothing.
    starts_jvm = SparkContext._active_spark_context is None
    if starts_jvm and not under_spark_submit() and settings.spark_master.startswith("local"):
        launch = jvm if jvm is not None else jvm_launch(settings, one_run=one_run, new_bytes=new_bytes)
        if launch.java_options:
            conf["spark.driver.extraJavaOptions"] += f" {launch.java_options}"
    conf.update(extra_conf or {})
    for key, value in conf.items():
        builder = builder.config(key, value)
    with launch_environment(launch):
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR" if quiet else "WARN")
    if "spark.jars.packages" in dependencies:
        remember_resolved_jars(settings, spark.sparkContext.getConf().get("spark.jars", ""))
    pin_utc(spark)
    scan_limits_on_every_core(spark)
    size_shuffles_to_local_cores(spark, settings)
    ship_package(spark)
    return spark


# What a Python worker may need of the package: its code and the data files it reads through
# importlib.resources (the taxonomy registry); suites and docs are only read on the driver.
_SHIPPED_SUFFIXES = (".py", ".yaml", ".properties", ".typed")


def package_archive(directory: Path | None = None) -> Path:
    """A zip of the running eventlake package, to put on executors' `sys.path`.

    Built from the files the driver imports, so executors run exactly the driver's code;
    named by its content's hash, so a rebuilt package never reuses a stale archive and an
    unchanged one is built once per machine.
    """
    import hashlib
    import tempfile
    import zipfile

    import eventlake

    package = Path(eventlake.__file__).resolve().parent
    files = sorted(
        (path, path.relative_to(package).as_posix())
        for path in _package_files(package)
    )
    digest = hashlib.sha256()
    for path, name in files:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    folder = directory or Path(tempfile.gettempdir()) / "eventlake-ship"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"eventlake-{eventlake.__version__}-{digest.hexdigest()[:12]}.zip"
    if not archive.is_file():
        partial = archive.with_suffix(f".{os.getpid()}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path, name in files:
                bundle.write(path, f"eventlake/{name}")
        os.replace(partial, archive)  # whole or absent, also with two drivers at once
    return archive


def _package_files(package: Path) -> list[Path]:
    found = []
    # followlinks: in a checkout, eventlake/expectations links to the top-level folder.
    for folder, dirs, names in os.walk(package, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [Path(folder) / n for n in names if n.endswith(_SHIPPED_SUFFIXES)]
    return found


def ship_package(spark: "SparkSession") -> None:
    """On a cluster, send eventlake to the executors with the job, as Spark ships any
    Python dependency (`--py-files`): silver's judge runs in their Python workers. A
    cluster's machines then need Python with eventlake's dependencies, not eventlake itself,
    and can never run another version of it than the driver. Local masters share the
    driver's interpreter and need nothing."""
    context = spark.sparkContext
    if (context.master or "local").startswith("local"):
        return
    archive = package_archive()
    if archive.name not in {Path(p).name for p in context._python_includes or ()}:
        context.addPyFile(str(archive))
        log.info("eventlake %s shipped to the executors as %s", archive.stem, archive.name)


def scan_limits_on_every_core(spark: "SparkSession") -> None:
    """Let a `limit` scan as many partitions in its first attempt as the session has cores.

    Spark's default starts with one partition and widens by 4× only when too few rows were
    found, so a limit that finds nothing scans every partition, one core at a time. That
    is what a quality check that passes does: Great Expectations fetches a sample of the
    unexpected values of every column expectation (`filter(...).limit(20)`), and on a
    batch without any it scans the whole batch. The silver gate's sample scans over
    `properties` took 11.7 s on one core at 1 M events, and take 5.7 s on two. A limit
    that does find rows early costs at most one extra task per otherwise idle core.
    """
    cores = spark.sparkContext.defaultParallelism
    spark.conf.set("spark.sql.limit.initialNumPartitions", str(max(1, cores)))


def size_shuffles_to_local_cores(spark: "SparkSession", settings: Settings) -> None:
    """A local session shuffles into two partitions per core, and loads a Delta snapshot
    with one task, unless EVENTLAKE_SPARK_PARTITIONS, or a `spark.sql.shuffle.partitions`
    given to spark-submit, says otherwise (or, for snapshots, a
    `spark.databricks.delta.snapshotPartitions` other than eventlake's own 4).

    The default of 16 is sized for a small cluster. On one machine every extra partition
    is one more task to schedule per shuffle, and a run makes hundreds of small shuffles
    (the 17 gold aggregates, their quality batches). On the 2-core machine, at 20,000 events,
    4 partitions against 16 made gold 18.1-18.5 s against 19.9-21.3 s and the whole
    pipeline 2-4 s shorter. At 1 M events both took the same time (131.0 s against 129.6 s),
    and the results matched DuckDB's. AQE still coalesces what is left
    (docs/benchmarks.md).

    A snapshot's state (its log replayed into the live file list) is a few thousand files
    on one machine, and for a gold table a handful; Delta loads it before every write, and
    an hourly run writes 17 gold tables, 4 at a time. In one task rather than 4, gold's
    commits of an hour on a 1 M-event lake took 30-35 thread-seconds against 37-38, and
    gold 15.9 s against 16.7 s (three alternated runs each; docs/benchmarks.md).
    """
    context = spark.sparkContext
    partitions = local_shuffle_partitions(
        settings, context.master or "", context.defaultParallelism,
        context.getConf().get("spark.sql.shuffle.partitions", None),
    )
    if partitions is not None:
        spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
        if context.getConf().get(SNAPSHOT_PARTITIONS, None) in (None, str(CLUSTER_SNAPSHOT_PARTITIONS)):
            spark.conf.set(SNAPSHOT_PARTITIONS, str(LOCAL_SNAPSHOT_PARTITIONS))


def local_shuffle_partitions(settings: Settings, master: str, cores: int, configured: str | None) -> int | None:
    """The shuffle partitions a session on `master` with `cores` should use instead of
    `configured` (its JVM's setting); None: leave the setting alone."""
    chosen_elsewhere = configured not in (None, str(CLUSTER_SHUFFLE_PARTITIONS))
    if settings.spark_partitions is not None or chosen_elsewhere or not master.startswith("local"):
        return None
    return max(2, 2 * cores)


def pin_utc(spark: "SparkSession") -> None:
    """Make sure the session computes in UTC even when its JVM was started without our conf.

    A JVM that already runs (plain `spark-submit` without spark-defaults.conf, a notebook)
    ignores `spark.driver.extraJavaOptions`; its default zone is the machine's. Java's
    default zone decides `java.sql.Timestamp` conversions, so it is set here before any
    job runs, with a warning. Python workers started from now on get `TZ=UTC` too
    (PySpark passes `SparkContext.environment` to every worker it starts).
    """
    jvm = spark.sparkContext._jvm
    assert jvm is not None  # set while the session's SparkContext runs
    zone = jvm.java.util.TimeZone.getDefault().getID()
    if zone != "UTC":
        log.warning("the driver JVM runs in time zone %s: pinned to UTC (set -Duser.timezone=UTC)", zone)
        jvm.java.util.TimeZone.setDefault(jvm.java.util.TimeZone.getTimeZone("UTC"))
    spark.sparkContext.environment["TZ"] = "UTC"


def unpersist_after_listeners(spark: "SparkSession", *frames: "DataFrame | None", timeout_s: float = 60.0) -> None:
    """Unpersist `frames`, once the session's extra listeners have seen every query so far.

    Spark's listeners run on a thread of their own, behind the queries. OpenLineage's finds
    the inputs of a query over a cached DataFrame by looking the cache up when it handles
    the query's events: a cache released before then leaves that query's lineage without
    inputs (seen in CI: a gold table whose every event named no input, on a busy machine).
    Without extra listeners nothing waits. A listener still busy after `timeout_s` costs a
    warning, not the run: the data is written either way.
    """
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]

    if spark.sparkContext.getConf().get("spark.extraListeners", ""):
        try:
            spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(int(timeout_s * 1000))
        except Py4JJavaError:  # a TimeoutException: the listeners are that far behind
            log.warning("Spark's listeners were still busy after %.0f s: the lineage of queries "
                        "over cached rows may lack their inputs", timeout_s)
    for frame in frames:
        if frame is not None:
            frame.unpersist()
