"""An erased user stays erased: every layer, every later run, every file under the lake.

Generated traffic through the whole pipeline (quality gates included) on a tiny lake, in
process on the session's Spark. Then a user with rows in silver and in the per-user gold
table is erased while some of their lines are in flight (ingested into bronze, not yet
cleaned: the change-feed window that holds both the insert and the delete), the pipeline
runs twice more with new landing files, every table is vacuumed with zero retention — and
no byte under the lake may still hold the raw id or the user's key.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from eventlake.landing import LocalSink, encode_lines, landing_key
from eventlake.maintenance.compaction import vacuum_tables
from eventlake.maintenance.erasure import erase_user
from eventlake.maintenance.tables import lake_tables
from eventlake.pipeline import run_pipeline
from eventlake.privacy import pseudonymous_key
from eventlake.schemas import PERSONAL_COLUMNS
from frames import assert_same_rows

pytestmark = pytest.mark.e2e
SALT = "erasure-e2e-salt"


def lake_settings(root: Path) -> Settings:
    return Settings.from_env({
        "EVENTLAKE_LAKE_URI": str(root / "lakehouse"),
        "EVENTLAKE_PSEUDONYM_SALT": SALT,
        "EVENTLAKE_CATALOG_DIR": str(root / "catalog"),
    })


def landed_lines(lake_root: Path) -> list[dict]:
    """Every landed line that is a JSON object, read straight from the files."""
    out = []
    for path in sorted((lake_root / "landing").rglob("*.jsonl*")):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def pick_victim(spark, lake: Lake, lines: list[dict]) -> tuple[str, str]:
    """A raw user id with silver rows and a row in the per-user gold table."""
    keyed = {
        pseudonymous_key(line["user_id"], SALT): line["user_id"]
        for line in lines if isinstance(line.get("user_id"), str)
    }
    per_user = spark.read.format("delta").load(lake.gold("user_activity_daily").path)
    silver = spark.read.format("delta").load(lake.silver_events.path)
    ranked = (
        silver.join(per_user.select("user_key").distinct(), "user_key", "left_semi")
        .groupBy("user_key").count().orderBy(F.desc("count"), "user_key").collect()
    )
    user_key = next(row["user_key"] for row in ranked if row["user_key"] in keyed)
    return keyed[user_key], user_key


def string_cells(value) -> list[str]:
    """Every string inside a (possibly nested) pyarrow value, as Python strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [s for v in value.values() for s in string_cells(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in string_cells(v)]
    return []


def files_holding(root: Path, secrets: list[str]) -> list[str]:
    """Files under `root` in which any secret is readable: raw bytes, gunzipped bytes, and
    every string cell of a parquet file (data, checkpoints, change-data files)."""
    needles = [s.encode() for s in secrets]
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        views = [data]
        if data[:2] == b"\x1f\x8b":
            views.append(gzip.decompress(data))
        if any(n in view for n in needles for view in views):
            found.append(f"{path} (bytes)")
            continue
        if data[:4] == b"PAR1":
            table = pq.read_table(io.BytesIO(data))
            for column in table.columns:
                if not any(pa.types.is_string(t) or pa.types.is_nested(t) or pa.types.is_binary(t)
                           for t in [column.type]):
                    continue
                cells = [s for v in column.to_pylist() for s in string_cells(v)]
                if any(secret in cell for secret in secrets for cell in cells):
                    found.append(f"{path} (parquet column {column._name})")
                    break
    return found


def test_an_erased_user_stays_erased_in_every_file_of_the_lake(spark, tmp_path):
    settings = lake_settings(tmp_path)
    lake = Lake.from_settings(settings)
    root = Path(settings.lake_root)
    generate_traffic(settings, events=900, days=2, start_date=date(2026, 11, 1), seed=21)
    run_pipeline(spark, settings, run_id="first")

    victim, victim_key = pick_victim(spark, lake, landed_lines(root))
    silver = lambda: spark.read.format("delta").load(lake.silver_events.path)
    assert silver().where(F.col("user_key") == victim_key).count() > 0

    # In flight at the erasure: a file holding only the victim's lines (all of its rows
    # will be erased, so bronze's own columns no longer know it was ingested), ingested
    # into bronze but not yet cleaned into silver.
    theirs = [line for line in landed_lines(root) if line.get("user_id") == victim][:4]
    replayed = [dict(line, event_id=f"{line['event_id']}-again") for line in theirs]
    hour = datetime(2026, 11, 2, 23, tzinfo=UTC)
    LocalSink(root).put(landing_key(hour, "victim-only.jsonl.gz"),
                        encode_lines(json.dumps(line).encode() for line in replayed))
    ingest_bronze(spark, settings)

    result = erase_user(spark, settings, victim, request_id="dsar-1",
                        erased_at=datetime(2026, 11, 3, 8, tzinfo=UTC))
    assert result.rows_removed["silver.events"] > 0
    assert result.rows_removed["bronze.events"] >= len(theirs) + len(replayed)

    # Later traffic (other users) and two more runs.
    generate_traffic(settings, events=300, days=1, start_date=date(2026, 11, 3), seed=22)
    assert all(line.get("user_id") != victim for line in landed_lines(root))
    run_pipeline(spark, settings, run_id="second")
    run_pipeline(spark, settings, run_id="third")

    assert silver().where(F.col("user_key") == victim_key).count() == 0
    silver_now = silver().cache()
    for name in GOLD_TABLES:
        gold = spark.read.format("delta").load(lake.gold(name).path)
        rows = assert_same_rows(gold, GOLD_TABLES[name].compute(silver_now), name)
        if "user_key" in gold.columns:
            at = gold.columns.index("user_key")
            assert all(row[at] != victim_key for row in rows), name
    silver_now.unpersist()

    # VACUUM the tables with a personal column (the ones the erasure deletes from); the
    # others never held the key or the raw id, and the scan below still reads every file.
    # (A VACUUM per table costs about a minute here: all 26 would dominate the suite.)
    personal = {
        maintained.table.name for maintained in lake_tables(spark, lake)
        if PERSONAL_COLUMNS & set(spark.read.format("delta").load(maintained.table.path).columns)
    }
    assert {"bronze.events", "silver.events", "gold.user_activity_daily"} <= personal
    spark.conf.set("spark.databricks.delta.retentionDurationCheck.enabled", "false")
    vacuum_tables(spark, lake, retain_hours=0, only=personal)

    assert files_holding(root, [victim, victim_key]) == []
