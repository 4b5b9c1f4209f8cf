"""Gold: the aggregates BI reads, one module per table under `eventlake.gold.tables`."""

from __future__ import annotations

from pathlib import Path


def table_names() -> tuple[str, ...]:
    """Every gold table's name, sorted: the public modules of `eventlake.gold.tables`.

    Read from the folder, not by importing the registry (which imports pyspark), so that
    Airflow's DAG files can name every table's Asset while they are parsed.
    """
    folder = Path(__file__).with_name("tables")
    return tuple(sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")))
