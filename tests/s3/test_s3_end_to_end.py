"""The whole path on a real S3-compatible server, through the public commands only.

generated traffic -> `eventlake collector` -> S3 landing -> `eventlake pipeline` on s3a://,
its jobs run on a Spark standalone cluster (a master and two workers on loopback, see
tests/standalone_cluster.py) -> gold tables read back with `deltalake` from S3, equal to the
same landed traffic run through `eventlake pipeline` on a local lake with a local master.
"""

from __future__ import annotations

import gzip
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from standalone_cluster import standalone_cluster

pytestmark = [pytest.mark.s3, pytest.mark.e2e]

EVENTLAKE = str(Path(sys.executable).parent / "eventlake")
# Contract §6: the gold tables that must exist (the pipeline may build more; all are compared).
GOLD_TABLES = (
    "daily_active_users", "daily_kpis", "content_engagement", "qoe_summary",
    "search_performance", "track_hourly", "track_daily", "user_activity_daily",
    "event_metrics_daily", "event_metrics_weekly",
)
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


def normalised_rows(table) -> list[tuple]:
    """Rows in a stable order; floats to 9 significant digits (sums may add in any order)."""
    def value(v):
        return float(f"{v:.9g}") if isinstance(v, float) else v

    rows = [tuple(value(v) for v in row.values()) for row in table.to_pylist()]
    return sorted(rows, key=repr)


def read_gold(uri: str, storage_options: dict[str, str] | None = None):
    from deltalake import DeltaTable

    return DeltaTable(uri, storage_options=storage_options).to_pyarrow_table()


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
def test_collected_traffic_on_s3_gives_the_gold_of_a_local_lake(s3_lake, tmp_path):
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

    # The same landed bytes, on a local lake, through the same command.
    local_root = tmp_path / "local-lake"
    for relative, body in landed.items():
        target = local_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    local_env = {
        **s3_env,  # EVENTLAKE_SPARK_MASTER=local[2]
        "EVENTLAKE_LAKE_URI": str(local_root),
        "EVENTLAKE_CATALOG_DIR": str(tmp_path / "catalog-local"),
    }
    run_eventlake(["pipeline"], local_env)

    local_gold = {path.name for path in (local_root / "gold").iterdir() if (path / "_delta_log").is_dir()}
    s3_gold = {
        key.split("/gold/", 1)[1].split("/", 1)[0]
        for key in s3_lake.server.keys(f"{s3_lake.prefix}/gold/")
        if "/_delta_log/" in key
    }
    assert set(GOLD_TABLES) <= local_gold
    assert s3_gold == local_gold
    filled: set[str] = set()
    for name in sorted(local_gold):
        from_s3 = read_gold(
            s3_lake.table_uri(f"gold/{name}"), s3_lake.server.storage_options()
        )
        local = read_gold(str(local_root / "gold" / name))
        assert from_s3.schema == local.schema, name
        assert normalised_rows(from_s3) == normalised_rows(local), name
        if local.num_rows:
            filled.add(name)
    # Equal empty tables would prove little. A small sample may leave a table empty by
    # chance (here every signed-in music listener can be a GB user without consent), so
    # the headline tables must have rows and most of the others too.
    assert {"daily_active_users", "daily_kpis", "event_metrics_daily", "track_daily"} <= filled
    assert len(filled) >= len(local_gold) - 3, sorted(set(local_gold) - filled)
