"""A layer's builders run a few at once and share the run's rows: computed once, by
whichever builder asks first. The batches they build read what the run could have changed."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest

from eventlake.quality.batches import BatchContext, SharedResults, Skip, silver_event_ids
from eventlake.schemas import SILVER_EVENTS
from eventlake.state import delta_table_exists

from .tables import silver_event, write, write_silver_run

pytestmark = pytest.mark.unit


def test_builders_asking_at_once_compute_the_shared_rows_once():
    shared = SharedResults()
    computed: list[str] = []
    all_asking = threading.Barrier(4)

    def compute() -> Skip:
        computed.append(threading.current_thread().name)
        time.sleep(0.2)  # every other builder asks meanwhile
        return Skip("the run's rows")

    def builder(_: int):
        all_asking.wait()
        return shared.get("silver_rows", compute)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(builder, range(4)))

    assert len(computed) == 1
    assert all(result is results[0] for result in results)
    assert shared.get("bronze_rows", lambda: Skip("another key")) == Skip("another key")
    assert len(computed) == 1


def test_the_event_ids_batch_reads_the_silver_files_whose_ids_meet_the_runs_only(spark, settings, lake):
    """The batch is every silver row carrying an id of the run's rows. Delta finds them
    through its file statistics: a file of earlier ids (time-ordered ids such as UUIDv7 are
    earlier for earlier events) is not read; a file holding one of the run's ids is."""
    earlier = datetime(2024, 3, 10, 6, 0)
    older = "file:/lake/landing/events/event_date=2024-03-10/event_hour=06/old.jsonl.gz"

    def silver_files() -> set[str]:
        if not delta_table_exists(spark, lake.silver_events.path):
            return set()
        return set(spark.read.format("delta").load(lake.silver_events.path).inputFiles())

    def new_files(rows: list[tuple]) -> set[str]:
        before = silver_files()
        write(spark, rows, SILVER_EVENTS, lake.silver_events.path, "event_date")
        return silver_files() - before

    earlier_ids = new_files([silver_event(n, event_id=f"a{n}", source_file=older, ingested_at=earlier) for n in (1, 2)])
    shared_id = new_files([silver_event(9, event_id="e1", source_file=older, ingested_at=earlier)])
    summary = write_silver_run(spark, lake, [silver_event(1), silver_event(2)])
    ctx = BatchContext(spark, settings, lake, "r1", summary, None, "silver.events")

    batch = silver_event_ids(ctx)

    assert not isinstance(batch, Skip)
    read = set(batch.inputFiles())
    assert shared_id <= read
    assert not earlier_ids & read
    assert sorted(row.event_id for row in batch.collect()) == ["e1", "e1", "e2"]
