"""Bronze: every landed line, byte for byte, exactly once (contract §3).

Exactly-once without a separate checkpoint: bronze itself records which files it holds
(`source_file`), and each batch of new files is appended in one Delta commit. A run killed
half way has committed whole batches or nothing of a batch, so the rerun lists the landing
zone again, skips what bronze already holds and ingests the rest: no duplicate, no gap.
(One writer at a time per table — the pipeline and the Airflow DAG guarantee it.)
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.clock import as_utc, utc_now
from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.landing import LANDING_SUFFIXES
from eventlake.runs import BronzeRun
from eventlake.state import current_version, delta_table_exists, record_run

log = logging.getLogger(__name__)

# Files per Delta commit: bounds memory (each file is read whole) and the work a killed run
# has to redo, while keeping commits few.
DEFAULT_FILES_PER_BATCH = 500


def list_landing_files(spark: SparkSession, landing_root: str) -> dict[str, str]:
    """Every landing file (.jsonl.gz or .jsonl): its URI (as Spark reports `source_file`,
    percent-encoded) mapped to the Hadoop path to read it by, sorted by URI.

    Listed through Hadoop's FileSystem so that local folders and s3a:// look the same.
    Temporary files of writers in progress (hidden names) are never listed.
    """
    jvm = spark.sparkContext._jvm
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(landing_root)
    fs = root.getFileSystem(hadoop_conf)
    if not fs.exists(root):
        return {}
    files = {}
    iterator = fs.listFiles(root, True)
    while iterator.hasNext():
        status = iterator.next()
        path = status.getPath()
        name = path.getName()
        if name.startswith((".", "_")) or not name.endswith(LANDING_SUFFIXES):
            continue
        files[_as_spark_reports(path.toUri().toString())] = path.toString()
    return dict(sorted(files.items()))


def _as_spark_reports(uri: str) -> str:
    # Hadoop renders local URIs as file:///x or file:/x depending on how the root was
    # given; Spark's _metadata.file_path always says file:/x.
    return "file:/" + uri[len("file:///"):] if uri.startswith("file:///") else uri


def ingested_files(spark: SparkSession, bronze_path: str) -> set[str]:
    if not delta_table_exists(spark, bronze_path):
        return set()
    rows = spark.read.format("delta").load(bronze_path).select("source_file").distinct().collect()
    return {row[0] for row in rows}


def read_landing_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    """One row per line of each file: `raw` exactly as landed, its file and 1-based line number.

    Files are read whole (`wholetext`) so that line numbers are exact even for plain .jsonl
    files Spark would otherwise split; a trailing newline ends the last line, it does not
    start an empty one.
    """
    files_df = (
        spark.read.text(files, wholetext=True)
        .select(F.col("value").alias("content"), F.col("_metadata.file_path").alias("source_file"))
    )
    lines = F.split(F.col("content"), "\n", -1)
    trimmed = F.when(
        F.col("content").endswith("\n"), F.slice(lines, 1, F.size(lines) - 1)
    ).otherwise(lines)
    return files_df.select(
        "source_file", F.posexplode(trimmed).alias("position", "raw")
    ).select(
        "raw",
        "source_file",
        (F.col("position") + 1).cast("long").alias("line_number"),
    )


def to_bronze_rows(lines: DataFrame, ingested_at: datetime) -> DataFrame:
    """The lines with the run's `ingested_at` and its UTC `ingest_date` (a naive
    `ingested_at` is taken as UTC: PySpark would read it in the driver's local zone)."""
    at = F.lit(as_utc(ingested_at)).cast("timestamp")
    return lines.select(
        "raw",
        "source_file",
        "line_number",
        at.alias("ingested_at"),
        F.to_date(at).alias("ingest_date"),
    )


def ingest_bronze(
    spark: SparkSession,
    settings: Settings,
    *,
    run_id: str | None = None,
    files_per_batch: int = DEFAULT_FILES_PER_BATCH,
    ingested_at: datetime | None = None,
) -> BronzeRun:
    """Append every landing file bronze does not hold yet, in batches of whole files.

    `ingested_at` is the run's moment of ingestion: a fact about the run, taken once
    (or passed in, e.g. by tests) and shared by every row of the run.
    """
    lake = Lake.from_settings(settings)
    run_id = run_id or uuid.uuid4().hex
    ingested_at = ingested_at or utc_now()
    bronze = lake.bronze_events.path

    landed = list_landing_files(spark, lake.landing_events)
    already = ingested_files(spark, bronze)
    new_files = [uri for uri in landed if uri not in already]
    log.info("bronze: %d landing files, %d new", len(landed), len(new_files))

    lines_ingested = 0
    for start in range(0, len(new_files), files_per_batch):
        batch = new_files[start : start + files_per_batch]
        rows = to_bronze_rows(read_landing_lines(spark, [landed[uri] for uri in batch]), ingested_at)
        writer = rows.write.format("delta").mode("append").partitionBy("ingest_date")
        if not delta_table_exists(spark, bronze):
            writer = writer.option("delta.enableChangeDataFeed", "true")
        writer.save(bronze)
        lines_ingested += _rows_in_last_commit(spark, bronze)
    run = BronzeRun(
        run_id=run_id,
        files_found=len(landed),
        files_ingested=len(new_files),
        lines_ingested=lines_ingested,
        bronze_version=current_version(spark, bronze),
        new_files=tuple(new_files),
    )
    record_run(spark, lake, "bronze", run_id, run.as_dict())
    return run


def _rows_in_last_commit(spark: SparkSession, path: str) -> int:
    from delta.tables import DeltaTable

    metrics = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()[0]
    return int(metrics.get("numOutputRows", 0))

