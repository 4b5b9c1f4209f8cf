"""A layer's builders run a few at once and share the run's rows: computed once, by
whichever builder asks first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from eventlake.quality.batches import SharedResults, Skip

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
