"""A catalog every process shares: the Hive metastore in a real PostgreSQL server
(EVENTLAKE_METASTORE_URL). The embedded Derby default lets one process at a time in."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from eventlake.config import Settings
from eventlake.generate import generate_traffic
from postgres_server import postgres_server
from process_output import failure_excerpt

pytestmark = pytest.mark.e2e


def test_jobs_and_queries_share_one_catalog_at_the_same_time(tmp_path):
    with postgres_server("metastore") as postgres:
        env = dict(
            os.environ,
            EVENTLAKE_LAKE_URI=str(tmp_path / "lakehouse"),
            EVENTLAKE_CATALOG_DIR=str(tmp_path / "catalog"),
            EVENTLAKE_SPARK_MASTER="local[1]",
            EVENTLAKE_METASTORE_URL=postgres.jdbc_url("metastore"),
            EVENTLAKE_METASTORE_USER=postgres.user,
            EVENTLAKE_METASTORE_PASSWORD=postgres.password,
        )
        generated = generate_traffic(Settings.from_env(env), events=300, days=1,
                                     start_date=date(2026, 11, 1), seed=8, fault_share=0)
        eventlake = [sys.executable, "-m", "eventlake.cli"]
        bronze = subprocess.run([*eventlake, "run", "bronze", "--skip-quality"], env=env,
                                capture_output=True, text=True, timeout=900)
        assert bronze.returncode == 0, failure_excerpt(bronze.stderr)

        # The run registered its table in PostgreSQL, as the metastore's own tables say.
        registered = postgres.psql(
            "metastore", 'SELECT d."NAME" || \'.\' || t."TBL_NAME" FROM "TBLS" t JOIN "DBS" d USING ("DB_ID")'
        ).split()
        assert "bronze.events" in registered

        # Two processes open the catalog at once (with Derby the second could not).
        query = [*eventlake, "sql", "SELECT count(*) AS n FROM bronze.events"]
        first, second = (subprocess.Popen(query, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                         for _ in range(2))
        for process in (first, second):
            out, err = process.communicate(timeout=900)
            assert process.returncode == 0, failure_excerpt(err)
            assert f"|{generated.lines}|" in out.replace(" ", "")
        # Nothing went to an embedded Derby.
        assert not (tmp_path / "catalog" / "metastore_db").exists()
