"""The whole path on a real S3-compatible server, through the public commands only.

generated traffic -> `eventlake collector` -> S3 landing -> `eventlake pipeline` on s3a://,
its jobs run on a Spark standalone cluster (a master and two workers on loopback, see
tests/standalone_cluster.py) -> silver, quarantine and gold read back with `deltalake` from
S3, equal to the same landed traffic run through the independent DuckDB implementation of the
contract (bench/duckdb_lake.py); the gold tables beyond the contract equal their
recomputation from S3's silver.
"""

from __future__ import annotations

import gzip
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from eventlake.config import Settings
from eventlake.gold.tables import CONTRACT_TABLES, GOLD_TABLES
from frames import assert_same_rows
from standalone_cluster import standalone_cluster

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import duckdb_lake, lake_bench  # noqa: E402

pytestmark = [pytest.mark.s3, pytest.mark.e2e]

EVENTLAKE = str(Path(sys.executable).parent / "eventlake")
GENERATE = ["generate", "--events", "1500", "--days", "2", "--seed", "11", "--start-date", "2024-03-04"]
JWT_SECRET = "e2e-only-" + "x" * 32
PIPELINE_SECONDS = 1800


def run_eventlake(args: list[str], env: dict[str, str], timeout: float = PIPELINE_SECONDS):
    done = subprocess.run(
        [EVENTLAKE, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"eventlake {' '.join(args)} exited {done.returncode}\n"
        f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-6000:]}"
    )
    return done


def landed_files(server, prefix: str) -> dict[str, bytes]:
    """Landing objects (relative key -> bytes) under a lake prefix, probes excluded."""
    client = server.client()
    return {
        key[len(prefix) + 1:]: client.get_object(Bucket=server.bucket, Key=key)["Body"].read()
        for key in server.keys(f"{prefix}/landing/events/")
    }


def lines_in(files: dict[str, bytes]) -> int:
    return sum(
        len((gzip.decompress(body) if name.endswith(".gz") else body).splitlines())
        for name, body in files.items()
    )


def local_landing(root: Path) -> dict[str, bytes]:
    base = root / "landing" / "events"
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(base.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def copy_table(s3_lake, relative: str, root: Path) -> str:
    """A Delta table's objects copied from S3 into a local folder (its log addresses its
    files relatively, so the copy is the same table), for the session's Spark to read."""
    client, base = s3_lake.server.client(), f"{s3_lake.prefix}/{relative}/"
    target = root / relative
    for key in s3_lake.server.keys(base):
        path = target / key[len(base):]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(client.get_object(Bucket=s3_lake.server.bucket, Key=key)["Body"].read())
    return str(target)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, collector: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert collector.poll() is None, f"collector exited:\n{log.read_text()[-3000:]}"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"collector not ready after {seconds}s:\n{log.read_text()[-3000:]}")


def ingested_by_status(url: str) -> dict[str, int]:
    """The collector's own counts of events by status (accepted, rejected, dropped_consent)."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, int] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=5).text):
        for sample in family.samples:
            if sample.name == "telemetry_events_ingested_total":
                status = sample.labels["status"]
                totals[status] = totals.get(status, 0) + int(sample.value)
    return totals


def collect_into(s3_lake, tmp_path: Path) -> tuple[int, dict[str, int]]:
    """Run the collector on the S3 lake, POST generated traffic to it, stop it.

    Returns what the clients were told was accepted, and the collector's counts by status.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = s3_lake.env(EVENTLAKE_JWT_SECRET=JWT_SECRET, EVENTLAKE_FLUSH_SECONDS="1",
                      EVENTLAKE_COLLECTOR_ID="e2e-collector")
    log = tmp_path / "collector.log"
    with log.open("wb") as log_handle:
        collector = subprocess.Popen(
            [EVENTLAKE, "collector", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log_handle, stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(url, collector, log)
        posted = run_eventlake([*GENERATE, "--to", url], env, timeout=600)
        counts = ingested_by_status(url)
    finally:
        # A clean stop lands everything acknowledged before the process exits.
        collector.send_signal(signal.SIGTERM)
        try:
            collector.wait(timeout=120)
        except subprocess.TimeoutExpired:
            collector.kill()
            collector.wait()
    assert collector.returncode == 0, log.read_text()[-3000:]
    accepted = re.search(r"(\d+) accepted", posted.stdout)
    assert accepted, posted.stdout
    return int(accepted.group(1)), counts


def test_generated_files_land_in_s3_exactly_as_on_a_local_lake(s3_lake, tmp_path):
    local_root = tmp_path / "local-lake"
    s3_env = s3_lake.env()

    run_eventlake(GENERATE, s3_env, timeout=600)
    run_eventlake(GENERATE, {**s3_env, "EVENTLAKE_LAKE_URI": str(local_root)}, timeout=600)

    in_s3 = landed_files(s3_lake.server, s3_lake.prefix)
    assert in_s3 == local_landing(local_root)
    assert lines_in(in_s3) > 0


@pytest.mark.collector
def test_collected_traffic_on_s3_gives_the_tables_of_the_duckdb_reference(spark, s3_lake, tmp_path):
    accepted, counts = collect_into(s3_lake, tmp_path)
    landed = landed_files(s3_lake.server, s3_lake.prefix)
    # The collector drops events without analytics consent at the edge (still a 202 for the
    # client); every other accepted event is durable and reached S3 landing as one line.
    assert counts["accepted"] > 0
    assert accepted == counts["accepted"] + counts.get("dropped_consent", 0)
    assert lines_in(landed) == counts["accepted"]

    s3_env = s3_lake.env(EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog-s3"))
    with standalone_cluster(tmp_path / "spark-cluster") as cluster:
        run_eventlake(["pipeline"], {**s3_env, **cluster.driver_env()})
        applications = cluster.state()["completedapps"]
    # The run was the cluster's: its application ran executors on both workers, and each
    # received eventlake from the driver (their Python cannot import it otherwise).
    assert [app["name"] for app in applications] == ["eventlake-pipeline"], applications
    for worker_dir in cluster.worker_dirs:
        assert list(worker_dir.glob("app-*/*/eventlake-*.zip")), f"nothing shipped to {worker_dir}"

    # A repair of every day silver holds: gold's period rebuilds, which delta-rs commits
    # straight to S3. Everything compared below is the tables as those commits left them.
    silver = spark.read.format("delta").load(copy_table(s3_lake, "silver/events", tmp_path / "silver-copy"))
    first, last = silver.agg(F.min("event_date"), F.max("event_date")).first()
    run_eventlake(["run", "gold", "--skip-quality", "--from-date", str(first), "--to-date", str(last)], s3_env)
    for name in GOLD_TABLES:
        log = sorted(key for key in s3_lake.server.keys(f"{s3_lake.prefix}/gold/{name}/_delta_log/")
                     if key.endswith(".json"))
        newest = s3_lake.server.client().get_object(Bucket=s3_lake.server.bucket, Key=log[-1])["Body"].read()
        commit = next(json.loads(line)["commitInfo"] for line in newest.splitlines() if b'"commitInfo"' in line)
        assert commit["operation"] == "WRITE" and commit["engineInfo"].startswith("delta-rs"), (name, commit)

    # The same landed bytes through the independent DuckDB implementation of the contract
    # (bench/duckdb_lake.py): silver, the quarantine and the ten contract gold tables read
    # back from S3 must equal it row for row.
    settings = Settings.from_env(s3_env)
    landing_copy = tmp_path / "landing-copy"
    for relative, body in landed.items():
        target = landing_copy / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    agreement = lake_bench.compare(
        duckdb_lake.build(landing_copy / "landing", salt=settings.pseudonym_salt), settings
    )
    assert agreement["agree"] is True, agreement
    # Equal empty tables would prove little. A small sample may leave a table empty by
    # chance (here every signed-in music listener can be a GB user without consent), so
    # the headline tables must have rows and most of the others too.
    rows = {name: agreement[f"gold.{name}"]["eventlake"] for name in CONTRACT_TABLES}
    assert agreement["silver"]["eventlake"] > 0
    assert all(rows[name] > 0 for name in
               ("daily_active_users", "daily_kpis", "event_metrics_daily", "track_daily")), rows
    assert sum(count > 0 for count in rows.values()) >= len(rows) - 3, rows

    # Every table the pipeline builds is on S3. The ones beyond the contract have no DuckDB
    # twin: copied down with their logs, each equals its recomputation from S3's silver.
    s3_gold = {
        key.split("/gold/", 1)[1].split("/", 1)[0]
        for key in s3_lake.server.keys(f"{s3_lake.prefix}/gold/")
        if "/_delta_log/" in key
    }
    assert s3_gold == set(GOLD_TABLES)
    silver = spark.read.format("delta").load(copy_table(s3_lake, "silver/events", tmp_path / "copies"))
    for name in sorted(set(GOLD_TABLES) - set(CONTRACT_TABLES)):
        gold = spark.read.format("delta").load(copy_table(s3_lake, f"gold/{name}", tmp_path / "copies"))
        assert_same_rows(gold, GOLD_TABLES[name].compute(silver), name)
