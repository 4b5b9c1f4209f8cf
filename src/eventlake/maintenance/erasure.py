"""GDPR right to erasure (source 004 §8.4): remove one user's events from every layer.

In this order, each step idempotent, so a rerun after a crash finishes the work:

1. the tombstone (`_state/erased_keys`, see `tombstone.py`): from now on every silver run
   drops the user's lines, including those in change-feed windows not read yet;
2. landing: each landing file holding the user's lines is rewritten without them (the same
   atomic put the collector lands with; a file left empty is deleted). Its URI stays in
   bronze's ingestion ledger, so the rewritten file is never ingested again;
3. silver.events loses the rows cleaned from the user's bronze lines (by file and event id:
   a kids profile's rows have no key) and every row with the user's pseudonymous `user_key`;
   bronze.events, silver.events_quarantine and bronze.kafka_quarantine keep raw lines: a
   line is the user's when its JSON `user_id` (the first or the last, should it name two)
   is the raw id, or when the quoted raw id appears in it (a malformed line that still
   carries it); landing loses exactly the same lines (`line_belongs_to`).
4. gold tables with a `user_key` column lose the user's rows at once, for every period —
   also those silver's retention removed, which no silver change reaches any more.
Gold's aggregates follow on their own: gold consumes silver's change data feed, so the next
gold run rebuilds exactly the periods these deletes touched. Aggregates of periods silver
no longer holds keep the user's share in their counts (no key, no row of theirs).

The raw id never reaches a log line, a Delta commit (deletes go through a MERGE whose source
row lives only in memory, so the commit records `s.raw_user_id`, not the value) or the audit
table; neither does the user's key: the audit and the tombstone keep only its SHA-256.
Rows leave the storage physically with the next VACUUM past the retention window; no table
collects file statistics on raw lines or keys, so `_delta_log` keeps none of them.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.hadoop_files import hadoop_fs
from eventlake.lake import LANDING_EVENTS, Lake, Table
from eventlake.landing import LandingSink, encode_lines
from eventlake.maintenance.tables import ERASURE_AUDIT, commit_metadata
from eventlake.maintenance.tombstone import add_tombstone, key_hash, names_user, without_erased_lines
from eventlake.state import delta_table_exists
from eventlake.privacy import pseudonymous_key

log = logging.getLogger(__name__)

ERASURE_COMMIT_TAG = "eventlake-erasure"
MAX_ID_LENGTH = 64  # contract §2
AUDIT_SCHEMA = (
    "request_id STRING, erased_at TIMESTAMP, key_hash STRING, rows_removed MAP<STRING, BIGINT>"
)
LANDING = "landing"  # the audit's name for the lines removed from landing files


@dataclass(frozen=True)
class ErasureResult:
    request_id: str
    key_hash: str  # sha256 of the user's key: neither the raw id nor the key is kept
    rows_removed: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        # Safe to print: no raw id and no key in here.
        return {"request_id": self.request_id, "key_hash": self.key_hash,
                "rows_removed": dict(self.rows_removed)}


def validate_user_id(raw_user_id: str | None) -> str:
    if raw_user_id is None or not raw_user_id.strip():
        raise UserError("no user id to erase (set EVENTLAKE_ERASE_USER_ID)")
    if len(raw_user_id) > MAX_ID_LENGTH:
        raise UserError(f"the user id to erase is longer than {MAX_ID_LENGTH} characters")
    return raw_user_id


def raw_line_matches(raw: Column, target_id: Column, target_key: Column | None = None) -> Column:
    """A raw bronze/quarantine line that belongs to the user `target_id`: its `user_id`, the
    first or the last where it names one twice (`tombstone.raw_user_ids`), is the id; or the
    id appears in it quoted, `"id"` or `'id'` (a malformed line that still carries it); or,
    given the user's `target_key`, the line holds it (a Segment alias of another user names
    the earlier id by its key, `previous_user_key`). `line_belongs_to` is the same rule for
    landing lines, in Python: a line leaves landing exactly when it leaves bronze."""
    matches = (
        names_user(raw, target_id)
        | (F.instr(raw, F.concat(F.lit('"'), target_id, F.lit('"'))) > 0)
        | (F.instr(raw, F.concat(F.lit("'"), target_id, F.lit("'"))) > 0)
    )
    return matches if target_key is None else matches | (F.instr(raw, target_key) > 0)


def line_belongs_to(line: bytes, raw_user_id: str, user_key: str | None = None) -> bool:
    """`raw_line_matches` for a landing line held in Python (bytes as landed)."""
    for quote in ('"', "'"):
        if (quote + raw_user_id + quote).encode("utf-8") in line:
            return True
    if user_key is not None and user_key.encode("ascii") in line:
        return True
    return raw_user_id in landing_user_ids(line)


def landing_user_ids(line: bytes) -> set[str]:
    """The first and the last `user_id` of a JSON object line, as `tombstone.raw_user_ids`
    reads them in Spark: a string as it is, a number or boolean as its JSON text."""
    try:
        pairs = json.loads(line, object_pairs_hook=lambda pairs: pairs)
    except ValueError:
        return set()
    if not isinstance(pairs, list) or not all(isinstance(pair, tuple) for pair in pairs):
        return set()  # no JSON object (an object's pairs come back as tuples)
    named = [value for key, value in pairs if key == "user_id" and value is not None]
    return {value if isinstance(value, str) else json.dumps(value) for value in named[:1] + named[-1:]}


def erase_from_landing(spark: SparkSession, settings: Settings, raw_user_id: str, user_key: str) -> int:
    """Rewrite every landing file that holds the user's lines without them; returns the lines
    removed. Each rewrite is one atomic put of the whole file at the same key (a reader sees
    the old file or the new one); a file left without lines is deleted."""
    from eventlake.bronze.ingest import list_landing_files
    from eventlake.landing import sink_for

    landed = list_landing_files(spark, settings)
    if not landed:
        return 0
    # Spark finds the files (one pass over landing, gzip decoded by extension)...
    holding = (
        spark.read.text([f.path for f in landed.values()])
        .where(raw_line_matches(F.col("value"), F.lit(raw_user_id), F.lit(user_key)))
        .select(F.col("_metadata.file_path").alias("uri")).distinct().collect()
    )
    sink = sink_for(settings)
    removed = 0
    for row in holding:
        uri = row["uri"]
        path = landed[uri].path if uri in landed else uri
        # ...the driver rewrites each one byte for byte, minus the user's lines.
        removed += _rewrite_landing_file(spark, sink, uri, path, lambda _, line: not line_belongs_to(line, raw_user_id, user_key))
    return removed


def _rewrite_landing_file(
    spark: SparkSession, sink: LandingSink, uri: str, path: str, keep: Callable[[int, bytes], bool]
) -> int:
    """Rewrite one landing file byte for byte with the lines `keep(line_number, line)` keeps
    (one atomic put at the same key; a file left without lines is deleted). Lines are split
    on "\n" and numbered from 1, as bronze numbers them (`read_landing_lines`). Returns the
    lines removed."""
    content = spark.read.format("binaryFile").load(path).select("content").first()
    assert content is not None  # one file: one row (a missing path fails the read instead)
    data = content[0]
    gz = path.endswith(".gz")
    body = gzip.decompress(data) if gz else bytes(data)
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    kept = [line for number, line in enumerate(lines, start=1) if keep(number, line)]
    key = unquote(uri[uri.rindex("/" + LANDING_EVENTS + "/") + 1 :])
    if not kept:
        fs, hadoop_path = hadoop_fs(spark, path)
        fs.delete(hadoop_path, False)
    elif gz:
        sink.put(key, encode_lines(kept))
    else:
        sink.put(key, b"".join(line + b"\n" for line in kept))
    return len(lines) - len(kept)


def erase_late_lines(spark: SparkSession, settings: Settings, files: Mapping[str, str]) -> int:
    """Rewrite landing files not ingested yet (`files`: URI -> path to read it by) without the
    lines of users erased before they landed: a collector's spool delivers what it
    acknowledged before an erasure, a producer resends. Lines are found as the tombstone
    finds them in silver (their first or last `user_id` hashes to an erased key), so bronze
    never holds them and landing keeps none. Returns the lines removed."""
    from eventlake.bronze.ingest import read_landing_lines
    from eventlake.landing import sink_for

    lake = Lake.from_settings(settings)
    if not files or not delta_table_exists(spark, lake.erased_keys.path):
        return 0
    lines = read_landing_lines(spark, list(files.values()))
    # The tombstone's own rule (the one silver applies): the lines it would drop.
    line = ["source_file", "line_number"]
    kept = without_erased_lines(spark, lake, lines, settings.pseudonym_salt).select(*line)
    dropped: dict[str, set[int]] = {}
    for row in lines.select(*line).join(kept, line, "left_anti").collect():
        dropped.setdefault(row["source_file"], set()).add(int(row["line_number"]))
    sink = sink_for(settings)
    removed = 0
    for uri, numbers in dropped.items():
        path = files.get(uri, uri)
        removed += _rewrite_landing_file(spark, sink, uri, path, lambda number, _: number not in numbers)
    if removed:
        log.info("erasure: %d line(s) of erased users left %d landing file(s) before ingestion",
                 removed, len(dropped))
    return removed


def per_user_gold_tables(spark: SparkSession, lake: Lake) -> list[Table]:
    """Gold tables with a `user_key` column (e.g. user_activity_daily)."""
    from delta.tables import DeltaTable

    from eventlake.maintenance.tables import list_children

    tables = [lake.gold(name) for name in list_children(spark, lake.path("gold"))]
    return [
        t for t in tables
        if DeltaTable.isDeltaTable(spark, t.path)
        and "user_key" in spark.read.format("delta").load(t.path).columns
    ]


def _delete_matching(
    spark: SparkSession, table: Table, source: DataFrame, condition: Column, tag: str
) -> None:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, table.path):
        return
    with commit_metadata(spark, tag):
        (
            DeltaTable.forPath(spark, table.path).alias("t")
            .merge(source.alias("s"), condition)
            .whenMatchedDelete()
            .execute()
        )


def rows_deleted_by(spark: SparkSession, table: Table, tag: str) -> int:
    """Rows deleted by every commit tagged `tag`: counts survive a crash and a rerun."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, table.path):
        return 0
    commits = (
        DeltaTable.forPath(spark, table.path).history()
        .where(F.col("userMetadata") == tag)
        .select(F.col("operationMetrics").getItem("numTargetRowsDeleted").alias("n"))
        .collect()
    )
    return sum(int(row.n or 0) for row in commits)


def erase_user(
    spark: SparkSession,
    settings: Settings,
    raw_user_id: str,
    *,
    request_id: str,
    erased_at: datetime,
) -> ErasureResult:
    """Delete the user's rows from bronze, quarantine and silver; record the audit row.

    Idempotent per request id: a rerun deletes nothing more and rewrites the same audit row.
    """
    raw_user_id = validate_user_id(raw_user_id)
    if not request_id:
        raise UserError("an erasure needs a request id for its audit record")
    lake = Lake.from_settings(settings)
    user_key = pseudonymous_key(raw_user_id, settings.pseudonym_salt)
    hashed = key_hash(user_key)
    tag = f"{ERASURE_COMMIT_TAG} request_id={request_id}"
    target = spark.createDataFrame([(raw_user_id, user_key)], "raw_user_id STRING, user_key STRING")

    # First the tombstone: from here on no run brings the user back, whatever fails next.
    add_tombstone(spark, lake, hashed, erased_at)
    landing_lines = erase_from_landing(spark, settings, raw_user_id, user_key)

    # Silver rows cleaned from the user's lines, before those lines leave bronze (a rerun
    # after a crash finds them there still): a kids profile's row has no user_key to be
    # found by, yet holds the user's session, truncated address and user agent. Only lines
    # whose user_id names the user: a line of someone else that quotes the id (a search
    # for it) leaves bronze below, but its event is that person's.
    from delta.tables import DeltaTable

    if DeltaTable.isDeltaTable(spark, lake.bronze_events.path):
        lines = spark.read.format("delta").load(lake.bronze_events.path).where(
            names_user(F.col("raw"), raw_user_id)
        )
        cleaned_from = lines.select(
            "source_file", F.from_json("raw", "event_id STRING").getField("event_id").alias("event_id")
        ).where(F.col("event_id").isNotNull()).distinct()
        from_lines = (F.col("t.source_file") == F.col("s.source_file")) & (F.col("t.event_id") == F.col("s.event_id"))
        _delete_matching(spark, lake.silver_events, cleaned_from, from_lines, tag)

    raw_condition = raw_line_matches(F.col("t.raw"), F.col("s.raw_user_id"), F.col("s.user_key"))
    _delete_matching(spark, lake.bronze_events, target, raw_condition, tag)
    _delete_matching(spark, lake.silver_quarantine, target, raw_condition, tag)
    # Kafka records that were no 002 record keep their raw value too (eventlake.kafka), and
    # their key, which producers set to the user id: an undecodable value has no other trace.
    _delete_matching(spark, lake.kafka_quarantine, target, raw_condition | (F.col("t.key") == F.col("s.raw_user_id")), tag)
    by_key = F.col("t.user_key") == F.col("s.user_key")
    # A row naming the user's key in its properties is theirs too: a Segment alias of
    # another user keeps the earlier id's key (`previous_user_key`).
    names_key = F.instr(F.col("t.properties"), F.col("s.user_key")) > 0
    _delete_matching(spark, lake.silver_events, target, by_key | names_key, tag)
    # Per-user gold rows go now, not only through silver's change feed: gold keeps periods
    # that silver's retention removed, and no silver change will ever reach those.
    per_user_gold = per_user_gold_tables(spark, lake)
    for table in per_user_gold:
        _delete_matching(spark, table, target, by_key, tag)
    kafka = [lake.kafka_quarantine] if DeltaTable.isDeltaTable(spark, lake.kafka_quarantine.path) else []
    rows = {
        table.name: rows_deleted_by(spark, table, tag)
        for table in (lake.bronze_events, lake.silver_quarantine, *kafka, lake.silver_events, *per_user_gold)
    }
    # Landing has no history to count from: add this attempt's lines to earlier attempts'.
    rows[LANDING] = landing_lines + _audited(spark, lake, request_id).get(LANDING, 0)
    result = ErasureResult(request_id, hashed, rows)
    write_audit(spark, lake, result, erased_at)
    return result


def _audited(spark: SparkSession, lake: Lake, request_id: str) -> dict[str, int]:
    """The rows_removed an earlier attempt of the same request recorded (empty if none)."""
    path = lake.path(ERASURE_AUDIT)
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return {}
    row = (
        spark.read.format("delta").load(path).where(F.col("request_id") == request_id)
        .select("rows_removed").first()
    )
    return dict(row[0]) if row and row[0] else {}


def write_audit(spark: SparkSession, lake: Lake, result: ErasureResult, erased_at: datetime) -> None:
    from delta.tables import DeltaTable

    path = lake.path(ERASURE_AUDIT)
    row = spark.createDataFrame(
        [(result.request_id, erased_at, result.key_hash, result.rows_removed)], AUDIT_SCHEMA
    )
    if not DeltaTable.isDeltaTable(spark, path):
        row.write.format("delta").mode("append").save(path)
        return
    (
        DeltaTable.forPath(spark, path).alias("a")
        .merge(row.alias("r"), "a.request_id = r.request_id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def describe(result: ErasureResult) -> str:
    return json.dumps(result.as_dict(), sort_keys=True)
