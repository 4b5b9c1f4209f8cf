"""Fixtures shared by the tests of the DAGs' helper package (dags/eventlake_airflow)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture
def operator_env(monkeypatch, tmp_path):
    """`eventlake_airflow.common`, its spark-submit on a `local[1]` connection and on this
    venv's PATH, against a lake in tmp_path."""
    monkeypatch.syspath_prepend(str(DAGS))
    monkeypatch.setenv("AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[1]"}))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lakehouse"))
    from eventlake_airflow import common

    return common
