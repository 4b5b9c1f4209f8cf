"""One benchmark run: eventlake and an independent DuckDB implementation on the same landed data.

    python bench/lake_bench.py --events 1000000 --scale 5 [--days 30] [--dir /tmp/eventlake-lake-bench]
                               [--json out.json] [--no-cli-idle] [--no-cli-hour] [--no-airflow-hour]
                               [--skip-quality]

For a lake of N generated events (`eventlake generate`'s function, gzip JSON lines in landing/):
eventlake's wall time per layer and per quality gate for a full run (in this process, one
Spark session, `run_pipeline`'s calls with each gate timed where it runs); the
DuckDB implementation of the same contract tables (bench/duckdb_lake.py) per layer, the ratio,
and whether the two agree (counts and full content of silver keys, quarantine reasons and the
ten contract gold tables); the idle run (again, nothing new) in process and through the real
`eventlake pipeline` CLI (JVM start included); an incremental hour (the same landed hour) on
the N lake and on a k×N lake, in process and then (another hour of that day) through the
CLI, as an hourly schedule pays it (a new JVM, cold caches), and a third hour and an idle
hour as the `eventlake_pipeline` Airflow DAG runs them (`airflow dags test`, a throwaway
SQLite Airflow); peak memory of the process tree; load average at start and end. Every
figure also goes to the JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import duckdb_lake  # noqa: E402
from bench.pipeline_bench import PeakMemory  # noqa: E402

LAYERS = ("bronze", "silver", "gold")
START_DATE = date(2026, 11, 1)
INCREMENT_HOUR = 20  # preferred on a tie: the busiest UTC hour of the generator's diurnal curve
SILVER_KEYS = ("event_id", "event_name", "event_timestamp", "event_date", "event_hour", "client_ts_skewed",
               "user_key", "profile_key", "device_key", "session_id", "profile_kind", "platform", "market",
               "no_personalization", "no_ad_targeting", "schema_version")


def settings_for(root: Path, salt: str | None = None):
    from eventlake.config import Settings

    env = {"EVENTLAKE_LAKE_URI": str(root / "lake"), "EVENTLAKE_CATALOG_DIR": str(root / "catalog")}
    if salt:
        env["EVENTLAKE_PSEUDONYM_SALT"] = salt
    return Settings.from_env(env)


def timed_run(spark, settings, *, quality: bool, catalog: bool = True) -> dict[str, Any]:
    """A full `eventlake pipeline` run in this process, with a clock around each layer and gate.

    The calls `run_pipeline` makes, in its order: `run_layer` per layer with its gate where
    the pipeline runs it (silver's audit before its watermark moves, gold's on the staged
    tables it changed, write-audit-publish). `<layer>_quality_s` is the gate's time as the
    layer reports it (`LayerResult.quality_seconds`) and `<layer>_s` the rest of the layer;
    a layer whose gate fails counts its whole time as the layer's.
    """
    from eventlake.errors import QualityGateFailed
    from eventlake.pipeline import gate_writes_finished, run_layer

    run_id = f"bench-{uuid.uuid4().hex[:12]}"
    figures: dict[str, Any] = {"run_id": run_id, "critical_failures": []}
    summaries: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    # As run_pipeline does: what the gates leave to write in the background is written
    # by the end of the run (also after a failed gate), and counted in its time.
    with gate_writes_finished(quality):
        for layer in LAYERS:
            t = time.perf_counter()
            gate_s = 0.0
            try:
                result = run_layer(spark, settings, layer, run_id=run_id, quality=quality,
                                   silver_summary=summaries.get("silver"), wait_for_writes=False)
                summaries[layer], gate_s = result.summary, result.quality_seconds
            except QualityGateFailed as failed:  # a figure of a failed run is still a figure
                figures["critical_failures"].append(str(failed))
                summaries[layer] = {}
            figures[f"{layer}_s"] = time.perf_counter() - t - gate_s
            if quality:
                figures[f"{layer}_quality_s"] = gate_s
        if catalog:
            from eventlake.catalog import register_tables

            t = time.perf_counter()
            try:
                register_tables(spark, settings)
            except Exception as error:  # noqa: BLE001 - a figure lost is better than a long run lost
                figures["catalog_error"] = f"{type(error).__name__}: {str(error)[:200]}"
            figures["catalog_s"] = time.perf_counter() - t
    figures["total_s"] = time.perf_counter() - started
    quality_s = sum(figures.get(f"{layer}_quality_s", 0.0) for layer in LAYERS)
    figures["quality_s"] = quality_s
    figures["quality_share"] = quality_s / figures["total_s"] if figures["total_s"] else None
    figures["summaries"] = {layer: {k: v for k, v in s.items() if isinstance(v, (int, float, str, bool))}
                            for layer, s in summaries.items()}
    return figures


def cli_run(settings) -> dict[str, Any]:
    """The real `eventlake pipeline` command in a child process (JVM start included)."""
    executable = shutil.which("eventlake") or str(Path(sys.executable).parent / "eventlake")
    env = dict(os.environ, EVENTLAKE_LAKE_URI=settings.lake_root,
               EVENTLAKE_CATALOG_DIR=settings.catalog_root, EVENTLAKE_PSEUDONYM_SALT=settings.pseudonym_salt)
    started = time.perf_counter()
    done = subprocess.run([executable, "pipeline", "--run-id", f"bench-cli-{uuid.uuid4().hex[:8]}"],
                          env=env, capture_output=True, text=True)
    return {"total_s": time.perf_counter() - started, "exit_code": done.returncode,
            "tail": (done.stdout + done.stderr).strip().splitlines()[-3:]}


def airflow_env(settings, home: Path) -> dict[str, str]:
    """A throwaway Airflow (SQLite, this repository's dags/) whose DAGs run on this lake."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "EVENTLAKE_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": "local[2]"}),
        EVENTLAKE_LAKE_URI=settings.lake_root, EVENTLAKE_CATALOG_DIR=settings.catalog_root,
        EVENTLAKE_PSEUDONYM_SALT=settings.pseudonym_salt, PYSPARK_PYTHON=sys.executable,
    )
    if ivy := os.environ.get("EVENTLAKE_IVY_DIR"):
        env["EVENTLAKE_IVY_DIR"] = ivy
    return env


def dag_run(env: dict[str, str], logical_date: datetime) -> dict[str, Any]:
    """One real run of the `eventlake_pipeline` DAG (`airflow dags test`): Airflow's start, the
    check that starts no JVM, and, when there is work, the spark-submit of the pipeline."""
    airflow = str(Path(sys.executable).parent / "airflow")
    started = time.perf_counter()
    done = subprocess.run([airflow, "dags", "test", "eventlake_pipeline", logical_date.isoformat()], env=env,
                          cwd=env["AIRFLOW_HOME"], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    listing = subprocess.run([airflow, "dags", "list-runs", "eventlake_pipeline", "-o", "json"], env=env,
                             cwd=env["AIRFLOW_HOME"], capture_output=True, text=True).stdout
    runs = json.loads(next((line for line in reversed(listing.splitlines()) if line.startswith("[")), "[]"))

    def is_this_run(run: dict[str, Any]) -> bool:
        try:
            return datetime.fromisoformat(str(run.get("logical_date")).replace("Z", "+00:00")) == logical_date
        except ValueError:
            return False

    state = next((run["state"] for run in runs if is_this_run(run)), None)
    return {"total_s": seconds, "exit_code": done.returncode, "state": state,
            "tail": (done.stdout + done.stderr).strip().splitlines()[-3:]}


def airflow_hours(settings, root: Path, *, events_per_day: int, day: date, seed: int) -> dict[str, Any]:
    """An hour landed, then run by the Airflow DAG; then an hour with nothing new."""
    home = root / "airflow"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = airflow_env(settings, home)
    subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, cwd=home,
                   capture_output=True, text=True, check=True)
    hour, lines = land_hour(settings, events_per_day=events_per_day, day=day, seed=seed)
    after = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour + 1, minutes=10)
    return {"hour": {**dag_run(env, after), "hour": hour, "lines": lines},
            "idle": dag_run(env, after + timedelta(hours=1))}


def land_hour(settings, *, events_per_day: int, day: date, seed: int) -> tuple[int, int]:
    """Land one UTC hour of fresh traffic: of a generated day, the hour with the most lines.

    A day is generated in memory (small: N/days events) and only that hour's files are
    landed, so the increment is a real hour of the generator's traffic. Returns (hour, lines).
    """
    from eventlake.generate.traffic import run_traffic
    from eventlake.landing import encode_lines, sink_for

    sink = sink_for(settings)
    files: list[tuple[str, list[bytes]]] = []
    run_traffic(lambda key, lines: files.append((key, list(lines))), destination=sink.describe(),
                events=events_per_day, days=1, start_date=day, seed=seed, batch=f"hour{seed}")
    per_hour: dict[int, int] = {}
    for key, lines in files:
        if f"event_date={day:%Y-%m-%d}/" in key:
            hour = int(key.split("event_hour=")[1][:2])
            per_hour[hour] = per_hour.get(hour, 0) + len(lines)
    hour = max(per_hour, key=lambda h: (per_hour[h], h == INCREMENT_HOUR))
    marker = f"event_date={day:%Y-%m-%d}/event_hour={hour:02d}/"
    for key, lines in files:
        if marker in key:
            sink.put(key, encode_lines(lines) if key.endswith(".gz") else b"".join(x + b"\n" for x in lines))
    return hour, per_hour[hour]


def _arrow_naive_utc(table):
    """Delta timestamps come back tz-aware (UTC); DuckDB's reference uses naive UTC."""
    import pyarrow as pa

    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type) and column.type.tz is not None:
            column = column.cast(pa.timestamp("us"))
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _diff(connection, left: str, right: str, columns: list[str], doubles: set[str]) -> int:
    """Rows in either table and not the other (multiset), doubles compared to 1e-6."""
    def select(table: str) -> str:
        items = [f"round({c}, 6) AS {c}" if c in doubles else c for c in columns]
        return f"SELECT {', '.join(items)} FROM {table}"

    return connection.execute(
        f"SELECT (SELECT count(*) FROM ({select(left)} EXCEPT ALL {select(right)})) + "
        f"(SELECT count(*) FROM ({select(right)} EXCEPT ALL {select(left)}))").fetchall()[0][0]


def compare(duck: duckdb_lake.DuckLake, settings) -> dict[str, Any]:
    """eventlake's silver, quarantine and ten contract gold tables against the DuckDB reference.

    The lake is read with delta-rs, so it may be local or on S3."""
    import pyarrow as pa
    from deltalake import DeltaTable

    from eventlake.lake import Lake, delta_location

    lake = Lake.from_settings(settings)
    c = duck.connection
    out: dict[str, Any] = {}

    def read(path: str, columns: list[str] | None = None) -> pa.Table:
        uri, options = delta_location(settings, path)
        return DeltaTable(uri, storage_options=options or None).to_pyarrow_table(columns=columns)

    silver = _arrow_naive_utc(read(lake.silver_events.path, list(SILVER_KEYS)))
    c.register("el_silver", silver)
    out["silver"] = {"eventlake": silver.num_rows, "duckdb": c.execute("SELECT count(*) FROM silver").fetchall()[0][0],
                     "differing_rows": _diff(c, "el_silver", "silver", list(SILVER_KEYS), set())}

    quarantine = read(lake.silver_quarantine.path, ["reason"])
    c.register("el_quarantine", quarantine)
    ours = dict(c.execute("SELECT reason, count(*) FROM el_quarantine GROUP BY ALL").fetchall())
    theirs = dict(c.execute("SELECT reason, count(*) FROM quarantine GROUP BY ALL").fetchall())
    out["quarantine"] = {"eventlake": sum(ours.values()), "duckdb": sum(theirs.values()),
                         "by_reason_equal": ours == theirs, "eventlake_by_reason": ours, "duckdb_by_reason": theirs}

    for name in duckdb_lake.reference_gold_sql():
        table = _arrow_naive_utc(read(lake.gold(name).path))
        c.register(f"el_gold_{name}", table)
        columns = table.column_names
        c.execute(f"CREATE OR REPLACE TEMP VIEW ref_gold_{name} AS "
                  f"SELECT * FROM gold_{name} AS r({', '.join(columns)})")
        doubles = {f.name for f in table.schema if pa.types.is_floating(f.type)}
        out[f"gold.{name}"] = {
            "eventlake": table.num_rows,
            "duckdb": c.execute(f"SELECT count(*) FROM gold_{name}").fetchall()[0][0],
            "differing_rows": _diff(c, f"el_gold_{name}", f"ref_gold_{name}", columns, doubles),
        }
    out["agree"] = all(
        v.get("eventlake") == v.get("duckdb") and not v.get("differing_rows") and v.get("by_reason_equal", True)
        for k, v in out.items() if isinstance(v, dict))
    return out


def machine() -> dict[str, Any]:
    import duckdb

    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return {"nproc": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "commit": rev.stdout.strip() or None}


def bench(spark, root: Path, *, events: int, scale: int, days: int, quality: bool = True,
          cli_idle: bool = True, cli_hour: bool = True, airflow_hour: bool = True,
          catalog: bool = True, seed: int = 1,
          salt: str | None = None,
          log=print) -> dict[str, Any]:
    """Every figure of one benchmark run, as a dict (see the module docstring)."""
    from eventlake.generate import generate_traffic

    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_start": list(os.getloadavg()), "events": events, "scale": scale, "days": days,
        "quality": quality, "eventlake_mode": "in-process (run_layer + validate_layer, one Spark session)",
    }
    hour_day = START_DATE + timedelta(days=days)
    # Both lakes land hours of N's rate: the lake grows, the new data does not.
    hour_events_per_day = max(24, events // days)
    sizes = [("n", events)] + ([("kn", events * scale)] if scale and scale > 1 else [])
    with PeakMemory() as memory:
        for label, size in sizes:
            lake_root = root / f"{label}{size}"
            shutil.rmtree(lake_root, ignore_errors=True)
            settings = settings_for(lake_root, salt)
            figures: dict[str, Any] = {"events": size}
            t = time.perf_counter()
            generated = generate_traffic(settings, events=size, days=days, start_date=START_DATE, seed=seed)
            figures["generate_s"] = time.perf_counter() - t
            figures["landed_files"] = len(generated.files)
            log(f"[{label}] generated {generated.lines:,} lines in {figures['generate_s']:.1f} s; full run …")
            memory.mark()
            figures["full"] = timed_run(spark, settings, quality=quality, catalog=catalog)
            figures["full"]["peak_rss_gib"] = memory.mark() / 2**30
            if label == "n":
                log(f"[{label}] full run {figures['full']['total_s']:.1f} s; DuckDB …")
                duck = duckdb_lake.build(Path(settings.lake_root) / "landing", salt=settings.pseudonym_salt)
                figures["duckdb"] = {**{f"{k}_s": v for k, v in duck.seconds.items()},
                                     "total_s": sum(duck.seconds.values()), "peak_rss_gib": memory.mark() / 2**30,
                                     "counts": duckdb_lake.counts(duck)}
                figures["agreement"] = compare(duck, settings)
                duck.connection.close()
                if not figures["agreement"]["agree"]:
                    # Measure the known gap alone: eventlake's silver drops `essential` events
                    # without analytics consent, which contract §5 rule 5 keeps.
                    reading = duckdb_lake.build(Path(settings.lake_root) / "landing", salt=settings.pseudonym_salt,
                                                keep_essential=False)
                    figures["agreement_eventlake_reading"] = compare(reading, settings)
                    reading.connection.close()
                figures["generator_expected"] = {
                    "silver": generated.expected_silver, "quarantine": generated.expected_quarantine,
                    "consent_drops": generated.expected_consent_drops, "duplicates": generated.expected_duplicates}
                log(f"[{label}] idle run …")
                figures["idle"] = timed_run(spark, settings, quality=quality, catalog=catalog)
                if cli_idle:
                    figures["idle_cli"] = cli_run(settings)
            log(f"[{label}] incremental hour …")
            figures["hour"], figures["hour_lines"] = land_hour(
                settings, events_per_day=hour_events_per_day, day=hour_day, seed=seed + 1000)
            memory.mark()
            figures["incremental_hour"] = timed_run(spark, settings, quality=quality, catalog=catalog)
            figures["incremental_hour"]["peak_rss_gib"] = memory.mark() / 2**30
            if cli_hour:
                log(f"[{label}] incremental hour, `eventlake pipeline` …")
                hour, lines = land_hour(settings, events_per_day=hour_events_per_day, day=hour_day,
                                        seed=seed + 2000)
                figures["incremental_hour_cli"] = {**cli_run(settings), "hour": hour, "lines": lines}
            if airflow_hour:
                log(f"[{label}] incremental hour and an idle hour, `eventlake_pipeline` DAG …")
                figures["airflow"] = airflow_hours(settings, root, events_per_day=hour_events_per_day,
                                                   day=hour_day, seed=seed + 3000)
            results[label] = figures
    results["peak_rss_gib"] = memory.peak / 2**30
    results["load_average_end"] = list(os.getloadavg())
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def _f(value: Any, fmt: str = "{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def report(r: dict[str, Any]) -> str:
    """The readable table."""
    n = r["n"]
    full, duck = n["full"], n["duckdb"]
    m = r["machine"]
    lines = [
        f"eventlake lake bench — {r['started_at']} — {m['nproc']} cores, {m['memory_gib']} GiB, commit {m['commit']}",
        f"N = {r['events']:,} events over {r['days']} days ({n['landed_files']} landing files); "
        f"k×N = {r['events'] * r['scale']:,}; quality suites {'on' if r['quality'] else 'off'}",
        f"load average at start {' '.join(f'{x:.2f}' for x in r['load_average_start'])}, "
        f"at end {' '.join(f'{x:.2f}' for x in r['load_average_end'])}",
        f"eventlake: {r['eventlake_mode']}",
        "",
        f"{'full run, N':<22}{'eventlake s':>12}{'quality s':>11}{'DuckDB s':>10}{'ratio':>8}",
    ]
    for layer in LAYERS:
        el, dd = full[f"{layer}_s"], duck[f"{layer}_s"]
        lines.append(f"{layer:<22}{el:>12.1f}{_f(full.get(f'{layer}_quality_s')):>11}{dd:>10.2f}"
                     f"{el / dd if dd else float('nan'):>8.1f}")
    layers_el = sum(full[f"{x}_s"] for x in LAYERS)
    lines += [
        f"{'layers total':<22}{layers_el:>12.1f}{full['quality_s']:>11.1f}{duck['total_s']:>10.2f}"
        f"{layers_el / duck['total_s']:>8.1f}",
        f"{'whole run (+catalog)':<22}{full['total_s']:>12.1f}   quality share {_f(full['quality_share'], '{:.0%}')}"
        f"   vs DuckDB {full['total_s'] / duck['total_s']:.1f}×",
        "",
    ]
    agreement = n["agreement"]
    lines.append(f"DuckDB reference agrees with eventlake: {'YES' if agreement['agree'] else 'NO'}")
    lines.append(f"  {'table':<34}{'eventlake':>10}{'DuckDB':>10}{'diff rows':>10}")
    for name, v in agreement.items():
        if isinstance(v, dict):
            diff = v.get("differing_rows", "—" if v.get("by_reason_equal", True) else "reasons")
            lines.append(f"  {name:<34}{v['eventlake']:>10,}{v['duckdb']:>10,}{diff!s:>10}")
    reading = n.get("agreement_eventlake_reading")
    if reading:
        lines.append(f"  with essential events dropped without analytics consent (eventlake today; contract §5.5 "
                     f"keeps {n['duckdb']['counts']['essential_kept_without_analytics']}): "
                     f"{'agrees on every table' if reading['agree'] else 'still differs'}")
    lines.append("")
    lines.append(f"{'run':<34}{'total s':>9}{'bronze':>8}{'silver':>8}{'gold':>8}{'quality':>8}{'peak GiB':>9}")

    def row(label: str, f: dict[str, Any] | None) -> None:
        if f:
            lines.append(f"{label:<34}{f['total_s']:>9.1f}{f['bronze_s']:>8.1f}{f['silver_s']:>8.1f}"
                         f"{f['gold_s']:>8.1f}{f['quality_s']:>8.1f}{_f(f.get('peak_rss_gib'), '{:.2f}'):>9}")

    row(f"full, N={r['events']:,}", full)
    row("idle (nothing new), in process", n.get("idle"))
    if n.get("idle_cli"):
        c = n["idle_cli"]
        lines.append(f"{'idle, `eventlake pipeline` CLI':<34}{c['total_s']:>9.1f}  exit {c['exit_code']} "
                     "(JVM start included)")
    row(f"+1 hour ({n['hour_lines']} lines) on N", n["incremental_hour"])
    kn = r.get("kn")
    if kn:
        row(f"full, k×N={kn['events']:,}", kn["full"])
        row(f"+1 hour ({kn['hour_lines']} lines) on k×N", kn["incremental_hour"])
    for label, size in (("N", n), ("k×N", kn or {})):
        if c := size.get("incremental_hour_cli"):
            name = f"+1 hour ({c['lines']} lines) on {label}, CLI"
            lines.append(f"{name:<34}{c['total_s']:>9.1f}  exit {c['exit_code']} "
                         "(`eventlake pipeline`: JVM start, cold caches)")
    for label, size in (("N", n), ("k×N", kn or {})):
        if a := size.get("airflow"):
            name = f"+1 hour ({a['hour']['lines']} lines) on {label}, DAG"
            lines.append(f"{name:<34}{a['hour']['total_s']:>9.1f}  run {a['hour']['state']} "
                         "(`airflow dags test eventlake_pipeline`; target ≤ 180 s)")
            lines.append(f"{f'idle hour on {label}, DAG':<34}{a['idle']['total_s']:>9.1f}  run {a['idle']['state']} "
                         "(no JVM: the check skips the Spark task)")
    if kn:
        ratio = kn["incremental_hour"]["total_s"] / n["incremental_hour"]["total_s"]
        lines.append(f"incremental hour, k×N / N: {ratio:.2f}× (target ≤ 1.5× at 5 M / 1 M)")
        if n.get("incremental_hour_cli") and kn.get("incremental_hour_cli"):
            cli = kn["incremental_hour_cli"]["total_s"] / n["incremental_hour_cli"]["total_s"]
            lines.append(f"incremental hour through the CLI, k×N / N: {cli:.2f}×")
        for label, size in (("N", n), ("k×N", kn)):
            share = size["incremental_hour"]["total_s"] / size["full"]["total_s"]
            lines.append(f"incremental hour / full run on {label}: {share:.0%} (target ≤ 10 %)")
    lines.append(f"peak memory, process tree RSS: {r['peak_rss_gib']:.2f} GiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="N, events of the first lake (default 20,000)")
    parser.add_argument("--scale", type=int, default=5, help="k: the second lake holds k×N events (1 = no second lake)")
    parser.add_argument("--days", type=int, default=30, help="days of traffic in each lake (default 30)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/eventlake-lake-bench"), help="work folder (wiped)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--skip-quality", action="store_true", help="time the layers without the quality gates")
    parser.add_argument("--no-cli-idle", action="store_true", help="skip the idle run through the CLI")
    parser.add_argument("--no-cli-hour", action="store_true", help="skip the incremental hours through the CLI")
    parser.add_argument("--no-airflow-hour", action="store_true",
                        help="skip the hour and the idle hour run by the Airflow DAG")
    args = parser.parse_args(argv)
    if args.events < 1 or args.scale < 1 or args.days < 1:
        parser.error("--events, --scale and --days must be positive")

    from eventlake.spark import build_spark_session

    if not args.skip_quality:
        from eventlake.quality import preload

        preload()  # as `eventlake pipeline` does: GX's import overlaps the JVM's start
    spark = build_spark_session(settings_for(args.dir).with_overrides(spark_master=args.master),
                                "eventlake-lake-bench", extra_conf={"spark.ui.enabled": "false"})
    try:
        results = bench(spark, args.dir, events=args.events, scale=args.scale, days=args.days,
                        quality=not args.skip_quality, cli_idle=not args.no_cli_idle,
                        cli_hour=not args.no_cli_hour, airflow_hour=not args.no_airflow_hour,
                        log=lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        spark.stop()
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"every figure: {args.json}")
    return 0 if results["n"]["agreement"]["agree"] else 1  # 1 also while the essential gap stands


if __name__ == "__main__":
    sys.exit(main())
