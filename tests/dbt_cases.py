"""dbt on gold, shared by tests/dbt and tests/s3: a tiny gold lake written with delta-rs (every
registry table, typed from its columns, empty but for the rows a test hands in), the rows of
the models worked out by hand from it, and `dbt build` run as docs/dbt.md says.

No JVM: the Delta log and Parquet files delta-rs writes for these types are what Spark's gold
job writes. dbt's target/ and logs/ go to the caller's folder, never the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from eventlake.gold.tables import GOLD_TABLES

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt"
# `make setup` makes dbt's venv and `make` exports where its dbt is; a bare pytest looks in
# the repository's .venv-dbt.
DBT = Path(os.environ.get("EVENTLAKE_DBT") or REPO / ".venv-dbt" / "bin" / "dbt")
ARROW_TYPES = {
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
    "long": pa.int64(),
    "double": pa.float64(),
}


def write_gold(
    lake: str, rows: Mapping[str, Sequence[Mapping[str, Any]]], storage_options: Mapping[str, str] | None = None,
) -> None:
    """Every gold table under `lake`/gold/<table> (a folder or s3://); `rows` fills some, the
    others stay empty."""
    unknown = set(rows) - set(GOLD_TABLES)
    assert not unknown, f"not gold tables: {unknown}"
    for name, table in GOLD_TABLES.items():
        schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in table.columns])
        data = pa.Table.from_pylist([dict(r) for r in rows.get(name, ())], schema=schema)
        write_deltalake(f"{lake}/gold/{name}", data, mode="overwrite", storage_options=dict(storage_options or {}))


def dbt_executable() -> Path:
    """dbt from its venv; without one, a skip saying how to get it (a failure under `make` or CI,
    which are meant to have made it)."""
    if not DBT.exists():
        if os.environ.get("EVENTLAKE_DBT") or os.environ.get("CI"):
            pytest.fail(f"no dbt at {DBT}: `make setup` makes dbt's venv (.venv-dbt)")
        pytest.skip(f"no dbt at {DBT}: run `make setup` (it makes .venv-dbt)")
    return DBT


D = date.fromisoformat


# Three ISO weeks: Mon 2026-03-02 .. Sun 03-08 and Mon 03-09 .. Sun 03-15 with some days, and
# Mon 03-16 .. Sun 03-22 with all seven (5 watchers, 1 hour, 1 session of 10 events a day).
KPIS = [
    dict(event_date=D("2026-03-02"), dau=4, mau_30d=10, engagement_rate=0.4, content_hours=2.0),
    dict(event_date=D("2026-03-03"), dau=6, mau_30d=12, engagement_rate=0.5, content_hours=4.0),
    dict(event_date=D("2026-03-08"), dau=2, mau_30d=12, engagement_rate=2 / 12, content_hours=1.0),
    dict(event_date=D("2026-03-09"), dau=8, mau_30d=14, engagement_rate=8 / 14, content_hours=6.0),
    dict(event_date=D("2026-03-11"), dau=4, mau_30d=15, engagement_rate=4 / 15, content_hours=3.0),
    *(dict(event_date=D(f"2026-03-{day}"), dau=5, mau_30d=16, engagement_rate=5 / 16, content_hours=1.0)
      for day in range(16, 23)),
]


def _dau(day: str, market: str, platform: str, users: int, sessions: int, events: int) -> dict[str, Any]:
    return dict(event_date=D(day), market=market, platform=platform, active_users=users, sessions=sessions,
                events=events)


ACTIVE = [
    _dau("2026-03-02", "DE", "web", 3, 5, 50), _dau("2026-03-02", "FR", "ios", 1, 2, 20),
    _dau("2026-03-03", "DE", "web", 6, 9, 90), _dau("2026-03-08", "DE", "web", 2, 2, 10),
    _dau("2026-03-09", "DE", "web", 5, 7, 70), _dau("2026-03-09", "unknown", "android", 3, 4, 30),
    _dau("2026-03-11", "FR", "ios", 4, 6, 40),
    *(_dau(f"2026-03-{day}", "DE", "tv", 5, 1, 10) for day in range(16, 23)),
]


def _content(day: str, content: str, kind: str, views: int, viewers: int, stops: int, completions: int,
             avg_ms: float | None) -> dict[str, Any]:
    return dict(event_date=D(day), content_id=content, content_type=kind, views=views, unique_viewers=viewers,
                stops=stops, completions=completions,
                completion_rate=completions / stops if stops else None, avg_watch_time_ms=avg_ms)


CONTENT = [
    _content("2026-03-02", "c1", "vod", 5, 4, 4, 2, 1_800_000),  # 4 stops of 30 min: 2 h
    _content("2026-03-03", "c1", "vod", 3, 3, 2, 2, 3_600_000),  # 2 of 1 h: 2 h
    _content("2026-03-02", "c2", "live", 6, 5, 0, 0, None),      # no stop: no watch time
    _content("2026-03-04", "c3", "vod", 8, 2, 1, 1, 7_200_000),  # 1 of 2 h
    _content("2026-03-09", "c2", "live", 2, 2, 2, 1, 900_000),   # 2 of 15 min: 0.5 h
    _content("2026-03-10", "c1", "vod", 2, 1, 1, 0, 1_800_000),  # 1 of 30 min: 0.5 h
]

# Worked out by hand from the rows above (docs of the models in dbt/models/marts/marts.yml).
ENGAGEMENT_WEEKLY = [
    # week 1: dau 4, 6, 2; MAU of Sunday 03-08; 7 h over 12 watcher-days; first week: no change.
    dict(week_start="2026-03-02", days_with_events=3, complete_week=False, avg_dau=4.0, peak_dau=6, mau_30d_at_week_end=12,
         content_hours=7.0, content_hours_per_active_user_day=7 / 12, sessions=18, events=170,
         avg_dau_change=None),
    # week 2: dau 8, 4; MAU of Wednesday 03-11; 9 h over 12; avg 6 against 4: +50 %.
    dict(week_start="2026-03-09", days_with_events=2, complete_week=False, avg_dau=6.0, peak_dau=8, mau_30d_at_week_end=15,
         content_hours=9.0, content_hours_per_active_user_day=0.75, sessions=17, events=140,
         avg_dau_change=0.5),
    # week 3, complete: 7 h over 35 watcher-days; avg 5 against 6.
    dict(week_start="2026-03-16", days_with_events=7, complete_week=True, avg_dau=5.0, peak_dau=5,
         mau_30d_at_week_end=16, content_hours=7.0, content_hours_per_active_user_day=0.2, sessions=7, events=70,
         avg_dau_change=5 / 6 - 1),
]
TOP_CONTENT_WEEKLY = [
    # c1 and c3 tie on 8 views: c1 has more completions (4 against 1).
    dict(week_start="2026-03-02", content_rank=1, content_id="c1", content_type="vod", views=8, viewer_days=7,
         stops=6, completions=4, completion_rate=4 / 6, watch_hours=4.0),
    dict(week_start="2026-03-02", content_rank=2, content_id="c3", content_type="vod", views=8, viewer_days=2,
         stops=1, completions=1, completion_rate=1.0, watch_hours=2.0),
    dict(week_start="2026-03-02", content_rank=3, content_id="c2", content_type="live", views=6, viewer_days=5,
         stops=0, completions=0, completion_rate=None, watch_hours=0.0),
    # c2 and c1 tie on 2 views: c2 has a completion, c1 none.
    dict(week_start="2026-03-09", content_rank=1, content_id="c2", content_type="live", views=2, viewer_days=2,
         stops=2, completions=1, completion_rate=0.5, watch_hours=0.5),
    dict(week_start="2026-03-09", content_rank=2, content_id="c1", content_type="vod", views=2, viewer_days=1,
         stops=1, completions=0, completion_rate=0.0, watch_hours=0.5),
]

# Reads the models with the DuckDB of dbt's venv (the file's format is that DuckDB's).
READ_MODELS = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
out = {}
for name in sys.argv[2:]:
    cur = con.execute(f"select * from analytics.{name} order by all")
    cols = [d[0] for d in cur.description]
    out[name] = [dict(zip(cols, row)) for row in cur.fetchall()]
print(json.dumps(out, default=str))
"""


def run_dbt(
    dbt: Path, work: Path, *args: str, env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`dbt build --project-dir dbt --profiles-dir dbt` from the repository root, as docs/dbt.md
    says, with the DuckDB file, target/ and logs/ under `work`; the lake is `work`/lake unless
    `env` says otherwise."""
    env = {
        **os.environ,
        "EVENTLAKE_LAKE_URI": str(work / "lake"),
        **(env or {}),
        "EVENTLAKE_DBT_DATABASE": str(work / "eventlake.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    return subprocess.run(
        [str(dbt), "build", "--project-dir", "dbt", "--profiles-dir", "dbt", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


def read_models(dbt: Path, work: Path, *names: str) -> dict[str, list[dict[str, Any]]]:
    done = subprocess.run([str(dbt.parent / "python"), "-c", READ_MODELS, str(work / "eventlake.duckdb"), *names],
                          capture_output=True, text=True, check=True, timeout=60)
    models: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return models


def rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in row.items()} for row in rows]
