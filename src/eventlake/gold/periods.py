"""Sets of dates as the few contiguous ranges Delta predicates and people can read.

Gold tables are rebuilt by period (a day, an ISO week, the hours of a day). A run works on
a set of such periods; this module turns the set into SQL predicates on the gold table's
period column and on silver's `event_date`, so partition pruning and `replaceWhere` both see
simple range conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

# Who reads a predicate: Spark SQL, or delta-rs (DataFusion SQL), which writes gold's period
# rebuilds. They differ in one literal: DataFusion's TIMESTAMP'...' is a time zone-less
# nanosecond value it will not compare with a UTC timestamp column; a plain ISO 8601 string
# with its zone is cast to the column's type.
Dialect = Literal["spark", "delta-rs"]


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, held within the calendar (0001-01-01 .. 9999-12-31).

    Silver may hold events on the first or last day a timestamp can (contract §5 rule 2
    refuses only what cannot be held); a window around them simply ends at the calendar's
    edge, where there are no other days to affect or read.
    """
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.min if days < 0 else date.max


def monday(day: date) -> date:
    """The ISO week's first day (Monday) of `day`."""
    return day - timedelta(days=day.weekday())


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def date_ranges(days: Iterable[date], *, step: int = 1) -> list[tuple[date, date]]:
    """Sorted, merged (first, last) runs of dates that are `step` days apart."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and (day - ranges[-1][1]).days <= step:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def date_predicate(column: str, days: Iterable[date], *, step: int = 1) -> str:
    """`column` (a DATE) in `days`, as ORed closed ranges; `false` for no days."""
    parts = [
        f"({column} >= DATE'{first}' AND {column} <= DATE'{last}')"
        for first, last in date_ranges(days, step=step)
    ]
    return " OR ".join(parts) if parts else "false"


def hour_predicate(column: str, days: Iterable[date], *, dialect: Dialect = "spark") -> str:
    """`column` (an hour TIMESTAMP, UTC) within the given days, as half-open ranges (the
    calendar's last day has no day after it: that range is open above)."""

    def midnight(day: date) -> str:
        return f"TIMESTAMP'{day} 00:00:00'" if dialect == "spark" else f"'{day}T00:00:00Z'"

    parts = [
        f"({column} >= {midnight(first)}"
        + ("" if last == date.max else f" AND {column} < {midnight(shift(last, 1))}")
        + ")"
        for first, last in date_ranges(days)
    ]
    return " OR ".join(parts) if parts else "false"


def describe(days: Iterable[date], *, step: int = 1) -> tuple[str, ...]:
    """Ranges for logs and run reports: ('2024-01-01', '2024-01-03..2024-01-09')."""
    return tuple(
        str(first) if first == last else f"{first}..{last}"
        for first, last in date_ranges(days, step=step)
    )
