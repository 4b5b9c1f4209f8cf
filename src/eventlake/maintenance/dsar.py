"""GDPR right of access and data portability (source 004 §8.4): one user's data as JSON.

The export finds the user's rows the way the erasure does (`erasure.py`), so it shows what
an erasure would delete, save one kind of line (`line_is_users`): a line whose JSON
`user_id` names another user is that user's, even when it quotes this id.

- `events`: every `silver.events` row whose `user_key` is sha256(raw id + salt);
- `quarantined_lines`: every `silver.events_quarantine` line of the user (JSON `user_id`
  equal to the raw id, or the quoted raw id in a line that names no other user);
- `raw_lines`: every `bronze.events` line of the user, by the same rule. Bronze is the only
  place that still holds the user's lines dropped for consent or as duplicates, their kids
  profile's events (which never carry a `user_key`) and the raw profile and device ids: a
  right-of-access answer covers what is stored, so bronze is in (docs/dsar.md);
- `kafka_records`: every `bronze.kafka_quarantine` record of the user (a Kafka record that
  was no 002 record; the quoted raw id in its value, docs/kafka.md), without `raw_bytes`,
  which `raw` repeats as text;
- `gold`: every row of every gold table with a `user_key` column, by table.

Landing is not read: bronze holds each landed line byte for byte once the pipeline has run.

One JSON document (UTF-8) holds the request's metadata and the four sections. Timestamps
are ISO-8601 UTC strings, dates ISO dates, silver's `properties` a JSON object again. An
audit row per export goes to `_audit/dsar_exports` (request id, time, sha256 of the key,
rows per section): never the raw id nor the key. The raw id reaches Spark only as a cell of
an in-memory one-row DataFrame joined to the tables, so no query plan, log line or Delta
commit carries it (the same care as the erasure's MERGE source).
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, StructField, TimestampNTZType, TimestampType

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.hadoop_files import write_file
from eventlake.lake import Lake, Table
from eventlake.landing import LocalSink
from eventlake.maintenance.erasure import MAX_ID_LENGTH, per_user_gold_tables, raw_line_matches
from eventlake.maintenance.tables import DSAR_AUDIT
from eventlake.maintenance.tombstone import key_hash, names_user, raw_user_ids
from eventlake.privacy import pseudonymous_key
from eventlake.state import delta_table_exists

DOCUMENT_FORMAT = "eventlake-dsar/1"
DEFAULT_USER_ID_VARIABLE = "EVENTLAKE_DSAR_USER_ID"
AUDIT_SCHEMA = (
    "request_id STRING, exported_at TIMESTAMP, key_hash STRING, rows_exported MAP<STRING, BIGINT>"
)
# The document's sections and the tables they come from (gold adds one count per table).
EVENTS = "events"
QUARANTINED_LINES = "quarantined_lines"
RAW_LINES = "raw_lines"
KAFKA_RECORDS = "kafka_records"
GOLD = "gold"
# ISO-8601 with microseconds; the session runs in UTC (contract §1), so the offset is "Z".
TIMESTAMP_PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
LOCAL_TIMESTAMP_PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"


@dataclass(frozen=True)
class DsarResult:
    request_id: str
    key_hash: str  # sha256 of the user's key: what the audit keeps
    rows_exported: dict[str, int]
    output: str

    def as_dict(self) -> dict[str, Any]:
        # Safe to print and log: neither the raw id nor the key is in here.
        return {"request_id": self.request_id, "key_hash": self.key_hash,
                "rows_exported": dict(self.rows_exported), "output": self.output}


def user_id_from_env(variable: str, env: Mapping[str, str] | None = None) -> str:
    """The raw id from the environment variable `variable`; a missing, empty or oversized one
    is a one-line UserError that names the variable, never the value."""
    env = os.environ if env is None else env
    if not variable:
        raise UserError("--user-id-env needs the name of an environment variable")
    value = env.get(variable)
    if value is None or not value.strip():
        raise UserError(f"no user id to export: the environment variable {variable} is not set or empty")
    if len(value) > MAX_ID_LENGTH:
        raise UserError(f"the user id in {variable} is longer than {MAX_ID_LENGTH} characters")
    return value


def new_request_id(generated_at: datetime) -> str:
    return f"dsar-{generated_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def iso_utc(instant: datetime) -> str:
    """A Python instant in the document's timestamp form (what TIMESTAMP_PATTERN renders)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- transforms: DataFrame -> DataFrame ------------------------------------------------


def _as_json_value(field: StructField) -> Column:
    """A column as the document shows it: instants and dates as ISO-8601 strings."""
    column = F.col(field.name)
    if isinstance(field.dataType, TimestampType):
        column = F.date_format(column, TIMESTAMP_PATTERN)
    elif isinstance(field.dataType, TimestampNTZType):
        column = F.date_format(column, LOCAL_TIMESTAMP_PATTERN)
    elif isinstance(field.dataType, DateType):
        column = F.date_format(column, "yyyy-MM-dd")
    return column.alias(field.name)


def rows_of_user_key(table: DataFrame, target: DataFrame) -> DataFrame:
    """The rows of a table with a `user_key` column (silver.events, per-user gold) that are
    the user's: `target` is the one-row (raw_user_id, user_key) frame. Every column, in the
    table's order, JSON-ready."""
    mine = table.join(F.broadcast(target.select("user_key")), "user_key", "left_semi")
    return mine.select(*[_as_json_value(field) for field in table.schema.fields])


def line_is_users(raw: Column, target_id: Column) -> Column:
    """The erasure's rule (`erasure.raw_line_matches`: JSON `user_id` is the id, or the quoted
    id is in the line), minus the lines whose JSON `user_id` names someone else: a line of
    another user that merely quotes this id (a search for it, say) is that person's data, and
    a copy must not disclose it (GDPR art. 15(4)). The erasure deletes those lines as well."""
    first, last = raw_user_ids(raw)
    names_nobody = first.isNull() & last.isNull()
    return raw_line_matches(raw, target_id) & (names_nobody | names_user(raw, target_id))


def lines_of_user(lines: DataFrame, target: DataFrame, *, or_key: bool = False) -> DataFrame:
    """The raw lines (bronze.events, silver.events_quarantine) that are the user's
    (`line_is_users`); with `or_key`, also those whose `key` is the id (Kafka records, as
    the erasure deletes them). Every column, in the table's order, JSON-ready."""
    wanted = F.broadcast(target.select(F.col("raw_user_id").alias("_dsar_raw_user_id")))
    condition = line_is_users(lines["raw"], F.col("_dsar_raw_user_id"))
    if or_key:
        condition = condition | (lines["key"] == F.col("_dsar_raw_user_id"))
    mine = lines.join(wanted, condition, "left_semi")
    return mine.select(*[_as_json_value(field) for field in lines.schema.fields])


# --- collecting a section ----------------------------------------------------------------


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such a double is written as its name, a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _collect(frame: DataFrame) -> list[dict[str, Any]]:
    return [{k: _finite(v) for k, v in row.asDict(recursive=True).items()} for row in frame.collect()]


def _sort_key(columns: tuple[str, ...]) -> Any:
    """Rows in the order of these columns' values (nulls first; numbers as numbers)."""
    def key(row: dict[str, Any]) -> tuple[tuple[bool, Any], ...]:
        values = (row.get(c) for c in columns)
        return tuple(
            (v is not None, json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
            if v is not None else (False, 0)
            for v in values
        )
    return key


def _parse_properties(row: dict[str, Any]) -> dict[str, Any]:
    text = row.get("properties")
    if isinstance(text, str):
        try:
            row["properties"] = json.loads(text)
        except ValueError:
            pass  # silver only writes JSON objects; anything else is shown as stored
    return row


def _read(spark: SparkSession, table: Table) -> DataFrame | None:
    if not delta_table_exists(spark, table.path):
        return None
    return spark.read.format("delta").load(table.path)


def _events(spark: SparkSession, lake: Lake, target: DataFrame) -> list[dict[str, Any]]:
    silver = _read(spark, lake.silver_events)
    if silver is None:
        return []
    rows = [_parse_properties(r) for r in _collect(rows_of_user_key(silver, target))]
    return sorted(rows, key=_sort_key(("event_timestamp", "event_id")))


def _lines(spark: SparkSession, table: Table, target: DataFrame) -> list[dict[str, Any]]:
    lines = _read(spark, table)
    if lines is None:
        return []
    rows = _collect(lines_of_user(lines, target))
    return sorted(rows, key=_sort_key(("ingested_at", "source_file", "line_number")))


def _kafka_records(spark: SparkSession, lake: Lake, target: DataFrame) -> list[dict[str, Any]]:
    records = _read(spark, lake.kafka_quarantine)
    if records is None:
        return []
    rows = _collect(lines_of_user(records.drop("raw_bytes"), target, or_key=True))
    return sorted(rows, key=_sort_key(("topic", "kafka_partition", "kafka_offset")))


def _gold(spark: SparkSession, lake: Lake, target: DataFrame) -> dict[str, list[dict[str, Any]]]:
    sections = {}
    for table in per_user_gold_tables(spark, lake):
        frame = spark.read.format("delta").load(table.path)
        rows = _collect(rows_of_user_key(frame, target))
        sections[table.name] = sorted(rows, key=_sort_key(tuple(frame.columns)))
    return sections


# --- the document --------------------------------------------------------------------------


def build_document(
    spark: SparkSession,
    settings: Settings,
    raw_user_id: str,
    *,
    request_id: str,
    generated_at: datetime,
) -> dict[str, Any]:
    """The export of one user's data as a JSON-ready dict (empty sections when none)."""
    lake = Lake.from_settings(settings)
    user_key = pseudonymous_key(raw_user_id, settings.pseudonym_salt)
    target = spark.createDataFrame([(raw_user_id, user_key)], "raw_user_id STRING, user_key STRING")
    events = _events(spark, lake, target)
    quarantined = _lines(spark, lake.silver_quarantine, target)
    raw_lines = _lines(spark, lake.bronze_events, target)
    kafka_records = _kafka_records(spark, lake, target)
    gold = _gold(spark, lake, target)
    counts = {EVENTS: len(events), QUARANTINED_LINES: len(quarantined), RAW_LINES: len(raw_lines),
              KAFKA_RECORDS: len(kafka_records)}
    counts |= {name: len(rows) for name, rows in gold.items()}
    return {
        "request": {
            "format": DOCUMENT_FORMAT,
            "request_id": request_id,
            "generated_at": iso_utc(generated_at),
            "user_key": user_key,
            "counts": counts,
        },
        EVENTS: events,
        QUARANTINED_LINES: quarantined,
        RAW_LINES: raw_lines,
        KAFKA_RECORDS: kafka_records,
        GOLD: gold,
    }


def encode_document(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def is_uri(output: str) -> bool:
    return "://" in output


def check_output(output: str) -> None:
    """A local output's folder must exist (checked before the lease and the JVM)."""
    if not output:
        raise UserError("--output needs a path")
    if not is_uri(output):
        folder = Path(output).resolve().parent
        if not folder.is_dir():
            raise UserError(f"--output: the folder {folder} does not exist")
        if Path(output).is_dir():
            raise UserError(f"--output: {output} is a folder; give a file path")


def write_document(spark: SparkSession, output: str, data: bytes) -> None:
    """Write the document whole or not at all. A local path: the landing sink's private (0600)
    temporary file in the same folder, fsync, rename. A URI (s3a://, file://): Hadoop's FileSystem with the
    lake's S3A settings (an S3 object appears whole when its upload completes)."""
    if is_uri(output):
        write_file(spark, output, data)
        return
    target = Path(output).resolve()
    LocalSink(target.parent).put(target.name, data)  # the landing zone's own atomic write


def write_audit(spark: SparkSession, lake: Lake, result: DsarResult, exported_at: datetime) -> None:
    """Append one row per export: every disclosure is on record, reruns included."""
    row = spark.createDataFrame(
        [(result.request_id, exported_at, result.key_hash, result.rows_exported)], AUDIT_SCHEMA
    )
    row.write.format("delta").mode("append").save(lake.path(DSAR_AUDIT))


def export_user(
    spark: SparkSession,
    settings: Settings,
    raw_user_id: str,
    *,
    output: str,
    request_id: str | None = None,
    generated_at: datetime,
) -> DsarResult:
    """Write the user's document to `output`, then its audit row. A crash between the two
    leaves a document without an audit row; the rerun writes both (the document again)."""
    if not raw_user_id or not raw_user_id.strip():
        raise UserError("no user id to export")
    if len(raw_user_id) > MAX_ID_LENGTH:
        raise UserError(f"the user id to export is longer than {MAX_ID_LENGTH} characters")
    check_output(output)
    request_id = request_id or new_request_id(generated_at)
    document = build_document(spark, settings, raw_user_id, request_id=request_id, generated_at=generated_at)
    write_document(spark, output, encode_document(document))
    result = DsarResult(
        request_id=request_id,
        key_hash=key_hash(document["request"]["user_key"]),
        rows_exported=dict(document["request"]["counts"]),
        output=output,
    )
    write_audit(spark, Lake.from_settings(settings), result, generated_at)
    return result
