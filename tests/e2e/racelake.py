"""Two `eventlake pipeline` processes on one lake: start them, and compare the lake to one run.

Shared by tests/e2e/test_two_writers.py (local lake) and tests/s3/test_s3_two_writers.py.
Tables are read with `deltalake` (no Spark), so the comparison does not trust the code
under test to read its own output.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

EVENTLAKE = [sys.executable, "-m", "eventlake.cli"]
# Columns that record *when* a run happened, not what it computed.
RUN_TIME_COLUMNS = {"ingested_at", "ingest_date", "recorded_at", "updated_at"}
TABLES = ("bronze/events", "silver/events", "silver/events_quarantine")
# Columns holding a landing file's URI: the two lakes live at different roots (a temporary
# folder, an S3 prefix), so a URI is compared from its `landing/` part on.
URI_COLUMNS = {"source_file"}


def start_pipeline(env: dict[str, str], run_id: str, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*EVENTLAKE, "pipeline", "--skip-quality", "--run-id", run_id],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )


def wait_for_lease(lease_names, processes: list[subprocess.Popen], seconds: float = 120) -> None:
    """Until one of the processes holds the lake's lease (a generation object exists)."""
    deadline = time.monotonic() + seconds
    while not any(name.startswith("gen-") for name in lease_names()):
        assert all(p.poll() is None for p in processes), "a pipeline exited before taking the lease"
        assert time.monotonic() < deadline, "no pipeline took the lease"
        time.sleep(0.2)


def finish(process: subprocess.Popen, log: Path, timeout: float) -> str:
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return log.read_text(errors="replace")


def landed_lines(files: dict[str, bytes]) -> int:
    return sum(
        len((gzip.decompress(body) if name.endswith(".gz") else body).splitlines())
        for name, body in files.items()
    )


def _value(v):
    if isinstance(v, float):
        return float(f"{v:.9g}")  # sums may add up in any order
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True, default=str)
    return v


def _in_lake(uri):
    return uri[uri.index("/landing/") + 1:] if isinstance(uri, str) and "/landing/" in uri else uri


def table_rows(uri: str, storage_options: dict[str, str] | None = None) -> Counter:
    """A table's rows as a multiset, without the columns that say when a run happened and
    with landing URIs relative to their lake."""
    from deltalake import DeltaTable

    table = DeltaTable(uri, storage_options=storage_options).to_pyarrow_table()
    keep = [c for c in table.column_names if c not in RUN_TIME_COLUMNS]
    return Counter(
        tuple(_in_lake(row[c]) if c in URI_COLUMNS else _value(row[c]) for c in keep)
        for row in table.select(keep).to_pylist()
    )


def run_log(uri: str, storage_options: dict[str, str] | None = None) -> list[dict]:
    from deltalake import DeltaTable

    rows = DeltaTable(uri, storage_options=storage_options).to_pyarrow_table().to_pylist()
    return [{"run_id": r["run_id"], "job": r["job"], **json.loads(r["summary"])} for r in rows]
