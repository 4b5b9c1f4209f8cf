"""A lake copied or moved to another folder or bucket keeps its ingestion ledger.

The ledger records each file's full URI, which names the lake's root. Matched by URI, a
moved lake found none of its files in the ledger and ingested its whole landing zone a
second time (bronze and the quarantine twice over). Files are matched by their place in
the landing zone instead (`landing.path_in_landing`); both readers of the ledger (bronze
in Spark, the idle check with delta-rs) use it.
"""

from __future__ import annotations

import gzip
import shutil
import string
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.landing import held_by_ledger, path_in_landing
from eventlake.pending import new_landing_bytes

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 2, 3, 4, 5)
PLACE = "event_date=2026-11-01/event_hour=10/"


# --- the place of a file, by hand ------------------------------------------------------


def test_the_place_is_the_uri_without_the_lake_root():
    assert path_in_landing(f"file:/data/lake/landing/events/{PLACE}a.jsonl.gz") == f"{PLACE}a.jsonl.gz"
    assert path_in_landing(f"s3a://bucket/prod/landing/events/{PLACE}a.jsonl.gz") == f"{PLACE}a.jsonl.gz"
    # A root that holds the words itself: the file's place is after the last of them.
    assert path_in_landing(f"file:/landing/events/lake/landing/events/{PLACE}a.jsonl") == f"{PLACE}a.jsonl"
    # Outside any landing zone (never listed by bronze): its own place.
    assert path_in_landing("file:/elsewhere/a.jsonl") == "file:/elsewhere/a.jsonl"


def test_the_ledger_holds_a_file_by_its_place_whatever_the_root_was():
    recorded = [f"file:/old/lake/landing/events/{PLACE}a.jsonl.gz",
                f"file:/old/lake/landing/events/{PLACE}b.jsonl.gz"]
    listed = [f"s3a://bucket/lake/landing/events/{PLACE}a.jsonl.gz",  # moved to S3
              f"s3a://bucket/lake/landing/events/{PLACE}c.jsonl.gz",  # new
              "s3a://bucket/lake/landing/events/event_date=2026-11-01/event_hour=11/b.jsonl.gz"]  # new: another hour
    assert held_by_ledger(listed, recorded) == {listed[0]}
    assert held_by_ledger(listed, []) == set()
    assert held_by_ledger([], recorded) == set()


# --- any root, any name ------------------------------------------------------------------

SEGMENT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\x00")
                  | st.sampled_from(string.punctuation.replace("/", "")), min_size=1, max_size=10)
# Roots as a lake's URI may be spelt: any folders (the landing zone's own words among
# them, now and then) on disk or in a bucket.
ROOTS = st.builds(
    lambda scheme, folders: scheme + "/".join(folders),
    st.sampled_from(["file:/", "s3a://", "s3a://bucket/"]),
    st.lists(SEGMENT | st.just("landing") | st.just("events"), min_size=1, max_size=5),
)


@given(old=ROOTS, new=ROOTS, hour=st.integers(0, 23), name=SEGMENT)
def test_a_file_keeps_its_place_when_the_lake_moves(old, new, hour, name):
    place = f"event_date=2026-11-01/event_hour={hour:02d}/{name}"
    before, after = f"{old}/landing/events/{place}", f"{new}/landing/events/{place}"
    assert path_in_landing(before) == path_in_landing(after) == place
    assert held_by_ledger([after], [before]) == {after}
    other = f"{new}/landing/events/event_date=2026-11-01/event_hour={(hour + 1) % 24:02d}/{name}"
    assert held_by_ledger([other], [before]) == set()


# --- a real lake, moved --------------------------------------------------------------------


def _settings(root) -> Settings:
    return Settings.from_env({"EVENTLAKE_LAKE_URI": str(root), "EVENTLAKE_PSEUDONYM_SALT": "moved"})


def _land(root, name: str, lines: list[str], hour: int = 10) -> None:
    path = root / "landing" / "events" / "event_date=2026-11-01" / f"event_hour={hour}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def _bronze_lines(spark, settings: Settings) -> list[str]:
    from eventlake.lake import Lake

    rows = spark.read.format("delta").load(Lake.from_settings(settings).bronze_events.path).collect()
    return sorted(row.raw for row in rows)


def test_a_moved_lake_ingests_only_what_landed_after_the_move(spark, tmp_path):
    # The old root needs Hadoop's percent-encoding (space, é), the new one does not.
    old_root, new_root = tmp_path / "old lake é" / "lakehouse", tmp_path / "moved" / "lakehouse"
    _land(old_root, "a.jsonl.gz", ['{"n": 1}', '{"n": 2}'])
    _land(old_root, "with space.jsonl.gz", ['{"n": 3}'])
    first = ingest_bronze(spark, _settings(old_root), ingested_at=AT)
    assert (first.files_ingested, first.lines_ingested) == (2, 3)

    new_root.parent.mkdir()
    shutil.move(str(old_root), str(new_root))
    moved = _settings(new_root)

    assert new_landing_bytes(moved) == 0  # the idle check (delta-rs) knows every file
    again = ingest_bronze(spark, moved, ingested_at=datetime(2026, 11, 3))
    assert (again.files_found, again.files_ingested, again.lines_ingested) == (2, 0, 0)

    _land(new_root, "a.jsonl.gz", ['{"n": 4}'], hour=11)  # same name, another hour: a new file
    assert new_landing_bytes(moved) > 0
    later = ingest_bronze(spark, moved, ingested_at=datetime(2026, 11, 4))
    assert (later.files_found, later.files_ingested, later.lines_ingested) == (3, 1, 1)
    assert _bronze_lines(spark, moved) == ['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}']
