"""`eventlake show gold.<table> [--date YYYY-MM-DD] [--limit N]`: a gold table for people.

Reads the Delta table with `deltalake` (no Spark, so it answers in a second), newest period
first, and prints an aligned text table: counts with thousands separators, ratios as
percentages, "-" for null.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta, timezone
from typing import Any

from eventlake.clock import parse_day
from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.gold.tables import GOLD_TABLES, GoldTable
from eventlake.lake import Lake, open_delta

RATIO_COLUMNS = ("_rate", "ctr")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help=f"gold.<table>: one of {', '.join(GOLD_TABLES)}")
    parser.add_argument(
        "--date", type=parse_day, metavar="YYYY-MM-DD",
        help="only that day (hourly tables: its hours; weekly tables: the week containing it)",
    )
    parser.add_argument("--limit", type=int, default=50, metavar="N", help="rows to print (default 50)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    table = gold_table(args.table)
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    rows, total = read_rows(settings, table, day=args.date, limit=args.limit)
    print(render(table, rows))
    scope = f" for {args.date}" if args.date else ""
    shown = f"{len(rows)} of {total}" if total > len(rows) else f"{total}"
    print(f"\ngold.{table.name}: {shown} row{'s' if total != 1 else ''}{scope}")
    return 0


def gold_table(name: str) -> GoldTable:
    short = name.removeprefix("gold.")
    if not name.startswith("gold.") or short not in GOLD_TABLES:
        raise UserError(f"unknown table {name!r}; try one of: gold.{', gold.'.join(GOLD_TABLES)}")
    return GOLD_TABLES[short]


def read_rows(
    settings: Settings, table: GoldTable, *, day: date | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` rows (newest period first, then by grain) and how many matched."""
    import pyarrow as pa
    import pyarrow.compute as pc
    stored = open_delta(settings, Lake.from_settings(settings).gold(table.name).path)
    if stored is None:
        raise UserError(
            f"gold.{table.name} has not been built yet (run `eventlake pipeline` or "
            "`eventlake run gold`)"
        )
    dataset = stored.to_pyarrow_dataset()
    condition = None
    if day is not None:
        column = table.period_column
        field_type = dataset.schema.field(column).type
        if table.period == "hour":
            first = datetime(day.year, day.month, day.day)
            bounds: tuple[datetime, ...] = (first, first + timedelta(days=1))
            if getattr(field_type, "tz", None):
                bounds = tuple(b.replace(tzinfo=timezone.utc) for b in bounds)
            start, end = (pa.scalar(b, type=field_type) for b in bounds)
            condition = (pc.field(column) >= start) & (pc.field(column) < end)
        else:
            period = table.period_of(day)
            condition = pc.field(column) == pa.scalar(period, type=field_type)
    found = dataset.to_table(filter=condition)
    order = [(table.period_column, "descending")] + [(c, "ascending") for c in table.grain[1:]]
    found = found.sort_by(order)
    return found.slice(0, limit).to_pylist(), found.num_rows


def render(table: GoldTable, rows: list[dict[str, Any]]) -> str:
    names = table.column_names
    cells = [[_format(name, row.get(name)) for name in names] for row in rows]
    numeric = [
        any(isinstance(row.get(name), (int, float)) and not isinstance(row.get(name), bool) for row in rows)
        for name in names
    ]
    widths = [max([len(name)] + [len(c[i]) for c in cells]) for i, name in enumerate(names)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric)
        ).rstrip()

    out = [line(names), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _format(name: str, value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if name.endswith(RATIO_COLUMNS):
            return f"{value:.1%}"
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M" if name == "event_hour" else "%Y-%m-%d %H:%M:%S")
    return str(value)
