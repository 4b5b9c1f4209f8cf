"""The lake bench at a tiny N: eventlake's tables equal the independent DuckDB implementation's.

One in-process run on the session's Spark (quality gates, the CLI runs and the Airflow runs
off: they add minutes and prove nothing about agreement). The DuckDB side is written from
the contract (bench/duckdb_lake.py), so an agreement here is two implementations meeting,
not one checking itself; a tampered reference must be caught, or the comparison would prove
nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import duckdb_lake, lake_bench  # noqa: E402

pytestmark = pytest.mark.e2e

EVENTS, DAYS = 1_000, 2


@pytest.fixture(scope="module")
def results(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("lake-bench")
    figures = lake_bench.bench(spark, root, events=EVENTS, scale=1, days=DAYS, quality=False,
                               cli_idle=False, cli_hour=False, airflow_hour=False, catalog=False,
                               salt="bench-test-salt", log=lambda _: None)
    return root, figures


def test_duckdb_reference_agrees_with_eventlake(results):
    _, figures = results
    agreement = figures["n"]["agreement"]
    counts = figures["n"]["duckdb"]["counts"]
    # Essential events without analytics consent are kept by both sides (contract §5 rule 5).
    assert counts["essential_kept_without_analytics"] > 0
    tables = {k: v for k, v in agreement.items() if isinstance(v, dict)}
    assert len([k for k in tables if k.startswith("gold.")]) == 10
    for name, v in tables.items():
        assert v["eventlake"] == v["duckdb"], name
        assert v.get("differing_rows", 0) == 0, name
    assert agreement["quarantine"]["by_reason_equal"]
    assert agreement["agree"] is True
    assert counts["bronze"] == EVENTS and counts["accounted"]
    assert counts["silver"] > 0 and counts["quarantine"] > 0  # the generator's faults reached both sides


def test_figures_are_reported(results):
    _, figures = results
    n = figures["n"]
    for run in ("full", "idle", "incremental_hour"):
        assert {f"{layer}_s" for layer in lake_bench.LAYERS} <= set(n[run]), run
        assert n[run]["total_s"] > 0
    assert n["hour_lines"] > 0
    assert n["full"]["summaries"]["bronze"]["lines_ingested"] == EVENTS
    assert n["idle"]["summaries"]["bronze"]["lines_ingested"] == 0  # the idle run found nothing new
    assert n["incremental_hour"]["summaries"]["bronze"]["lines_ingested"] == n["hour_lines"]
    assert figures["peak_rss_gib"] > 0 and len(figures["load_average_end"]) == 3
    text = lake_bench.report(figures)
    assert "agrees with eventlake: " in text and "DuckDB s" in text
    json.dumps(figures, default=str)  # the --json file can hold every figure


def test_comparison_catches_a_wrong_table(results):
    root, _ = results
    settings = lake_bench.settings_for(root / f"n{EVENTS}", "bench-test-salt")
    duck = duckdb_lake.build(Path(settings.lake_root) / "landing", salt=settings.pseudonym_salt)
    duck.connection.execute(
        "DELETE FROM gold_event_metrics_daily WHERE rowid = (SELECT min(rowid) FROM gold_event_metrics_daily)")
    agreement = lake_bench.compare(duck, settings)
    table = agreement["gold.event_metrics_daily"]
    assert table["differing_rows"] == 1 and table["duckdb"] == table["eventlake"] - 1
    assert agreement["agree"] is False
