"""Fixtures: the edge-case silver rows, one lake built from them, private copies of it."""

from __future__ import annotations

import pytest

from eventlake.lake import Lake
from goldcases import edge_case_rows, lake_settings
from goldrows import write_silver


@pytest.fixture(scope="session")
def edge_rows() -> list[dict]:
    return edge_case_rows()


@pytest.fixture(scope="session")
def built(spark, edge_rows, tmp_path_factory):
    """(settings, GoldRun): every gold table built once from the edge-case silver rows.

    Read-only for tests; a test that changes the lake works on `copy_of_built`.
    """
    from eventlake.gold.build import build_gold

    settings = lake_settings(tmp_path_factory.mktemp("gold"))
    write_silver(spark, Lake.from_settings(settings).silver_events.path, edge_rows)
    return settings, build_gold(spark, settings, run_id="first")


@pytest.fixture
def copy_of_built(built, tmp_path):
    """A private copy of the built lake (Delta logs hold relative paths, so it just works)."""
    import shutil

    settings, _ = built
    shutil.copytree(settings.lake_root, tmp_path / "lakehouse")
    return lake_settings(tmp_path)
