"""`eventlake pipeline` as a user runs it: every layer behind its quality gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.generate import generate_traffic
from process_output import failure_excerpt

pytestmark = pytest.mark.e2e


def pipeline(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
        EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"),
        EVENTLAKE_SPARK_MASTER="local[2]",
        # Lineage through the OpenLineage client's own file transport (src/eventlake/lineage.py).
        OPENLINEAGE__TRANSPORT__TYPE="file",
        OPENLINEAGE__TRANSPORT__LOG_FILE_PATH=str(tmp_path / "lineage.jsonl"),
        OPENLINEAGE__TRANSPORT__APPEND="true",
        **extra_env,
    )
    generate_traffic(Settings.from_env(env), events=1500, days=2, start_date=date(2026, 11, 1), seed=3)
    return subprocess.run(
        [sys.executable, "-m", "eventlake.cli", "pipeline", "--run-id", "test-run"],
        env=env, capture_output=True, text=True, timeout=1800,
    )


def test_pipeline_builds_every_layer_records_quality_and_builds_docs(tmp_path):
    result = pipeline(tmp_path, EVENTLAKE_SPARK_LINEAGE="true")
    assert result.returncode == 0, failure_excerpt(result.stderr)
    lake = tmp_path / "lakehouse"
    for table in ("bronze/events", "silver/events", "silver/events_quarantine",
                  "gold/daily_kpis", "gold/event_metrics_weekly", "_quality/results"):
        assert (lake / table / "_delta_log").is_dir(), table
    assert (lake / "_quality/docs/index.html").is_file()
    assert "reconciles=True" in result.stdout
    # Spark's start-up and catalog warnings stay out of a default run (`-v` shows them).
    assert " WARN SparkContext:" not in result.stderr and " WARN ObjectStore:" not in result.stderr

    from deltalake import DeltaTable

    results = DeltaTable(str(lake / "_quality/results")).to_pyarrow_table().to_pylist()
    assert {r["layer"] for r in results} == {"bronze", "silver", "gold"}
    assert all(r["run_id"] == "test-run" for r in results)

    # Lineage: landing -> bronze -> silver -> every gold table, one run per layer under the
    # pipeline's run, each started then completed.
    from eventlake.gold.tables import GOLD_TABLES

    events = lineage(tmp_path)
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        (f"eventlake.{layer}", state) for layer in ("bronze", "silver", "gold") for state in ("START", "COMPLETE")
    ]
    edges = {
        e["job"]["name"]: (sorted(d["name"] for d in e["inputs"]), sorted(d["name"] for d in e["outputs"]))
        for e in events if e["eventType"] == "COMPLETE"
    }
    assert edges == {
        "eventlake.bronze": ([f"{lake}/landing/events"], [f"{lake}/bronze/events"]),
        "eventlake.silver": ([f"{lake}/bronze/events"], [f"{lake}/silver/events", f"{lake}/silver/events_quarantine"]),
        "eventlake.gold": ([f"{lake}/silver/events"], sorted(f"{lake}/gold/{name}" for name in GOLD_TABLES)),
    }
    assert {d["namespace"] for e in events for d in e["inputs"] + e["outputs"]} == {"file"}
    parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in events}
    assert len(parents) == 1 and len({e["run"]["runId"] for e in events}) == 3

    # Spark's own OpenLineage listener (EVENTLAKE_SPARK_LINEAGE), in a file of its own: the
    # queries' edges, landing -> bronze and silver -> every gold table, with column lineage.
    # (bronze -> silver is the layer events' alone: silver writes from its judged lines,
    # computed by Python over bronze, which the listener does not see through.)
    # Every query writing a gold table names silver: its rows are a cached DataFrame, whose
    # inputs the listener finds only while the cache lasts (it lags behind the queries).
    spark_edges: dict[str, list[set[str]]] = {}
    column_lineage = {}
    for event in lineage(tmp_path, "lineage.spark.jsonl"):
        if event["job"]["name"].split(".")[1:2] == ["create_table"]:
            continue  # the catalog's registration of a table: DDL, no query, no inputs
        for output in event.get("outputs", []):
            spark_edges.setdefault(output["name"], []).append({d["name"] for d in event.get("inputs", [])})
            if "columnLineage" in output.get("facets", {}):
                column_lineage[output["name"]] = output["facets"]["columnLineage"]["fields"]
    expected = {"bronze/events": "landing/events"} | {f"gold/{name}": "silver/events" for name in GOLD_TABLES}
    for output, source in expected.items():
        writes = spark_edges[f"{lake}/{output}"]
        assert writes and all(inputs == {f"{lake}/{source}"} for inputs in writes), (output, writes)
    dau = column_lineage[f"{lake}/gold/daily_kpis"]["dau"]["inputFields"]
    assert {(f["name"], f["field"]) for f in dau} >= {(f"{lake}/silver/events", "user_key")}


def lineage(tmp_path: Path, file: str = "lineage.jsonl") -> list[dict]:
    return [json.loads(line) for line in (tmp_path / file).read_text().splitlines() if line]


def test_a_critical_failure_stops_the_pipeline_before_gold(tmp_path):
    # With a limit this strict, the generated malformed lines break bronze's critical
    # parse-failure share (the same limits as silver's quarantine share): the first gate.
    result = pipeline(tmp_path, EVENTLAKE_QUARANTINE_WARN_SHARE="0", EVENTLAKE_QUARANTINE_FAIL_SHARE="0.0001")
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("eventlake pipeline: bronze quality gate failed"), last
    assert "parse_failure_share" in last
    assert "Traceback" not in result.stderr
    lake = tmp_path / "lakehouse"
    assert (lake / "bronze/events/_delta_log").is_dir()
    assert not (lake / "silver").exists() and not (lake / "gold").exists()
    assert [(e["job"]["name"], e["eventType"]) for e in lineage(tmp_path)] == [
        ("eventlake.bronze", "START"), ("eventlake.bronze", "FAIL"),
    ]
