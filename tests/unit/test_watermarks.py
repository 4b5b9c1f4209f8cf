"""Watermarks: one object per consumer, never a table that parallel tasks MERGE into."""

from __future__ import annotations

import json
import threading

import pytest

from eventlake.lease import Lease, LeaseLost, LocalStore, _HELD, _HELD_LOCK, _Held
from eventlake.state import CONSUMER_STATE, commit_watermarks, read_watermark, read_watermarks

pytestmark = pytest.mark.unit


def test_each_consumer_has_its_own_object_and_prefixes_select(spark, lake):
    commit_watermarks(spark, lake, {"gold.a": 3, "gold.b": 4}, "silver.events")
    commit_watermarks(spark, lake, {"silver.events": 7}, "bronze.events")
    commit_watermarks(spark, lake, {"gold.a": 5}, "silver.events")  # moves a only
    folder = f"{lake.root}/{CONSUMER_STATE}"
    stored = json.loads(open(f"{folder}/gold.a.json").read())
    assert (stored["consumer"], stored["source"], stored["version"]) == ("gold.a", "silver.events", 5)
    assert read_watermarks(spark, lake, "gold.") == {"gold.a": 5, "gold.b": 4}
    assert read_watermark(spark, lake, "silver.events") == 7
    assert read_watermark(spark, lake, "gold.c") is None


def test_parallel_consumers_never_lose_each_others_watermarks(spark, lake):
    names = [f"gold.t{i}" for i in range(6)]

    def move(name: str) -> None:
        for version in range(1, 6):
            commit_watermarks(spark, lake, {name: version}, "silver.events")

    threads = [threading.Thread(target=move, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read_watermarks(spark, lake, "gold.") == dict.fromkeys(names, 5)


def test_a_lake_from_before_keeps_its_shared_table_as_a_fallback(spark, lake):
    spark.createDataFrame(
        [("gold.a", "silver.events", 2), ("gold.b", "silver.events", 2)],
        "consumer STRING, source STRING, version LONG",
    ).write.format("delta").save(lake.watermarks.path)
    commit_watermarks(spark, lake, {"gold.a": 9}, "silver.events")
    assert read_watermarks(spark, lake, "gold.") == {"gold.a": 9, "gold.b": 2}


def test_a_process_that_lost_its_lease_moves_no_watermark(spark, lake):
    lease = Lease(LocalStore(lake.root), "stalled", ttl=60)
    lease.lost = True
    with _HELD_LOCK:
        _HELD[lake.root] = _Held(lease, 1)
    try:
        with pytest.raises(LeaseLost):
            commit_watermarks(spark, lake, {"gold.a": 1}, "silver.events")
    finally:
        with _HELD_LOCK:
            _HELD.pop(lake.root)
    assert read_watermark(spark, lake, "gold.a") is None
