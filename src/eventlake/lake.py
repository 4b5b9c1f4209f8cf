"""Where things live in the lake (contract §3), as Spark/Hadoop paths under the lake root."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eventlake.config import Settings

if TYPE_CHECKING:  # delta-rs is imported when a table is opened, not with this module
    import pyarrow as pa
    from deltalake import DeltaTable

log = logging.getLogger(__name__)

LANDING_EVENTS = "landing/events"
# One small JSON object per incremental consumer (eventlake.state): its watermark.
CONSUMER_STATE = "_state/consumers"
SILVER_CONSUMER = "silver.events"  # silver reading bronze's changes


def gold_consumer(table: str) -> str:
    """The consumer name of a gold table reading silver's changes."""
    return f"gold.{table}"


@dataclass(frozen=True)
class Table:
    """A Delta table of the lake: its catalog name and its path."""

    name: str  # e.g. "silver.events"
    path: str  # absolute path or s3a:// URI

    @property
    def database(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Lake:
    root: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        return cls(settings.lake_root)

    def path(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    @property
    def landing_events(self) -> str:
        return self.path(LANDING_EVENTS)

    @property
    def bronze_events(self) -> Table:
        return Table("bronze.events", self.path("bronze/events"))

    @property
    def silver_events(self) -> Table:
        return Table("silver.events", self.path("silver/events"))

    @property
    def silver_quarantine(self) -> Table:
        return Table("silver.events_quarantine", self.path("silver/events_quarantine"))

    @property
    def kafka_quarantine(self) -> Table:
        """Kafka records that are no 002 record, with their coordinates (eventlake.kafka)."""
        return Table("bronze.kafka_quarantine", self.path("bronze/kafka_quarantine"))

    def gold(self, table: str) -> Table:
        return Table(f"gold.{table}", self.path(f"gold/{table}"))

    @property
    def watermarks(self) -> Table:
        """How far each incremental consumer has read its source table (by Delta version)."""
        return Table("ops.watermarks", self.path("_state/watermarks"))

    @property
    def ingested_files(self) -> Table:
        """Bronze's ingestion ledger: every landing file ever ingested, by URI (never erased)."""
        return Table("ops.ingested_files", self.path("_state/ingested_files"))

    @property
    def erased_keys(self) -> Table:
        """The erasure tombstone: sha256 of each erased user_key, applied by every later run."""
        return Table("ops.erased_keys", self.path("_state/erased_keys"))

    @property
    def run_log(self) -> Table:
        """One row per job run with its reconciled counts."""
        return Table("ops.job_runs", self.path("_state/job_runs"))

    @property
    def quality_results(self) -> Table:
        return Table("ops.quality_results", self.path("_quality/results"))

    @property
    def quality_docs(self) -> str:
        return self.path("_quality/docs")

    @property
    def quality_validations(self) -> str:
        """GX's validation results (JSON), every validation of the lake: the docs site's source."""
        return self.path("_quality/gx/validations")


def bucket_and_prefix(uri: str) -> tuple[str, str]:
    """(bucket, key prefix without a trailing "/") of an `s3a://` or `s3://` URI."""
    bucket, _, prefix = uri.split("://", 1)[1].partition("/")
    return bucket, prefix.rstrip("/")


def delta_location(settings: Settings, path: str) -> tuple[str, dict[str, str]]:
    """A lake path as delta-rs addresses it, with its storage options (S3 only)."""
    if not settings.is_s3:
        return path, {}
    options = {"AWS_REGION": settings.aws_region}
    if settings.s3_endpoint:
        options["AWS_ENDPOINT_URL"] = settings.s3_endpoint
        options["AWS_ALLOW_HTTP"] = str(settings.s3_endpoint.startswith("http://")).lower()
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        options["AWS_ACCESS_KEY_ID"] = settings.aws_access_key_id
        options["AWS_SECRET_ACCESS_KEY"] = settings.aws_secret_access_key
    return "s3://" + path.split("://", 1)[1], options


def delta_writer_location(settings: Settings, path: str) -> tuple[str, dict[str, str]]:
    """`delta_location` for a delta-rs writer. On S3 there is no lock service: the lake's
    lease is the one-writer guarantee (eventlake.lease), as it is for Spark's
    S3SingleDriverLogStore, so delta-rs may commit by a plain rename."""
    uri, options = delta_location(settings, path)
    if options:
        options["AWS_S3_ALLOW_UNSAFE_RENAME"] = "true"
    return uri, options


# Delta's default checkpoint interval (delta.checkpointInterval), which Spark's commits follow.
CHECKPOINT_INTERVAL = 10


def checkpoint_when_due(table: DeltaTable, interval: int = CHECKPOINT_INTERVAL) -> None:
    """After a delta-rs commit: checkpoint every `interval`-th version, as Spark does after
    its own commits. delta-rs does not, and every reader would replay the table's commits
    since the last checkpoint from JSON."""
    if table.version() % interval == 0:
        table.create_checkpoint()
        table.cleanup_metadata()


def append_by_delta_rs(
    settings: Settings, path: str, rows: pa.Table, configuration: dict[str, str] | None = None
) -> bool:
    """Append a few rows to a lake table in one delta-rs commit (creating the table with
    `configuration` if there is none), checkpointing when due; False, having written
    nothing, when delta-rs cannot (the caller then has Spark append them). A few rows are
    tens of milliseconds this way, where Spark's append is a job, a snapshot and a commit."""
    from deltalake import DeltaTable, write_deltalake

    uri, options = delta_writer_location(settings, path)
    try:
        write_deltalake(uri, rows, mode="append", configuration=configuration,
                        storage_options=options or None)
    except Exception as error:  # noqa: BLE001 - Spark's append is the writer of record
        log.info("%s: delta-rs could not append (%s: %s); Spark appends",
                 path, type(error).__name__, str(error)[:200])
        return False
    try:
        checkpoint_when_due(DeltaTable(uri, storage_options=options or None))
    except Exception as error:  # noqa: BLE001 - the rows are committed; a later tenth version checkpoints
        log.warning("%s: checkpoint failed (%s: %s)", path, type(error).__name__, str(error)[:200])
    return True


def open_delta(settings: Settings, path: str, version: int | None = None) -> DeltaTable | None:
    """A lake table read with delta-rs (no Spark), at its newest version or `version`, or
    None where no Delta table is."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri, options = delta_location(settings, path)
    try:
        return DeltaTable(uri, version=version, storage_options=options or None)
    except TableNotFoundError:
        return None
