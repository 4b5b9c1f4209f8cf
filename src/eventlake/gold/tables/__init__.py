"""The gold registry: every table is a module here, `<name>.py` holding `TABLE = GoldTable(...)`.

A module holds all of its table: the aggregate, the grain, each column's type, meaning and
check, the table's own expectations and notes. From this registry come the gold suites
(expectations/gold.yaml) and the tables' reference in docs/gold.md, both rendered by
`python -m eventlake.gold.render` and checked by tests/gold/test_gold_registry.py, the catalog's
tables, and the Assets the Airflow DAGs emit (`eventlake.gold.table_names`). Adding a table is
adding its module and its test. Helpers several tables share live in `_`-prefixed modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from types import MappingProxyType

from eventlake.gold import table_names
from eventlake.gold.table import GoldColumn, GoldTable

__all__ = ["CONTRACT_TABLES", "GOLD_TABLES", "GoldColumn", "GoldTable"]


def _load() -> dict[str, GoldTable]:
    tables: dict[str, GoldTable] = {}
    for name in table_names():
        table = import_module(f"{__name__}.{name}").TABLE
        if table.name != name:
            raise ImportError(f"{__name__}.{name} defines the table {table.name!r}; name the module after its table")
        tables[name] = table
    return tables


GOLD_TABLES: Mapping[str, GoldTable] = MappingProxyType(_load())
# The ten tables contract §6 defines (an independent check compares them), by name.
CONTRACT_TABLES: tuple[str, ...] = tuple(name for name, table in GOLD_TABLES.items() if table.contract)
