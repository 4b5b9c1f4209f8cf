"""The gold registry is the one source of each table's shape: its module is found by name,
and the suites, the reference in docs/gold.md and the DAGs' Assets follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from eventlake.gold import render, table_names
from eventlake.gold.table import NON_NEGATIVE, RATIO
from eventlake.gold.tables import CONTRACT_TABLES, GOLD_TABLES
from eventlake.quality.suites import load_layer

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
# Contract §6's tables, written out here: the registry's `contract` flags must say the same.
CONTRACT = {
    "daily_active_users", "daily_kpis", "content_engagement", "qoe_summary", "search_performance",
    "track_hourly", "track_daily", "user_activity_daily", "event_metrics_daily", "event_metrics_weekly",
}


def test_every_module_is_a_table_named_after_it():
    modules = sorted(p.stem for p in (REPO / "src/eventlake/gold/tables").glob("[!_]*.py"))
    assert list(table_names()) == modules
    assert list(GOLD_TABLES) == modules
    assert all(GOLD_TABLES[name].name == name for name in modules)
    assert set(CONTRACT_TABLES) == CONTRACT


def test_the_rendered_suites_and_reference_are_current():
    assert render.stale() == [], "run `python -m eventlake.gold.render`"


def test_every_table_has_a_suite_checking_grain_measures_and_ratios():
    suites = {s.name: s for s in load_layer("gold").suites}
    for name, table in GOLD_TABLES.items():
        suite = suites[f"gold.{name}"]
        assert suite.table == f"gold.{name}"
        checks = {e.name: e for e in suite.expectations}
        assert checks["grain_unique"].severity == "critical"
        assert {f"{g}_not_null" for g in table.grain} <= set(checks)
        for column in table.columns:
            if column.type == "long" and column.name not in table.grain:
                # Every count is a non-negative measure.
                assert column.check == NON_NEGATIVE, (name, column.name)
            if column.check == NON_NEGATIVE:
                assert checks[f"{column.name}_non_negative"].kwargs == {"column": column.name, "min_value": 0}
            if column.check == RATIO:
                assert checks[f"{column.name}_in_0_1"].kwargs == {
                    "column": column.name, "min_value": 0, "max_value": 1,
                }
            if re.search(r"(_rate|^ctr)$", column.name):
                # A ratio is bounded: critically when it cannot exceed 1, else by a warning.
                bound = checks.get(f"{column.name}_in_0_1")
                assert bound is not None and bound.kwargs["max_value"] == 1, (name, column.name)


def test_the_reference_documents_every_column_of_every_table():
    doc = (REPO / "docs/gold.md").read_text("utf-8")
    for name, table in GOLD_TABLES.items():
        section = doc.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
        assert documented == table.column_names, name


def test_the_suites_file_parses_to_the_registry_suites():
    document = yaml.safe_load((REPO / "expectations/gold.yaml").read_text("utf-8"))
    from_file = {s["name"]: s for s in document["suites"]}
    for name, table in GOLD_TABLES.items():
        assert from_file[f"gold.{name}"] == table.suite()


def test_render_check_fails_on_a_stale_part(tmp_path, monkeypatch):
    stale_doc = tmp_path / "gold.md"
    stale_doc.write_text(f"before\n{render.REFERENCE.begin}\nold text\n{render.REFERENCE.end}\nafter\n", "utf-8")
    suites = tmp_path / "gold.yaml"
    suites.write_text(render.SUITES.path.read_text("utf-8"), "utf-8")  # never the repository's
    monkeypatch.setattr(render, "REFERENCE", render.Generated(stale_doc, render.REFERENCE.begin, render.REFERENCE.end))
    monkeypatch.setattr(render, "SUITES", render.Generated(suites, render.SUITES.begin, render.SUITES.end))
    sources = tmp_path / "sources.yml"
    sources.write_text(render.DBT_SOURCES.path.read_text("utf-8"), "utf-8")  # nor dbt's
    monkeypatch.setattr(render, "DBT_SOURCES", render.Generated(sources, render.DBT_SOURCES.begin, render.DBT_SOURCES.end))
    assert render.main(["--check"]) == 1
    assert render.main([]) == 0  # rewrites the part, keeps the text around it
    text = stale_doc.read_text("utf-8")
    assert text.startswith("before\n") and text.endswith(f"{render.REFERENCE.end}\nafter\n")
    assert "old text" not in text and "### daily_kpis" in text
    assert render.main(["--check"]) == 0
