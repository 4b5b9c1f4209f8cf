"""One field table (eventlake.schemas.EVENT_FIELDS) describes an event from the judge to silver:
what the judge returns, what silver derives and the contract's column list all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
from pyspark.sql.types import TimestampType

from eventlake.envelope import judge_line
from eventlake.schemas import EVENT_FIELDS, SILVER_EVENTS, SILVER_FIELDS
from eventlake.silver.clean import JUDGED_FIELDS, derived_columns, judged_arrow_schema
from eventlake.taxonomy import load_taxonomy

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
VALID = (
    '{"event_id":"01JBX0000000000000000000AA","event_name":"session.created","session_id":"s1",'
    '"event_timestamp":"2026-11-01T10:00:00Z","user_id":"u1","market":"US","properties":{}}'
)


def test_a_valid_lines_judgement_has_exactly_the_judged_fields():
    row = judge_line(VALID, load_taxonomy())
    assert row["reason"] is None, row
    assert set(row) == {f.name for f in JUDGED_FIELDS}


def test_silver_derives_exactly_the_derived_fields(spark):  # Column expressions need a session
    assert set(derived_columns("salt")) == {f.name for f in EVENT_FIELDS if f.source == "derived"}


def test_the_arrow_schema_follows_the_spark_types():
    arrow = judged_arrow_schema()
    assert arrow.names == [f.name for f in JUDGED_FIELDS]
    for field in JUDGED_FIELDS:
        if isinstance(field.type, TimestampType):
            assert arrow.field(field.name).type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_int32(arrow.field("schema_version").type)
    assert pa.types.is_boolean(arrow.field("consent_analytics").type)


def test_the_contract_lists_silvers_columns_in_order():
    contract = (REPO / "docs/contract.md").read_text("utf-8")
    paragraph = contract.split("Silver columns:", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", paragraph))
    assert names == [f.name for f in SILVER_FIELDS] == SILVER_EVENTS.fieldNames()


def test_no_raw_id_reaches_silver():
    assert not {"user_id", "profile_id", "device_id"} & set(SILVER_EVENTS.fieldNames())
    assert all(f.doc for f in EVENT_FIELDS)
