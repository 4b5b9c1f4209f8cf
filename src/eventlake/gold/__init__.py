"""Gold: the aggregates BI reads, one module per table under `eventlake.gold.tables`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eventlake.errors import UserError


def table_names() -> tuple[str, ...]:
    """Every gold table's name, sorted: the public modules of `eventlake.gold.tables`.

    Read from the folder, not by importing the registry (which imports pyspark), so that
    Airflow's DAG files can name every table's Asset while they are parsed.
    """
    folder = Path(__file__).with_name("tables")
    return tuple(sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")))


def checked_table_names(names: Sequence[str]) -> list[str]:
    """`names` (`daily_kpis` or `gold.daily_kpis`) as table names; a UserError naming the
    unknown ones. Light like `table_names`, so a command can refuse a typo before any JVM."""
    known = table_names()
    unknown = [name for name in names if name.removeprefix("gold.") not in known]
    if unknown:
        raise UserError(f"unknown gold table {', '.join(unknown)}; known: {', '.join(known)}")
    return [name.removeprefix("gold.") for name in names]
