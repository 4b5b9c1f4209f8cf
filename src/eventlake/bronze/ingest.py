"""Bronze: every landed line, byte for byte, exactly once (contract §3).

Exactly once through a ledger of its own, `_state/ingested_files` (one row per landing file
ever ingested, by URI, partitioned by the file's landing date; files are matched by their
place in the landing zone, so a moved lake keeps its ledger). Bronze's own `source_file`
column cannot serve: an erasure or retention that removes every row of a file would make
the file look new, and the next run would ingest the erased lines again.

Each batch of new files is one bronze commit whose `userMetadata` names the batch's files;
the ledger rows follow in a second commit. A run killed between the two is repaired by the
next run before it lists anything: bronze commits newer than the ledger's last recorded
bronze version that carry the ingest tag give back their file lists exactly, whatever
erasure or retention did to their rows since. A run killed inside the bronze append
committed nothing, so its files are simply still new. (One writer at a time per table.)
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.clock import as_utc, utc_now
from eventlake.config import Settings
from eventlake.hadoop_files import hadoop_fs
from eventlake.lake import Lake
from eventlake.landing import held_by_ledger, landing_date, ledger_newest_bronze_version, ledgered, list_landed
from eventlake.maintenance.erasure import erase_late_lines
from eventlake.runs import BronzeRun
from eventlake.schemas import BRONZE_TABLE_PROPERTIES
from eventlake.state import current_version, delta_table_exists, last_commit, record_run

log = logging.getLogger(__name__)

# Bronze commits that append landing files carry this tag and their file list in
# `userMetadata`; the ledger is recovered from them after a kill.
INGEST_COMMIT_TAG = "eventlake-bronze-ingest"
LEDGER_SCHEMA = (
    "file_uri STRING, landing_date STRING, size LONG, modified_at TIMESTAMP, "
    "bronze_version LONG, recorded_at TIMESTAMP"
)

# Files per Delta commit: bounds memory (each file is read whole) and the work a killed run
# has to redo, while keeping commits few.
DEFAULT_FILES_PER_BATCH = 500


@dataclass(frozen=True)
class LandingFile:
    """A landing file as listed: the Hadoop path to read it by, its size and modification time."""

    path: str
    size: int
    modified_at: datetime  # UTC


def list_landing_files(spark: SparkSession, settings: Settings) -> dict[str, LandingFile]:
    """Every landing file (.jsonl.gz or .jsonl) of the lake: its URI (as Spark reports
    `source_file`, percent-encoded: the ledger's key) mapped to how to read it, by URI.

    Temporary files of writers in progress (hidden names) are never listed. The files are
    those of `landing.list_landed`: a local landing zone is walked by Python, an S3 one
    listed with boto3 (as the collector's sink writes it), not through Hadoop's FileSystem
    over Py4J: that cost about ten round trips per file, 13 s for the 2,083 files of 30
    days of traffic, on every run, growing with the landing zone. The walk or the listing
    takes a fraction of a second.
    """
    base, listed = list_landed(settings)
    files = {}
    for landed in listed:
        uri, hadoop_path = _spelt(spark, base, landed.path)
        files[uri] = LandingFile(hadoop_path, landed.size, landed.modified_at)
    return dict(sorted(files.items()))


# Paths whose URI and Hadoop path are the path itself: java.net.URI quotes none of these
# characters. Any other path's spelling is asked of Hadoop, so it is always Spark's.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9/._=-]*")


def _spelt(spark: SparkSession, base: str, path: str) -> tuple[str, str]:
    """(URI as Spark reports it, Hadoop path to read by) of a file: `base` (`file:` or
    `s3a://bucket`) and its absolute `path`."""
    if _PLAIN_PATH.fullmatch(path) and "//" not in path:
        return base + path, base + path
    fs, hadoop_path = hadoop_fs(spark, base + path)
    hadoop_path = fs.makeQualified(hadoop_path)
    return _as_spark_reports(hadoop_path.toUri().toString()), hadoop_path.toString()


def _as_spark_reports(uri: str) -> str:
    # Hadoop renders local URIs as file:///x or file:/x depending on how the root was
    # given; Spark's _metadata.file_path always says file:/x.
    return "file:/" + uri[len("file:///"):] if uri.startswith("file:///") else uri


# --- the ingestion ledger --------------------------------------------------------------


def ingested_files(spark: SparkSession, settings: Settings, lake: Lake, candidates: list[str]) -> set[str]:
    """Which of `candidates` (landing URIs) the ledger holds (`landing.held_by_ledger`): a
    lookup that reads only the ledger partitions of the candidates' landing dates, never
    bronze. delta-rs reads them (`landing.ledgered`, as the idle check does), without a
    Spark job; Spark reads them when delta-rs cannot."""
    if not candidates:
        return set()
    ledger = lake.ingested_files.path
    try:
        return ledgered(settings, ledger, candidates)
    except Exception as error:  # noqa: BLE001 - Spark's read is the answer of record
        log.info("bronze: delta-rs could not read the ledger (%s: %s); Spark reads it",
                 type(error).__name__, str(error)[:200])
    if not delta_table_exists(spark, ledger):
        return set()
    dates = sorted({landing_date(uri) for uri in candidates})
    # The ledger's rows of those dates: about as many as the files listed, which the
    # driver holds already. Matched in Python by their place in the landing zone.
    rows = (
        spark.read.format("delta").load(ledger)
        .where(F.col("landing_date").isin(dates))
        .select("file_uri").collect()
    )
    return held_by_ledger(candidates, (row[0] for row in rows))


def _ingest_metadata(batch_id: str, files: list[str]) -> str:
    return f"{INGEST_COMMIT_TAG} " + json.dumps({"batch": batch_id, "files": files})


def _files_of_commit(user_metadata: str | None) -> list[str] | None:
    if not user_metadata or not user_metadata.startswith(INGEST_COMMIT_TAG + " "):
        return None
    return list(json.loads(user_metadata[len(INGEST_COMMIT_TAG) + 1 :])["files"])


def record_ingested(
    spark: SparkSession,
    lake: Lake,
    files: dict[str, LandingFile | None],
    bronze_version: int,
    recorded_at: datetime,
) -> None:
    """Append files to the ledger as ingested by `bronze_version` (idempotent: a MERGE on
    the URI, so recording a file twice keeps one row)."""
    from delta.tables import DeltaTable

    if not files:
        return
    rows = spark.createDataFrame(
        [
            (uri, landing_date(uri), f.size if f else None, f.modified_at if f else None,
             bronze_version, recorded_at)
            for uri, f in sorted(files.items())
        ],
        LEDGER_SCHEMA,
    )
    path = lake.ingested_files.path
    if not delta_table_exists(spark, path):
        rows.write.format("delta").mode("append").partitionBy("landing_date").save(path)
        return
    (
        DeltaTable.forPath(spark, path).alias("l")
        .merge(rows.alias("n"), "l.landing_date = n.landing_date AND l.file_uri = n.file_uri")
        .whenNotMatchedInsertAll()
        .execute()
    )


def recover_ledger(spark: SparkSession, settings: Settings, lake: Lake, recorded_at: datetime) -> int:
    """Bring the ledger up to bronze after a run killed between its two commits; returns
    the files recorded. Reads only bronze's commit log newer than the ledger."""
    from delta.tables import DeltaTable

    bronze = lake.bronze_events.path
    newest = current_version(spark, bronze)
    if newest is None:
        return 0
    ledger = lake.ingested_files.path
    recovered: dict[str, LandingFile | None] = {}
    if delta_table_exists(spark, ledger):
        seen = _ledger_newest_bronze_version(spark, settings, ledger)
        newer = newest - (-1 if seen is None else int(seen))
        history = DeltaTable.forPath(spark, bronze).history(newer) if newer > 0 else None
    else:
        # A lake from before the ledger: bronze's files seed it, once. (Files whose rows were
        # all erased before the upgrade cannot be known; their landing copies were not
        # erased either, so erase those users again after upgrading.)
        recovered.update(
            (row[0], None)
            for row in spark.read.format("delta").load(bronze).select("source_file").distinct().collect()
        )
        history = DeltaTable.forPath(spark, bronze).history()
    if history is not None:
        for row in history.select("userMetadata").collect():
            recovered.update((uri, None) for uri in _files_of_commit(row[0]) or ())
    if recovered:
        log.warning("bronze: ledger recovered %d file(s) up to bronze v%d", len(recovered), newest)
        record_ingested(spark, lake, recovered, newest, recorded_at)
    return len(recovered)


def _ledger_newest_bronze_version(spark: SparkSession, settings: Settings, ledger: str) -> int | None:
    """The newest bronze version the ledger records: from its log's statistics with
    delta-rs (milliseconds), or Spark's aggregate over its rows when those cannot say."""
    try:
        return ledger_newest_bronze_version(settings, ledger)
    except Exception as error:  # noqa: BLE001 - Spark's read is the answer of record
        log.info("bronze: delta-rs could not read the ledger's statistics (%s: %s); Spark reads its rows",
                 type(error).__name__, str(error)[:200])
    row = spark.read.format("delta").load(ledger).agg(F.max("bronze_version")).first()
    assert row is not None  # an aggregate without grouping is one row
    return None if row[0] is None else int(row[0])


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

    recover_ledger(spark, settings, lake, utc_now())
    landed = list_landing_files(spark, settings)
    already = ingested_files(spark, settings, lake, list(landed))
    new_files = [uri for uri in landed if uri not in already]
    if erase_late_lines(spark, settings, {uri: landed[uri].path for uri in new_files}):
        # Rewritten files changed size, and a file of an erased user's lines only is gone.
        landed = list_landing_files(spark, settings)
        new_files = [uri for uri in new_files if uri in landed]
    log.info("bronze: %d landing files, %d new", len(landed), len(new_files))

    lines_ingested = 0
    for start in range(0, len(new_files), files_per_batch):
        batch = new_files[start : start + files_per_batch]
        rows = to_bronze_rows(
            read_landing_lines(spark, [landed[uri].path for uri in batch]), ingested_at
        )
        writer = (
            rows.write.format("delta").mode("append").partitionBy("ingest_date")
            # The batch's file list rides in the commit itself: the ledger's recovery source.
            .option("userMetadata", _ingest_metadata(uuid.uuid4().hex, batch))
        )
        if not delta_table_exists(spark, bronze):
            writer = writer.option("delta.enableChangeDataFeed", "true")
            for key, value in BRONZE_TABLE_PROPERTIES.items():
                writer = writer.option(key, value)
        writer.save(bronze)
        version, written = _last_commit(spark, bronze)
        lines_ingested += written
        # Second commit; a kill before it is repaired by recover_ledger on the next run.
        record_ingested(spark, lake, {uri: landed[uri] for uri in batch}, version, utc_now())
    run = BronzeRun(
        run_id=run_id,
        files_found=len(landed),
        files_ingested=len(new_files),
        lines_ingested=lines_ingested,
        bronze_version=current_version(spark, bronze),
        new_files=tuple(new_files),
    )
    record_run(spark, settings, "bronze", run_id, run.as_dict())
    return run


def _last_commit(spark: SparkSession, path: str) -> tuple[int, int]:
    """(version, rows written) of the table's newest commit (ours: one writer per table)."""
    version, commit_info = last_commit(spark, path)
    return version, int((commit_info.get("operationMetrics") or {}).get("numOutputRows", 0))

