"""Is there anything for a pipeline run to do? Answered without Spark: no JVM is started.

An hourly lake is idle most hours, and starting Spark only to learn that nothing landed
costs a minute and a half. The answer is read from what the jobs themselves keep:

- **bronze** has work when a landing file is missing from the ingestion ledger
  (`_state/ingested_files`, read with delta-rs, only the landing dates listed);
- **silver** has work when bronze has a Delta version its consumer has not read
  (`_state/consumers/silver.events.json` behind bronze's version) that adds rows: silver
  reads bronze's inserted lines, so an erasure's or retention's deletes and a compaction
  of bronze give it nothing to do;
- **gold** has work when silver has a version a gold table has not reflected that changes
  rows (an erasure's deletes do; retention's tagged deletes and compaction do not: gold
  keeps the periods silver no longer holds), when a gold table does not exist yet, or when
  its stored columns are not the definition's.

Which commits change what is read from each commit's `operation`, `operationMetrics` and
`userMetadata` in the Delta log (`DeltaTable.history`).

The check is conservative: whatever it cannot decide counts as work (a landing URI spelt
differently from Spark's, an unreadable table), so the worst it can do is start Spark for
nothing; it never skips work. A run that does start makes its own, exact decisions.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from eventlake.config import Settings
from eventlake.lake import (
    CONSUMER_STATE,
    SILVER_CONSUMER,
    Lake,
    gold_consumer,
    open_delta,
)
from eventlake.landing import ledgered, list_landed

if TYPE_CHECKING:
    from deltalake import DeltaTable

log = logging.getLogger(__name__)

# Characters a URI path keeps as they are (RFC 3986 pchar and "/"). Hadoop's Path.toUri
# (java.net.URI) escapes the other ASCII characters and keeps non-ASCII ones as they are;
# `_uri_path` does the same, so a landing URI computed here is spelt as Spark reports it.
_URI_SAFE = "/:@!$&'()*+,;=-._~"


def _uri_path(path: str) -> str:
    return "".join(c if ord(c) > 127 else quote(c, safe=_URI_SAFE) for c in path)


@dataclass(frozen=True)
class Pending:
    """What a pipeline run would have to do; `reasons` says why in words, one per layer."""

    new_landing_files: int = 0
    # Their bytes, the bytes of bronze's lines silver has not read and of silver's rows
    # gold has not reflected: together the new data a run that starts Spark will read
    # (`new_bytes`; jvm_archive sizes its JVM's compiler by it).
    new_landing_bytes: int = 0
    bronze_unread_bytes: int = 0
    silver_unread_bytes: int = 0
    silver_behind: bool = False
    gold_behind: tuple[str, ...] = ()
    reasons: tuple[str, ...] = field(default=())
    # The explicit recompute (first, last day) this was computed for, if any, and its silver
    # work: whether bronze holds lines ingested on those days.
    recompute: tuple[date, date] | None = None
    lines_to_recompute: bool = False
    # Bronze runs whose failed gate holds their lines back from silver (quality/held.py):
    # silver validates them again before it reads bronze, so they are silver's work.
    held_bronze_runs: tuple[str, ...] = ()

    @property
    def new_bytes(self) -> int:
        """The new data a run reads: landing files not ingested, bronze's lines silver has
        not read and silver's rows gold has not reflected (a run killed after bronze or
        silver, or a layer run alone, leaves the next layer a backlog with nothing new in
        landing)."""
        return self.new_landing_bytes + self.bronze_unread_bytes + self.silver_unread_bytes

    @property
    def idle(self) -> bool:
        return not (self.new_landing_files or self.silver_behind or self.gold_behind or self.held_bronze_runs)

    def describe(self) -> str:
        if self.idle:
            return "nothing new: every landing file is in bronze, silver and gold are up to date"
        return "; ".join(self.reasons)

    def layers(self) -> tuple[str, ...]:
        """The layers a run that starts Spark has to run, in order. A layer is skipped, and
        not validated again, when nothing it reads changed: bronze when every landing file
        is in the ledger; silver when, besides, bronze holds no line silver has not read, no
        bronze run is held by a failed gate (and, for an explicit recompute, no line ingested
        on its days, the lines silver re-cleans); gold when, besides, every table reflects
        silver. An explicit recompute always runs gold (it rebuilds the periods of its days
        whatever the watermarks say)."""
        recompute = self.recompute is not None
        bronze = self.new_landing_files > 0
        silver = bronze or self.silver_behind or bool(self.held_bronze_runs) or (recompute and self.lines_to_recompute)
        gold = silver or bool(self.gold_behind) or recompute
        return tuple(name for name, runs in (("bronze", bronze), ("silver", silver), ("gold", gold)) if runs)

    def skipped(self, layer: str) -> str:
        """Why a layer `layers` leaves out has nothing to do, in words."""
        return {
            "bronze": "every landing file is already in bronze",
            "silver": "silver has read every bronze line"
            + (", and bronze holds no line ingested on the days recomputed" if self.recompute else ""),
            "gold": "every gold table reflects silver",
        }[layer]


def pending_work(settings: Settings, recompute: tuple[date, date] | None = None) -> Pending:
    """What `eventlake pipeline` would do now, read from the ledger, the consumer objects
    and the Delta logs (see the module's docstring); with `recompute` (first, last day),
    also whether bronze holds lines ingested on those days."""
    lake = Lake.from_settings(settings)
    reasons: list[str] = []

    new_landing = _unledgered_landing(settings, lake)
    new_files = len(new_landing)
    if new_files:
        reasons.append(f"bronze: {new_files} landing file(s) not ingested yet")

    watermarks = _watermarks(settings, lake)
    bronze = open_delta(settings, lake.bronze_events.path)
    bronze_version = None if bronze is None else int(bronze.version())
    silver_read = watermarks.get(SILVER_CONSUMER)
    silver_behind = bronze is not None and (
        silver_read is None or _changed_since(bronze, silver_read, adds_rows)
    )
    bronze_unread = _unread_bytes(bronze, silver_read, adds_rows) if silver_behind else 0
    if silver_behind:
        reasons.append(f"silver: bronze is at version {bronze_version}, silver has read up to {silver_read}")

    from eventlake.quality.held import held_bronze_runs

    held = tuple(run.run_id for run in held_bronze_runs(settings))
    if held:
        reasons.append(f"silver: bronze run(s) {', '.join(held)} held by a failed quality gate, to validate again")

    gold_behind = _gold_behind(settings, lake, watermarks)
    silver_unread = _silver_unread_bytes(settings, lake, watermarks) if gold_behind else 0
    if gold_behind:
        reasons.append(f"gold: {len(gold_behind)} table(s) behind silver ({', '.join(gold_behind)})")
    lines_to_recompute = recompute is not None and bronze is not None and _holds_ingest_days(bronze, *recompute)
    return Pending(
        new_landing_files=new_files, new_landing_bytes=sum(new_landing.values()),
        bronze_unread_bytes=bronze_unread, silver_unread_bytes=silver_unread,
        silver_behind=silver_behind, gold_behind=tuple(gold_behind), reasons=tuple(reasons),
        recompute=recompute, lines_to_recompute=lines_to_recompute, held_bronze_runs=held,
    )


def _holds_ingest_days(bronze: DeltaTable, first: date, last: date) -> bool:
    """Whether a file of bronze lies in an `ingest_date` partition from `first` to `last`,
    read from the log's add actions (no data file is opened). Unsure counts as yes."""
    try:
        actions = bronze.get_add_actions(flatten=True)
        days = actions.column("partition.ingest_date").to_pylist()
    except Exception:  # an older log layout, an unreadable table: let silver decide
        log.debug("pending: bronze's ingest days could not be read", exc_info=True)
        return True
    return any(day is None or first.isoformat() <= str(day)[:10] <= last.isoformat() for day in days)


# --- landing and the ledger --------------------------------------------------------------


def landing_uris(settings: Settings) -> list[str]:
    """Every landing file's URI as Spark reports it (`file:/…` or `s3a://…`): the files of
    bronze's own listing (`landing.list_landed`), spelt without Hadoop."""
    return sorted(_landing_sizes(settings))


def _landing_sizes(settings: Settings) -> dict[str, int]:
    """Every landing file's URI (as `landing_uris` spells it) -> its bytes."""
    base, listed = list_landed(settings)
    return {base + _uri_path(landed.path): landed.size for landed in listed}


def new_landing_bytes(settings: Settings) -> int:
    """Bytes of the landing files bronze has not ingested yet: the new data of a run."""
    return sum(_unledgered_landing(settings, Lake.from_settings(settings)).values())


def new_data_bytes(settings: Settings) -> int:
    """`Pending.new_bytes` without the rest of `pending_work`: the landing files bronze has
    not ingested, the bronze lines silver has not read and the silver rows gold has not
    reflected, in bytes."""
    lake = Lake.from_settings(settings)
    watermarks = _watermarks(settings, lake)
    bronze = open_delta(settings, lake.bronze_events.path)
    return (new_landing_bytes(settings) + _unread_bytes(bronze, watermarks.get(SILVER_CONSUMER), adds_rows)
            + _silver_unread_bytes(settings, lake, watermarks))


# What `_unread_bytes` answers when the log cannot say: "much".
_UNSIZED = 1 << 62
# The bytes a commit wrote, by operation: appends and overwrites, MERGE, DELETE and UPDATE.
_BYTES_WRITTEN = ("numOutputBytes", "numTargetBytesAdded", "numAddedBytes")


def _unread_bytes(table: DeltaTable | None, read: int | None, counts: Callable[[dict[str, Any]], bool]) -> int:
    """Bytes of the data files a consumer that has read `table` up to version `read` reads
    next: those written by the commits after it that `counts` (every live file when it has
    read nothing). A commit that does not say, or a log cleaned past `read`, counts as
    `_UNSIZED`."""
    if table is None:
        return 0
    if read is None:
        return int(sum(table.get_add_actions(flatten=True).column("size_bytes").to_pylist()))
    newest = int(table.version())
    if read >= newest:
        return 0
    commits = [c for c in table.history(newest - read) if int(c.get("version", newest)) > read]
    if len(commits) < newest - read:
        return _UNSIZED
    total = 0
    for commit in filter(counts, commits):
        written = [size for name in _BYTES_WRITTEN if (size := _metric(commit, name)) is not None]
        if not written:
            return _UNSIZED
        total += written[0]
    return total


def _silver_unread_bytes(settings: Settings, lake: Lake, watermarks: dict[str, int]) -> int:
    """Bytes of silver's changes since the gold table furthest behind reflected it (all of
    silver when a table has reflected nothing)."""
    from eventlake.gold.tables import GOLD_TABLES

    reads = [watermarks.get(gold_consumer(name)) for name in GOLD_TABLES]
    oldest = None if None in reads else min(r for r in reads if r is not None)
    return _unread_bytes(open_delta(settings, lake.silver_events.path), oldest, changes_gold)


def _unledgered_landing(settings: Settings, lake: Lake) -> dict[str, int]:
    """The landing files the ledger does not hold: URI (spelt as Spark's) -> bytes."""
    sizes = _landing_sizes(settings)
    if not sizes:
        return {}
    held = ledgered(settings, lake.ingested_files.path, sorted(sizes))
    return {uri: size for uri, size in sizes.items() if uri not in held}


# --- versions and watermarks -------------------------------------------------------------


def _watermarks(settings: Settings, lake: Lake) -> dict[str, int]:
    """Every consumer's watermark: its object, or the legacy shared table for old lakes."""
    from eventlake.lease import store_for

    found: dict[str, int] = {}
    legacy = open_delta(settings, lake.watermarks.path)
    if legacy is not None:
        rows = legacy.to_pyarrow_table(columns=["consumer", "version"]).to_pylist()
        found |= {row["consumer"]: int(row["version"]) for row in rows}
    store = store_for(settings)
    for name in store.names(CONSUMER_STATE):
        if name.endswith(".json"):
            data = store.get(f"{CONSUMER_STATE}/{name}")
            if data:
                found[name.removesuffix(".json")] = int(json.loads(data)["version"])
    return found


def _gold_behind(settings: Settings, lake: Lake, watermarks: dict[str, int]) -> list[str]:
    """Gold tables a run would write: missing, of another shape, or behind silver."""
    from eventlake.gold.tables import GOLD_TABLES

    silver = open_delta(settings, lake.silver_events.path)
    if silver is None:
        return []  # no silver: gold has nothing to read (the gold job says the same)
    behind = []
    for name, table in GOLD_TABLES.items():
        stored = open_delta(settings, lake.gold(name).path)
        read = watermarks.get(gold_consumer(name))
        if (
            stored is None
            or [f.name for f in stored.schema().fields] != list(table.column_names)
            or read is None
            or _changed_since(silver, read, changes_gold)
        ):
            behind.append(name)
    return behind


# --- which commits a consumer must read ------------------------------------------------

# Operations that rewrite files without changing a row: no change-feed rows at all.
_NO_ROW_CHANGE = frozenset({"OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES"})


def _metric(commit: dict[str, Any], name: str) -> int | None:
    value = (commit.get("operationMetrics") or {}).get(name)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def adds_rows(commit: dict[str, Any]) -> bool:
    """Whether a commit can put an `insert` in the change feed (what silver reads of bronze).
    Unknown operations count (conservative)."""
    operation = commit.get("operation")
    if operation in _NO_ROW_CHANGE or operation == "DELETE":
        return False
    if operation == "WRITE" and _metric(commit, "numOutputRows") == 0:  # e.g. a table's creation
        return False
    if operation == "MERGE":
        inserted, updated = _metric(commit, "numTargetRowsInserted"), _metric(commit, "numTargetRowsUpdated")
        return inserted is None or updated is None or inserted + updated > 0
    return True


def changes_gold(commit: dict[str, Any]) -> bool:
    """Whether a silver commit is a change gold reflects: any row change but retention's."""
    from eventlake.maintenance.retention import RETENTION_COMMIT_TAG

    if commit.get("operation") in _NO_ROW_CHANGE:
        return False
    return not str(commit.get("userMetadata") or "").startswith(RETENTION_COMMIT_TAG)


def _changed_since(table: DeltaTable, after: int, counts: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether a commit after version `after` of `table` is one that `counts`. When the log
    no longer holds every such commit (cleaned up), the answer is yes."""
    newest = int(table.version())
    if after >= newest:
        return False
    commits = [c for c in table.history(newest - after) if int(c.get("version", newest)) > after]
    if len(commits) < newest - after:
        return True
    return any(counts(commit) for commit in commits)
