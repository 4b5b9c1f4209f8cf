"""The lake's writer lease on a real S3-compatible server: conditional create decides."""

from __future__ import annotations

import threading
import time

import pytest

from eventlake.config import Settings
from eventlake.lease import Lease, LeaseHeld, S3Store, acquire

pytestmark = pytest.mark.s3


def s3_settings(s3_lake, **extra: str) -> Settings:
    return Settings.from_env({**s3_lake.server.env(s3_lake.uri), "EVENTLAKE_PSEUDONYM_SALT": "s", **extra})


def test_the_server_refuses_a_second_conditional_create(s3_lake):
    store = S3Store(s3_settings(s3_lake), client=s3_lake.server.client())
    assert store.create("_state/lease/probe.json", b"first") is True
    assert store.create("_state/lease/probe.json", b"second") is False
    assert store.get("_state/lease/probe.json") == b"first"


def test_of_simultaneous_takers_on_s3_exactly_one_gets_the_lease(s3_lake):
    settings = s3_settings(s3_lake)
    leases = [Lease(S3Store(settings, client=s3_lake.server.client()), f"job{i}", ttl=60) for i in range(6)]
    start = threading.Barrier(len(leases))
    outcomes: dict[int, object] = {}

    def take(i: int) -> None:
        start.wait()
        outcomes[i] = leases[i].try_acquire()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(leases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, holder in outcomes.items() if holder is None]
    assert len(winners) == 1
    leases[winners[0]].release()


def test_on_s3_a_second_writer_fails_and_an_abandoned_lease_expires(s3_lake):
    settings = s3_settings(s3_lake, EVENTLAKE_LEASE_WAIT_SECONDS="0", EVENTLAKE_LEASE_TTL_SECONDS="1")
    holder = acquire(settings, "silver")
    with pytest.raises(LeaseHeld, match="being written by silver"):
        acquire(settings, "gold")
    holder._stop.set()  # the holder dies without releasing: no more renewals
    holder._thread.join()
    time.sleep(1.2)
    taker = acquire(settings, "gold")
    assert taker.generation == holder.generation + 1
    taker.release()
    assert sorted(s3_lake.server.keys(f"{s3_lake.prefix}/_state/lease/"))[-1].endswith(
        f"gen-{taker.generation:012d}.json"
    )
