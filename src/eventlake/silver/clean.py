"""Silver: bronze lines → cleaned, consented, pseudonymous, deduplicated events (contract §5).

The rules run in the contract's order:
1–4  `judge_lines`    per line, in Python, by the same code the collector uses
     (`eventlake.envelope`): quarantine reason or normalised fields.
5    `consented_events`  analytics consent off → dropped and counted, unless the event is
     essential (the decision is `eventlake.privacy.consent_keeps`, made in the judge).
6    `dedupe_events` within the run, then a MERGE into silver across all runs: at most one
     row per event_id, the earliest event_timestamp wins (also when it arrives later).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructField, StructType

from eventlake.schemas import BRONZE_EVENTS, EVENT_FIELDS, QUARANTINE_COLUMNS, SILVER_FIELDS, EventField

# What the judging step adds to each bronze row: the fields whose source is the judge.
JUDGED_FIELDS: tuple[EventField, ...] = tuple(f for f in EVENT_FIELDS if f.source == "judge")
JUDGED = StructType(
    list(BRONZE_EVENTS.fields) + [StructField(f.name, f.type, True) for f in JUDGED_FIELDS]
)

CLIENT_SKEW_SECONDS = 5 * 60


def judged_arrow_schema() -> pa.Schema:
    """The Arrow types of JUDGED_FIELDS, as the judge's batches carry them to Spark."""
    return pa.schema([pa.field(f.name, f.arrow_type) for f in JUDGED_FIELDS])


def _judge_batches(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body: runs in the Python workers, one Arrow batch at a time.

    Every value `judge_line` returns fits its Arrow type (valid Unicode, 32-bit schema
    version, timestamps Spark can hold), so building the batch cannot fail on content.
    """
    from eventlake.envelope import judge_line
    from eventlake.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    names = [f.name for f in JUDGED_FIELDS]
    arrow_schema = judged_arrow_schema()
    for batch in batches:
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for raw in batch.column("raw").to_pylist():
            row = judge_line(raw, taxonomy)
            for name in names:
                columns[name].append(row.get(name))
        judged = pa.RecordBatch.from_pydict(columns, schema=arrow_schema)
        yield pa.RecordBatch.from_arrays(
            batch.columns + judged.columns, names=batch.schema.names + judged.schema.names
        )


def judge_lines(bronze: DataFrame) -> DataFrame:
    """Rules 1–4 for each bronze line: a `reason` (null when valid) and normalised fields."""
    return bronze.select(*BRONZE_EVENTS.fieldNames()).mapInArrow(_judge_batches, JUDGED)


def quarantine_rows(judged: DataFrame) -> DataFrame:
    return judged.where(F.col("reason").isNotNull()).select(*QUARANTINE_COLUMNS)


def valid_events(judged: DataFrame) -> DataFrame:
    return judged.where(F.col("reason").isNull())


def consented_events(valid: DataFrame) -> DataFrame:
    """Rule 5: only events that consent keeps (analytics on, or essential) go on to silver."""
    return valid.where(F.col("consent_analytics"))


def pseudonymous_key(raw_id: Column, salt: str, is_kids: Column) -> Column:
    """sha256(id || salt) as lower hex; null for a null id and always for a kids profile."""
    key = F.sha2(F.concat(raw_id, F.lit(salt)), 256)
    return F.when(is_kids | raw_id.isNull(), F.lit(None).cast("string")).otherwise(key)


def derived_columns(salt: str) -> dict[str, Column]:
    """The silver fields computed from judged ones (source "derived" in EVENT_FIELDS)."""
    kids = F.coalesce(F.col("profile_kind") == "kids", F.lit(False))
    skew = F.abs(F.unix_micros("event_timestamp") - F.unix_micros("client_timestamp"))
    return {
        "event_domain": F.substring_index("event_name", ".", 1),
        "event_date": F.to_date("event_timestamp"),
        "event_hour": F.date_trunc("hour", "event_timestamp"),
        "client_ts_skewed": F.coalesce(skew > CLIENT_SKEW_SECONDS * 1_000_000, F.lit(False)),
        "user_key": pseudonymous_key(F.col("user_id"), salt, kids),
        "profile_key": pseudonymous_key(F.col("profile_id"), salt, kids),
        "device_key": pseudonymous_key(F.col("device_id"), salt, kids),
    }


def to_silver_events(consented: DataFrame, salt: str) -> DataFrame:
    """Derive keys, dates and flags: the one select of silver's columns, in silver's order
    (EVENT_FIELDS); judged and bronze fields pass through as they are."""
    derived = derived_columns(salt)
    return consented.select(
        *[(derived[f.name] if f.source == "derived" else F.col(f.name)).cast(f.type).alias(f.name)
          for f in SILVER_FIELDS]
    )


def dedupe_events(events: DataFrame) -> DataFrame:
    """One row per event_id: the earliest event_timestamp; ties go to the first landed line."""
    first = Window.partitionBy("event_id").orderBy(
        F.col("event_timestamp"), F.col("ingested_at"), F.col("source_file"), F.col("line_number")
    )
    return (
        events.withColumn("_rank", F.row_number().over(first))
        .where(F.col("_rank") == 1)
        .drop("_rank")
    )
