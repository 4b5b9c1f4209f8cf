"""UTC everywhere: the lake's clock and the two conversions at its edges.

PySpark turns Python datetimes into Spark timestamps, and back, through the *Python
process's* local zone (`TimestampType.toInternal` uses `time.mktime` for a naive value,
`fromInternal` uses `datetime.fromtimestamp`). Under `TZ=Pacific/Kiritimati` a naive
"UTC" datetime handed to `F.lit` or `createDataFrame` lands 14 hours off. So every
datetime eventlake gives Spark is aware (`utc_now`, `as_utc`), and every timestamp it
collects from Spark is read back with `from_spark`.
"""

from __future__ import annotations

from argparse import ArgumentTypeError
from datetime import date, datetime, timezone


def utc_now() -> datetime:
    """Now, as an aware UTC datetime: the only clock jobs read."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value is taken to be UTC already (the lake's rule,
    e.g. an operator's `--as-of 2026-11-02T06:00`)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def from_spark(value: datetime) -> datetime:
    """A timestamp collected from Spark, as an aware UTC datetime.

    PySpark renders a TIMESTAMP as a naive datetime in the driver process's local zone;
    `astimezone` reads a naive value in that same zone (DST folds included), so this is
    exact whatever `TZ` the driver runs with. Aware values are only converted to UTC.
    """
    return value.astimezone(timezone.utc)


# The one pair of parsers for days and times a person types (CLI options, job arguments).
# They raise argparse's ArgumentTypeError, so a bad value is a one-line usage error.


def parse_day(text: str) -> date:
    """A calendar day, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_instant(text: str) -> datetime:
    """An ISO-8601 date or time as aware UTC: a trailing Z or an offset is honoured, a
    value without either is UTC (the lake's rule), a bare date is its midnight UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ArgumentTypeError(f"{text!r} is not an ISO-8601 date or time") from None
    return as_utc(value)
