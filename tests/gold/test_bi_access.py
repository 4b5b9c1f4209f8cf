"""Gold as BI sees it: the catalog with column comments, readers without Spark (deltalake,
DuckDB, Polars) and `eventlake show`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable

from eventlake.errors import UserError
from eventlake.gold import show
from eventlake.gold.tables import GOLD_TABLES
from eventlake.lake import Lake
from goldcases import D0

pytestmark = pytest.mark.unit


def _canonical(rows: list[dict], columns: list[str]) -> list[tuple]:
    def value(v):
        if isinstance(v, datetime):  # naive values from readers are UTC
            return v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)
        return v

    return sorted((tuple(value(r[c]) for c in columns) for r in rows), key=repr)


@pytest.mark.parametrize("name", ["qoe_summary", "daily_kpis", "user_activity_daily"])
def test_readers_without_spark_see_what_spark_sees(spark, built, name):
    settings, _ = built
    path = Lake.from_settings(settings).gold(name).path
    columns = GOLD_TABLES[name].column_names
    with_spark = _canonical(spark.read.format("delta").load(path).toArrow().to_pylist(), columns)
    assert with_spark

    table = DeltaTable(path)
    by_deltalake = _canonical(table.to_pyarrow_table().to_pylist(), columns)
    dataset = table.to_pyarrow_dataset()  # noqa: F841 (DuckDB's SQL below finds it by name): the live files only
    by_duckdb = _canonical(
        duckdb.sql("SELECT * FROM dataset").fetch_arrow_table().to_pylist(), columns
    )
    by_polars = _canonical(pl.read_delta(path).to_dicts(), columns)

    assert by_deltalake == with_spark
    assert by_duckdb == with_spark
    assert by_polars == with_spark


def test_tables_are_in_the_catalog_with_column_comments(spark, built):
    from eventlake.catalog import register_tables

    settings, _ = built
    # As `eventlake run gold` and `eventlake pipeline` do after their gold layer.
    registered = register_tables(spark, settings, database="gold")
    assert sorted(registered) == sorted(f"gold.{name}" for name in GOLD_TABLES)
    for name, table in GOLD_TABLES.items():
        described = {
            r.col_name: r.comment
            for r in spark.sql(f"DESCRIBE TABLE gold.{name}").collect()
            if r.col_name and not r.col_name.startswith("#")
        }
        assert described == table.comments, name
    assert spark.sql(
        f"SELECT dau, mau_30d FROM gold.daily_kpis WHERE event_date = DATE'{D0}'"
    ).collect() == [(6, 6)]


def _show(settings, capsys, *argv: str) -> str:
    parser = argparse.ArgumentParser()
    show.configure(parser)
    assert show.main(parser.parse_args(list(argv)), settings) == 0
    return capsys.readouterr().out


def test_show_prints_an_aligned_table(built, capsys):
    settings, _ = built
    out = _show(settings, capsys, "gold.search_performance", "--date", str(D0))
    assert out.splitlines() == [
        "event_date  market   queries  zero_result_queries  result_clicks  successful_queries  success_rate",
        "----------  -------  -------  -------------------  -------------  ------------------  ------------",
        "2024-03-04  DE             5                    1              1                   3         60.0%",
        "2024-03-04  unknown        1                    1              0                   0          0.0%",
        "",
        "gold.search_performance: 2 rows for 2024-03-04",
    ]


def test_show_limits_rows_newest_first(built, capsys):
    settings, _ = built
    out = _show(settings, capsys, "gold.daily_kpis", "--limit", "2")
    lines = out.splitlines()
    assert lines[2].startswith("2024-04-13") and lines[3].startswith("2024-04-03")
    assert lines[-1] == "gold.daily_kpis: 2 of 6 rows"


def test_show_rejects_unknown_tables_and_unbuilt_lakes(settings):
    with pytest.raises(UserError, match="unknown table 'gold.nope'"):
        show.gold_table("gold.nope")
    with pytest.raises(UserError, match="has not been built yet"):
        show.read_rows(settings, GOLD_TABLES["daily_kpis"])
