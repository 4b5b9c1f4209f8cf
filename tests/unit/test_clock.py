"""eventlake.clock: aware UTC in, aware UTC out, whatever the process's zone."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql.types import TimestampType

from eventlake.clock import as_utc, from_spark, utc_now

pytestmark = pytest.mark.unit
ZONES = ("Pacific/Kiritimati", "America/Los_Angeles", "UTC")


@pytest.mark.parametrize("zone", ZONES)
def test_utc_now_is_aware_and_the_real_instant(local_zone, zone):
    local_zone(zone)
    before = datetime.now(timezone.utc)
    now = utc_now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(timezone.utc)


def test_as_utc_takes_naive_as_utc_and_converts_offsets(local_zone):
    local_zone("Pacific/Kiritimati")
    assert as_utc(datetime(2026, 11, 2, 6, 0)) == datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
    plus_two = datetime(2026, 11, 2, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    converted = as_utc(plus_two)
    assert (converted.tzinfo, converted.hour, converted.day) == (timezone.utc, 23, 1)


@settings(deadline=None)
@given(micros=st.integers(min_value=0, max_value=4_102_444_800 * 10**6))  # 1970 .. 2100
def test_from_spark_inverts_pysparks_local_rendering_in_every_zone(micros):
    # What collect() returns: PySpark's own TimestampType.fromInternal, a naive local datetime.
    expected = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)
    before = os.environ.get("TZ")
    try:
        for zone in ZONES:
            os.environ["TZ"] = zone
            time.tzset()
            assert from_spark(TimestampType().fromInternal(micros)) == expected, zone
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


# --- the one pair of parsers for what people type -------------------------------------

from argparse import ArgumentTypeError  # noqa: E402

from eventlake.clock import parse_day, parse_instant  # noqa: E402


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 31),
                    timezones=st.one_of(st.none(), st.timezones())))
def test_parse_instant_reads_any_iso_time_as_aware_utc(value):
    parsed = parse_instant(value.isoformat())
    assert parsed.utcoffset() == timedelta(0)
    # Compared in UTC: an inter-zone == is False for a time in a DST fold (PEP 495).
    assert parsed == (value.replace(tzinfo=timezone.utc) if value.tzinfo is None
                      else value.astimezone(timezone.utc))


def test_parse_instant_takes_z_and_bare_dates_as_utc():
    assert parse_instant("2026-11-02T06:00Z") == datetime(2026, 11, 2, 6, tzinfo=timezone.utc)
    assert parse_instant("2026-11-02") == datetime(2026, 11, 2, tzinfo=timezone.utc)
    assert parse_instant("2026-11-02T06:00+14:00") == datetime(2026, 11, 1, 16, tzinfo=timezone.utc)


@given(st.dates())
def test_parse_day_reads_any_iso_day(day):
    assert parse_day(day.isoformat()) == day


@pytest.mark.parametrize("text", ["", "2026-13-01", "yesterday", "2026-11-02T06:00", "02/11/2026"])
def test_parse_day_refuses_anything_else_in_one_line(text):
    with pytest.raises(ArgumentTypeError, match=r"is not a date \(YYYY-MM-DD\)$"):
        parse_day(text)


@pytest.mark.parametrize("text", ["", "soon", "2026-11-02 25:00", "11/02/2026"])
def test_parse_instant_refuses_anything_else_in_one_line(text):
    with pytest.raises(ArgumentTypeError, match=r"is not an ISO-8601 date or time$"):
        parse_instant(text)
