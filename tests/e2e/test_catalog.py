"""The Spark catalog: after a run, `spark-sql -e 'SELECT … FROM silver.events'` works."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.spark import spark_defaults_text
from process_output import failure_excerpt

pytestmark = pytest.mark.e2e


def test_tables_are_registered_for_eventlake_sql_and_spark_sql(tmp_path):
    env = dict(
        os.environ,
        EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
        EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"),
        EVENTLAKE_SPARK_MASTER="local[2]",
    )
    settings = Settings.from_env(env)
    generated = generate_traffic(settings, events=400, days=1, start_date=date(2026, 11, 1), seed=5, fault_share=0)
    eventlake = [sys.executable, "-m", "eventlake.cli"]
    for layer in ("bronze", "silver"):
        subprocess.run([*eventlake, "run", layer, "--skip-quality"], env=env, check=True,
                       capture_output=True, timeout=900)

    query = subprocess.run(
        [*eventlake, "sql", "SELECT count(*) AS n FROM bronze.events"],
        env=env, check=True, capture_output=True, text=True, timeout=600,
    )
    assert f"|{generated.lines}" in query.stdout.replace(" ", "")

    conf_dir = tmp_path / "spark-conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text(spark_defaults_text(settings))
    venv_bin = str(Path(sys.executable).parent)
    spark_sql = shutil.which("spark-sql", path=venv_bin)
    result = subprocess.run(
        [spark_sql, "-S", "-e", "SELECT count(*) FROM silver.events"],
        env=dict(env, SPARK_CONF_DIR=str(conf_dir), PATH=f"{venv_bin}{os.pathsep}{env['PATH']}"), capture_output=True, text=True, timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, failure_excerpt(result.stderr)
    assert result.stdout.strip().splitlines()[-1] == str(generated.expected_silver)


def test_a_bad_query_is_one_line_and_a_non_zero_exit(tmp_path):
    env = dict(os.environ, EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
               EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"), EVENTLAKE_SPARK_MASTER="local[1]")
    result = subprocess.run([sys.executable, "-m", "eventlake.cli", "sql", "SELEC nonsense"],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("eventlake sql: query failed:")
    assert "Traceback" not in result.stderr


def test_a_busy_catalog_is_one_line_for_a_query_and_for_gold_ddl_and_a_warning_for_a_run(tmp_path):
    """The embedded Derby catalog admits one process: while another holds it, `eventlake sql`
    says so in one line (exit 75, try again); a run writes bronze and silver and warns that
    they are not registered; gold's first build, DDL that Spark resolves through the catalog
    even on a path, stops before computing anything, in one line with exit 75."""
    env = dict(os.environ, EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
               EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"), EVENTLAKE_SPARK_MASTER="local[1]")
    generate_traffic(Settings.from_env(env), events=200, days=1, start_date=date(2026, 11, 1), seed=6, fault_share=0)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from eventlake.config import Settings\n"
         "from eventlake.spark import build_spark_session\n"
         "spark = build_spark_session(Settings.from_env(), 'holder', catalog=True)\n"
         "spark.sql('SHOW DATABASES').collect()\n"
         "print('holding', flush=True)\n"
         "sys.stdin.read()\n"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        eventlake = [sys.executable, "-m", "eventlake.cli"]
        query = subprocess.run([*eventlake, "sql", "SELECT 1"], env=env, capture_output=True, text=True, timeout=600)
        assert query.returncode == 75, failure_excerpt(query.stderr)
        last = query.stderr.strip().splitlines()[-1]
        assert last.startswith("eventlake sql: the catalog cannot be opened"), last
        assert "Traceback" not in query.stderr
        # Nor a Java stack trace per metastore attempt (there were 16,000 lines of them).
        assert "\tat org." not in query.stderr, failure_excerpt(query.stderr)

        run = subprocess.run([*eventlake, "run", "bronze", "--skip-quality"], env=env,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, failure_excerpt(run.stderr)
        assert "catalog: tables not registered this time" in run.stderr
        assert "\tat org." not in run.stderr, failure_excerpt(run.stderr)

        run = subprocess.run([*eventlake, "pipeline", "--skip-quality"], env=env,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 75, failure_excerpt(run.stderr)
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith("eventlake pipeline: the whole-table build of gold.") and "cannot be opened" in last, last
        assert "Traceback" not in run.stderr and "\tat org." not in run.stderr, failure_excerpt(run.stderr)
        for layer in ("bronze", "silver"):
            assert (tmp_path / "lakehouse" / layer / "events" / "_delta_log").is_dir()
        assert not list((tmp_path / "lakehouse").glob("gold/*/_delta_log"))
    finally:
        holder.communicate(input="", timeout=120)
