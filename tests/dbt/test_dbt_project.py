"""dbt on gold: the real `dbt build` (dbt-core + dbt-duckdb, from dbt's own venv) over a tiny
gold lake of Delta tables, its two models' rows against rows worked out by hand, and a gold
table breaking its grain failing the build by that test's name (cases: tests/dbt_cases.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dbt_cases import (
    ACTIVE, CONTENT, ENGAGEMENT_WEEKLY, KPIS, PROJECT, TOP_CONTENT_WEEKLY, dbt_executable, read_models, rounded,
    run_dbt, write_gold,
)

from eventlake.gold.tables import GOLD_TABLES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dbt() -> Path:
    return dbt_executable()


def test_dbt_build_models_gold_as_worked_out_by_hand(dbt, tmp_path):
    write_gold(str(tmp_path / "lake"), {"daily_kpis": KPIS, "daily_active_users": ACTIVE, "content_engagement": CONTENT})
    done = run_dbt(dbt, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    # Every gold table's grain was tested (the other tables are empty), then both models built.
    for name in GOLD_TABLES:
        assert f"PASS gold_{name}_grain" in done.stdout
    assert "ERROR=0" in done.stdout and "SKIP=0" in done.stdout
    models = read_models(dbt, tmp_path, "engagement_weekly", "top_content_weekly")
    assert rounded(models["engagement_weekly"]) == rounded(ENGAGEMENT_WEEKLY)
    assert rounded(models["top_content_weekly"]) == rounded(TOP_CONTENT_WEEKLY)
    # Nothing of dbt's in the repository: target/ and logs/ went to the temporary folder.
    assert (tmp_path / "target" / "manifest.json").exists() and (tmp_path / "logs" / "dbt.log").exists()
    assert not (PROJECT / "target").exists() and not (PROJECT / "logs").exists()


def test_a_gold_table_breaking_its_grain_fails_the_build_by_name(dbt, tmp_path):
    duplicate = dict(KPIS[1], dau=5)  # a second row for 2026-03-03
    write_gold(str(tmp_path / "lake"),
               {"daily_kpis": [*KPIS, duplicate], "daily_active_users": ACTIVE, "content_engagement": CONTENT})
    # The limit of the ranking is a var: 1 keeps each week's top item only.
    done = run_dbt(dbt, tmp_path, "--vars", "{top_content_limit: 1}")
    assert done.returncode != 0
    assert "FAIL 1 gold_daily_kpis_grain" in done.stdout, done.stdout[-4000:]
    assert "PASS gold_daily_active_users_grain" in done.stdout
    # The model reading the broken table is skipped; the other one still builds.
    assert "SKIP relation analytics.engagement_weekly" in done.stdout, done.stdout[-4000:]
    models = read_models(dbt, tmp_path, "top_content_weekly")
    assert rounded(models["top_content_weekly"]) == rounded([r for r in TOP_CONTENT_WEEKLY if r["content_rank"] == 1])


def test_the_sources_are_the_gold_registry():
    """dbt's sources name every gold table with the registry's columns, types and comments, at
    the table's lake path (the file is rendered from the registry; this reads it back)."""
    text = (PROJECT / "models" / "gold" / "sources.yml").read_text("utf-8")
    (source,) = yaml.safe_load(text)["sources"]
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == list(GOLD_TABLES)
    for name, table in GOLD_TABLES.items():
        entry = tables[name]
        assert [(c["name"], c["data_type"], c["description"]) for c in entry["columns"]] == [
            (c.name, c.type, c.comment) for c in table.columns
        ]
        assert entry["meta"]["plugin"] == "delta"
        assert entry["meta"]["delta_table_path"].endswith(f"}}}}/gold/{name}")
        (grain_test,) = entry["data_tests"]
        assert grain_test["grain"]["arguments"]["columns"] == list(table.grain)
