"""The erasure tombstone: lines of an erased user that arrive later never reach bronze or
silver, and leave landing."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from eventlake.bronze.ingest import ingest_bronze
from eventlake.maintenance.erasure import erase_user
from eventlake.maintenance.tombstone import key_hash
from eventlake.privacy import pseudonymous_key
from eventlake.silver.job import clean_silver

pytestmark = pytest.mark.unit
HOUR = "landing/events/event_date=2026-11-01/event_hour=10"


def envelope(event_id: str, user_id: str) -> str:
    return json.dumps({
        "event_id": event_id, "event_name": "auth.login", "session_id": "s",
        "event_timestamp": "2026-11-01T10:00:00Z", "user_id": user_id, "market": "US", "properties": {},
    })


def land(lake, name: str, lines: list[str]) -> None:
    path = Path(lake.root) / HOUR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_lines_landing_after_an_erasure_stay_out_of_silver(spark, settings, lake):
    victim, other = "user-gone-1", "user-stays-2"
    land(lake, "a.jsonl.gz", [envelope("e1", victim), envelope("e2", other)])
    ingest_bronze(spark, settings)
    clean_silver(spark, settings)
    erase_user(spark, settings, victim, request_id="r", erased_at=datetime(2026, 11, 2, tzinfo=UTC))
    # A collector's spool delivers a line of the user acknowledged before the erasure; and
    # a line naming user_id twice, the user's last (silver's judge reads the last), escaped.
    twice = envelope("e5", "decoy-9")[:-1] + ', "user_id": "user-gone-\\u0031"}'
    assert json.loads(twice)["user_id"] == victim
    land(lake, "late.jsonl.gz", [envelope("e3", victim), envelope("e4", other), twice])
    land(lake, "late-victim-only.jsonl.gz", [envelope("e6", victim)])
    ingested = ingest_bronze(spark, settings)
    run = clean_silver(spark, settings)

    # The user's late lines left landing before bronze read it (contract §5: their raw
    # lines leave landing too); a file of theirs only is gone, and was never ingested.
    hour = Path(lake.root) / HOUR
    assert sorted(p.name for p in hour.iterdir()) == ["a.jsonl.gz", "late.jsonl.gz"]
    assert gzip.decompress((hour / "late.jsonl.gz").read_bytes()).decode() == envelope("e4", other) + "\n"
    assert ingested.files_ingested == 1 and ingested.lines_ingested == 1
    bronze = [json.loads(r.raw)["event_id"] for r in spark.read.format("delta").load(lake.bronze_events.path).collect()]
    assert sorted(bronze) == ["e2", "e4"]

    silver = spark.read.format("delta").load(lake.silver_events.path)
    assert sorted(r.event_id for r in silver.collect()) == ["e2", "e4"]
    assert run.lines_read == 1  # the victim's late line is not even judged
    victim_key = pseudonymous_key(victim, settings.pseudonym_salt)
    stored = [r.key_hash for r in spark.read.format("delta").load(lake.erased_keys.path).collect()]
    assert stored == [key_hash(victim_key)] and victim_key not in stored

    # A reprocess of the day reads bronze's snapshot: the tombstone applies there too.
    reprocessed = clean_silver(spark, settings, reprocess_from=datetime(2000, 1, 1).date(),
                               reprocess_to=datetime(2100, 1, 1).date())
    assert spark.read.format("delta").load(lake.silver_events.path).where(
        F.col("user_key") == victim_key).count() == 0
    assert reprocessed.lines_read == 2  # e2 and e4: the user's late lines never reached bronze
