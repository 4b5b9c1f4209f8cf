"""`eventlake serve-sql`: a real Spark Thrift server, queried with PyHive (HiveServer2 over
Thrift with SASL PLAIN), the client BI tools' Hive drivers speak the protocol of."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from pyhive import hive as pyhive

from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.gold.show import read_rows
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from eventlake.pipeline import run_pipeline
from process_output import failure_excerpt
from reaper import reap_on_exit, stop

pytestmark = pytest.mark.e2e

USER, PASSWORD = "analyst", "correct horse battery staple"
LATE_TABLE = "track_hourly"  # kept away at the start, to show that a refresh finds it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served_lake(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("bi")
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(root / "lakehouse")})
    generate_traffic(settings, events=400, days=2, start_date=date(2026, 11, 1), seed=17, fault_share=0)
    run_pipeline(spark, settings, run_id="bi", quality=False)
    late = Path(Lake.from_settings(settings).gold(LATE_TABLE).path)
    parked = root / "parked"
    late.rename(parked)

    port = free_port()
    env = dict(
        os.environ, EVENTLAKE_LAKE_URI=settings.lake_uri, EVENTLAKE_SPARK_MASTER="local[2]",
        EVENTLAKE_SQL_USER=USER, EVENTLAKE_SQL_PASSWORD=PASSWORD,
    )
    log = root / "serve-sql.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "eventlake.cli", "serve-sql", "--port", str(port), "--refresh-seconds", "1"],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=root,
        )
    # Without the watchdog the server would outlive a SIGKILLed pytest.
    with reap_on_exit(["kill", "-TERM", str(server.pid)]):
        try:
            deadline = time.monotonic() + 600
            while "eventlake serve-sql: jdbc:hive2://" not in log.read_text():
                assert server.poll() is None, failure_excerpt(log.read_text())
                assert time.monotonic() < deadline, "serve-sql did not start in 600 s"
                time.sleep(1)
            yield settings, port, late, parked, log
        finally:
            stop(server, timeout=60)


def connect(port: int, *, user: str = USER, password: str = PASSWORD):
    return pyhive.connect(host="127.0.0.1", port=port, username=user, password=password, auth="CUSTOM")


def canonical(value: Any, type_name: str | None = None) -> Any:
    """One spelling per value for both clients: dates and UTC timestamps as ISO text, floats
    rounded at 9 places (the wire carries doubles in text)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, Decimal)):
        return round(float(value), 9)
    if type_name == "TIMESTAMP_TYPE" and isinstance(value, str):
        return datetime.fromisoformat(value).isoformat(sep=" ")
    return value


def test_every_gold_table_reads_as_eventlake_show_reads_it(served_lake):
    settings, port, late, parked, _ = served_lake
    cursor = connect(port).cursor()
    cursor.execute("SHOW TABLES IN gold")
    assert {row[1] for row in cursor.fetchall()} == set(GOLD_TABLES) - {LATE_TABLE}

    checked = 0
    for name, table in GOLD_TABLES.items():
        if name == LATE_TABLE:
            continue
        expected, total = read_rows(settings, table, limit=10**6)
        cursor.execute(f"SELECT * FROM gold.{name}")
        columns = [(d[0], d[1]) for d in cursor.description]
        assert [c for c, _ in columns] == table.column_names
        got = [
            {c: canonical(v, t) for (c, t), v in zip(columns, row)} for row in cursor.fetchall()
        ]
        wanted = [{c: canonical(v) for c, v in row.items()} for row in expected]
        key = lambda row: repr(sorted(row.items()))  # noqa: E731
        assert sorted(got, key=key) == sorted(wanted, key=key), name
        assert len(got) == total
        checked += total
    assert checked > 50  # the traffic reached gold

    # What a BI tool shows next to a table and its columns: the registry's documentation.
    for name, table in GOLD_TABLES.items():
        if name == LATE_TABLE:
            continue
        cursor.execute(f"DESCRIBE TABLE EXTENDED gold.{name}")
        rows = cursor.fetchall()
        columns = rows[: [row[0] for row in rows].index("")]  # the columns, then a blank row
        assert {row[0]: row[2] for row in columns} == table.comments, name
        assert ("Comment", table.description) in {(row[0], row[1]) for row in rows}, name


def test_a_table_written_after_the_start_is_served_on_the_next_refresh(served_lake):
    _, port, late, parked, _ = served_lake
    cursor = connect(port).cursor()
    parked.rename(late)  # as if gold had just written it
    deadline = time.monotonic() + 120
    while True:
        cursor.execute("SHOW TABLES IN gold")
        if LATE_TABLE in {row[1] for row in cursor.fetchall()}:
            break
        assert time.monotonic() < deadline, f"gold.{LATE_TABLE} not served 120 s after it appeared"
        time.sleep(1)
    cursor.execute(f"SELECT count(*) FROM gold.{LATE_TABLE}")
    assert cursor.fetchall()[0][0] == DeltaTable(str(late)).to_pyarrow_table().num_rows > 0


@pytest.mark.parametrize("statement", [
    "INSERT INTO gold.daily_kpis SELECT * FROM gold.daily_kpis",
    "DELETE FROM gold.daily_kpis",
    "UPDATE gold.daily_kpis SET dau = 0",
    "MERGE INTO gold.daily_kpis t USING gold.daily_kpis s ON t.event_date = s.event_date "
    "WHEN MATCHED THEN DELETE",
    "DROP TABLE gold.daily_kpis",
    "ALTER TABLE gold.daily_kpis SET TBLPROPERTIES ('team' = 'bi')",
    "CREATE TABLE gold.mine (a INT) USING DELTA",
    "OPTIMIZE gold.daily_kpis",
    "VACUUM gold.daily_kpis",
    "TRUNCATE TABLE gold.daily_kpis",
    "CREATE TEMPORARY VIEW mine AS SELECT 1",
    "ADD JAR /tmp/anything.jar",
    "SET spark.sql.runSQLOnFiles = true",
    "SELECT reflect('java.lang.System', 'getProperty', 'user.home')",
    "SELECT * FROM gold.daily_kpis WHERE dau IN (SELECT java_method('java.lang.Math', 'abs', 1))",
    "SELECT TRANSFORM(dau) USING 'cat' FROM gold.daily_kpis",
])
def test_statements_that_change_anything_are_refused(served_lake, statement):
    settings, port, *_ = served_lake
    path = Lake.from_settings(settings).gold("daily_kpis").path
    before = DeltaTable(path).version(), DeltaTable(path).to_pyarrow_table()
    cursor = connect(port).cursor()
    with pytest.raises(pyhive.OperationalError) as refused:
        cursor.execute(statement)
        cursor.fetchall()
    assert "eventlake's SQL endpoint is read-only" in str(refused.value)
    assert (DeltaTable(path).version(), DeltaTable(path).to_pyarrow_table()) == before
    cursor.execute("SHOW TABLES IN gold")  # the connection is still usable
    assert "daily_kpis" in {row[1] for row in cursor.fetchall()}


@pytest.mark.parametrize("statement", [
    "SHOW TABLES IN bronze",
    "SELECT * FROM bronze.events",
    "SELECT * FROM silver.quarantine",
    "SELECT * FROM silver.events",
])
def test_only_gold_is_served(served_lake, statement):
    """Bronze and the quarantine hold raw identifiers, silver a row per event and person."""
    _, port, *_ = served_lake
    cursor = connect(port).cursor()
    with pytest.raises(pyhive.OperationalError, match="NOT_FOUND"):
        cursor.execute(statement)


@pytest.mark.parametrize("reader", ["delta", "parquet"])
def test_bronze_is_not_reachable_by_path(served_lake, reader):
    """Reading files by path is off, and turning it on is refused (above)."""
    settings, port, *_ = served_lake
    bronze = Lake.from_settings(settings).bronze_events.path
    cursor = connect(port).cursor()
    with pytest.raises(pyhive.OperationalError, match="TABLE_OR_VIEW_NOT_FOUND"):
        cursor.execute(f"SELECT * FROM {reader}.`{bronze}`")


def test_reading_statements_answer(served_lake):
    _, port, *_ = served_lake
    cursor = connect(port).cursor()
    cursor.execute("SHOW DATABASES")
    assert {row[0] for row in cursor.fetchall()} == {"default", "gold"}
    cursor.execute("USE gold")
    cursor.execute("SELECT count(*) FROM daily_kpis")
    assert cursor.fetchall()[0][0] > 0
    cursor.execute("DESCRIBE HISTORY gold.daily_kpis")
    assert cursor.fetchall()
    cursor.execute("SET spark.sql.session.timeZone")
    assert cursor.fetchall() == [("spark.sql.session.timeZone", "UTC")]


@pytest.mark.parametrize(("user", "password"), [(USER, "wrong"), ("someone", PASSWORD), (USER, "")])
def test_a_wrong_user_or_password_is_refused(served_lake, user, password):
    _, port, *_ = served_lake
    with pytest.raises(Exception, match="Error validating the login"):
        connect(port, user=user, password=password)


def test_no_password_no_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "EVENTLAKE_SQL_PASSWORD"}
    result = subprocess.run(
        [sys.executable, "-m", "eventlake.cli", "serve-sql"],
        env=dict(env, EVENTLAKE_LAKE_URI=str(tmp_path / "lake")), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "eventlake serve-sql: set EVENTLAKE_SQL_PASSWORD (and EVENTLAKE_SQL_USER, default 'bi'): "
        "the SQL endpoint never serves without authentication"
    ]
