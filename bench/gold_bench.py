"""Gold build benchmark: Spark full build vs DuckDB on the same silver files, and an
incremental run adding one hour of events vs a full rebuild.

    .venv/bin/python bench/gold_bench.py --events 1000000 5000000 [--days 30] [--dir /tmp/gb]

Silver is synthesised with Spark (spark.range + random columns in contract §5's schema,
properties as JSON) so the bench does not depend on the generator or the silver job.
DuckDB computes the ten contract tables from the live files of the same Delta version
(deltalake's pyarrow dataset) with the independent reference SQL of tests/gold.
"""

from __future__ import annotations

import argparse
import calendar
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
START = date(2024, 1, 1)

# (event name, weight): roughly the mix of an OTT + music client
MIX = [
    ("playback.started", 8), ("playback.heartbeat", 30), ("playback.stopped", 7),
    ("playback.rebuffer", 3), ("playback.error", 1), ("search.query", 4),
    ("search.results", 4), ("search.result.click", 2), ("track.play_start", 8),
    ("track.play_progress", 10), ("track.play_complete", 5), ("track.play_stop", 3),
    ("channel.tune", 4), ("channel.tune_away", 3), ("tile.impression", 6), ("tile.click", 1),
    ("app.launch", 1),
]


def synthesize_silver(spark, path: str, events: int, days: int, *, first_hour: int = 0,
                      hours: int | None = None, seed: int = 7, mode: str = "overwrite") -> None:
    """`events` silver rows spread uniformly over `hours` hours from START + first_hour."""
    from pyspark.sql import functions as F

    from eventlake.schemas import SILVER_COLUMNS, SILVER_EVENTS

    hours = hours or days * 24
    total = sum(w for _, w in MIX)
    edge = 0.0
    bounds = []
    for event, weight in MIX:
        edge += weight / total
        bounds.append((edge, event))
    r = F.rand(seed)
    name = F.lit(MIX[-1][0])
    for edge, event in reversed(bounds):
        name = F.when(r < edge, F.lit(event)).otherwise(name)
    pick = lambda values, col: F.element_at(F.array(*[F.lit(v) for v in values]),  # noqa: E731
                                            (F.abs(F.hash(col)) % len(values) + 1).cast("int"))
    start_seconds = calendar.timegm(START.timetuple()) + first_hour * 3600
    rows = spark.range(events).select(
        F.col("id"),
        name.alias("event_name"),
        (F.lit(start_seconds) + (F.rand(seed + 1) * hours * 3600).cast("long"))
        .cast("timestamp").alias("event_timestamp"),
        (F.rand(seed + 2) * 50_000).cast("int").alias("user_n"),
        F.rand(seed + 3).alias("u"),
    )
    user = F.when(F.col("u") < 0.05, F.lit(None)).otherwise(
        F.sha2(F.concat(F.lit("user"), F.col("user_n").cast("string")), 256))
    props = F.to_json(F.struct(
        F.concat(F.lit("c"), (F.col("u") * 2000).cast("int")).alias("content_id"),
        pick(["live", "vod", "catchup", "startover", "pvr"], "id").alias("content_type"),
        (F.col("u") * 4000).alias("start_time_ms"),
        (F.col("u") * 3_600_000).cast("long").alias("total_duration_ms"),
        (F.col("u") * 100).alias("completion_percent"),
        (F.col("u") * 5000).alias("rebuffer_duration_ms"),
        F.lit("q").alias("query_text"),
        (F.col("u") * 20).cast("int").alias("result_count"),
        F.concat(F.lit("01HQZX3V6K8M9N0P1Q2R3S"), F.lpad((F.col("u") * 5000).cast("int").cast("string"), 4, "0"))
        .alias("track_id"),
        (F.col("u") * 240).alias("duration_played_seconds"),
        F.concat(F.lit("ch"), (F.col("u") * 80).cast("int")).alias("channel_id"),
        (F.col("u") * 2000).alias("tune_time_ms"),
        (F.col("u") * 1_800_000).alias("view_duration_ms"),
        F.concat(F.lit("r"), (F.col("u") * 30).cast("int")).alias("rail_id"),
    ))
    silver = rows.select(
        F.concat(F.lit(f"b{seed}-"), F.col("id").cast("string")).alias("event_id"),
        "event_name",
        F.split("event_name", r"\.")[0].alias("event_domain"),
        "event_timestamp",
        F.to_date("event_timestamp").alias("event_date"),
        F.date_trunc("hour", "event_timestamp").alias("event_hour"),
        F.col("event_timestamp").alias("client_timestamp"),
        F.lit(False).alias("client_ts_skewed"),
        user.alias("user_key"),
        user.alias("profile_key"),
        F.sha2(F.col("user_n").cast("string"), 256).alias("device_key"),
        F.concat(F.lit("s"), F.col("user_n"), F.lit("-"), F.hour("event_timestamp")).alias("session_id"),
        F.lit("standard").alias("profile_kind"),
        pick(["android_tv", "ios", "web", "tvos", None], "user_n").alias("device_type"),
        pick(["android_tv", "ios", "web", "tvos", None], "user_n").alias("platform"),
        F.lit("2.3.1").alias("app_version"),
        F.lit(None).cast("string").alias("os_version"),
        pick(["DE", "FR", "SE", "US", "BR", None], "user_n").alias("market"),
        F.lit("wifi").alias("connection_type"),
        F.lit(False).alias("no_personalization"),
        F.lit(False).alias("no_ad_targeting"),
        F.lit(1).alias("schema_version"),
        props.alias("properties"),
        F.lit("203.0.113.0").alias("ip_truncated"),
        F.lit(None).cast("string").alias("user_agent"),
        F.lit("bench").alias("collector_id"),
        F.lit("bench.jsonl").alias("source_file"),
        F.col("event_timestamp").alias("ingested_at"),
        *[F.lit(None).cast("string").alias(c) for c in ("ua_browser", "ua_os", "ua_device")],
    )
    silver = silver.select(*[F.col(f.name).cast(f.dataType) for f in SILVER_EVENTS.fields])
    assert silver.columns == SILVER_COLUMNS
    silver.write.format("delta").mode(mode).partitionBy("event_date").save(path)


def duckdb_contract_tables(silver_path: str) -> float:
    import duckdb
    from deltalake import DeltaTable

    sys.path.insert(0, str(REPO / "tests" / "gold"))
    from test_reference import REFERENCE_SQL

    from eventlake.gold.tables import CONTRACT_TABLES

    started = time.perf_counter()
    connection = duckdb.connect()
    dataset = DeltaTable(silver_path).to_pyarrow_dataset()
    connection.register("silver_files", dataset)
    connection.execute("CREATE TABLE silver AS SELECT * FROM silver_files")
    for name in CONTRACT_TABLES:
        connection.execute(f"CREATE TABLE gold_{name} AS {REFERENCE_SQL[name]}")
    connection.close()
    return time.perf_counter() - started


def run(events: int, days: int, root: Path, spark) -> dict:
    from eventlake.config import Settings
    from eventlake.gold.build import build_gold
    from eventlake.gold.tables import CONTRACT_TABLES
    from eventlake.lake import Lake

    shutil.rmtree(root, ignore_errors=True)
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(root / "lake"),
                                  "EVENTLAKE_CATALOG_DIR": str(root / "catalog")})
    lake = Lake.from_settings(settings)
    t = time.perf_counter()
    synthesize_silver(spark, lake.silver_events.path, events, days)
    silver_s = time.perf_counter() - t

    t = time.perf_counter()
    build_gold(spark, settings, tables=list(CONTRACT_TABLES), run_id="bench-contract")
    spark_contract_s = time.perf_counter() - t
    duck_s = duckdb_contract_tables(lake.silver_events.path)

    t = time.perf_counter()
    build_gold(spark, settings, run_id="bench-all")  # the extra tables (contract ones unchanged)
    extra_s = time.perf_counter() - t

    hour_events = max(1, events // (days * 24))
    synthesize_silver(spark, lake.silver_events.path, hour_events, days,
                      first_hour=days * 24 - 1, hours=1, seed=99, mode="append")
    t = time.perf_counter()
    build_gold(spark, settings, run_id="bench-incremental")
    incremental_s = time.perf_counter() - t
    t = time.perf_counter()
    build_gold(spark, settings, from_date=START, to_date=START + timedelta(days=days - 1),
               run_id="bench-full")
    full_s = time.perf_counter() - t
    return {
        "events": events, "silver_s": silver_s, "spark_contract_s": spark_contract_s,
        "duckdb_contract_s": duck_s, "extra_tables_s": extra_s,
        "incremental_hour_s": incremental_s, "hour_events": hour_events, "full_rebuild_s": full_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/eventlake-gold-bench"))
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args(argv)

    from eventlake.config import Settings
    from eventlake.spark import build_spark_session

    spark = build_spark_session(
        Settings.from_env({"EVENTLAKE_LAKE_URI": str(args.dir)}).with_overrides(spark_master=args.master),
        "eventlake-gold-bench", extra_conf={"spark.ui.enabled": "false", "spark.driver.memory": "4g"},
    )
    results = []
    for n in args.events:
        results.append(run(n, args.days, args.dir / f"n{n}", spark))
        print(results[-1], flush=True)
    header = (f"{'events':>10} {'silver s':>9} {'spark 10 s':>10} {'duckdb 10 s':>11} "
              f"{'ratio':>6} {'extras s':>9} {'+1h incr s':>10} {'full s':>8} {'full/incr':>9}")
    print(header)
    for r in results:
        print(f"{r['events']:>10,} {r['silver_s']:>9.1f} {r['spark_contract_s']:>10.1f} "
              f"{r['duckdb_contract_s']:>11.1f} {r['spark_contract_s'] / r['duckdb_contract_s']:>6.1f} "
              f"{r['extra_tables_s']:>9.1f} {r['incremental_hour_s']:>10.1f} {r['full_rebuild_s']:>8.1f} "
              f"{r['full_rebuild_s'] / r['incremental_hour_s']:>9.1f}")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
