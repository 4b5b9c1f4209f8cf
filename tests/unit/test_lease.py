"""The lake's writer lease on a local disk: one holder, waiting, expiry of a killed holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.lease import (
    Lease,
    LeaseHeld,
    LeaseLost,
    LocalStore,
    acquire,
    ensure_held,
    lake_lease,
)

pytestmark = pytest.mark.unit


def lake_settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path / "lake"), **env})


def test_of_many_simultaneous_takers_exactly_one_gets_the_lease(tmp_path):
    store = LocalStore(str(tmp_path / "lake"))
    leases = [Lease(store, f"job{i}", ttl=60) for i in range(8)]
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
    winner = leases[winners[0]]
    # every loser was told who holds it
    assert {h.owner for i, h in outcomes.items() if h is not None} == {winner.owner}
    winner.release()


def test_a_second_writer_waits_then_fails_with_a_clear_message(tmp_path):
    settings = lake_settings(tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="0.5")
    with lake_lease(settings, "silver"):
        started = time.monotonic()
        with pytest.raises(LeaseHeld) as caught:
            acquire(settings, "gold")
        assert time.monotonic() - started >= 0.5
    message = str(caught.value)
    assert "being written by silver" in message and f"pid {os.getpid()}" in message
    assert "EVENTLAKE_LEASE_WAIT_SECONDS" in message and "\n" not in message
    assert caught.value.exit_code == 75


def test_a_waiting_writer_gets_the_lease_once_it_is_released(tmp_path):
    settings = lake_settings(tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="30")
    holder = acquire(settings, "bronze")
    threading.Timer(1.0, holder.release).start()
    started = time.monotonic()
    second = acquire(settings, "gold")
    waited = time.monotonic() - started
    assert 0.9 <= waited < 10
    assert second.generation == holder.generation + 1
    second.release()


def test_the_lease_is_reentrant_within_one_process(tmp_path):
    settings = lake_settings(tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="0")
    with lake_lease(settings, "pipeline") as outer:
        with lake_lease(settings, "silver") as inner:
            assert inner is outer
        ensure_held(settings.lake_root)  # still held after the inner block
        with pytest.raises(LeaseHeld):  # but not by another acquisition
            acquire(settings, "other")
    # released: free for the next one at once
    acquire(settings, "next").release()


def test_a_killed_holder_blocks_for_one_ttl_at_most(tmp_path):
    lake = tmp_path / "lake"
    code = (
        "import sys, time\n"
        "from eventlake.config import Settings\n"
        "from eventlake.lease import acquire\n"
        f"acquire(Settings.from_env({{'EVENTLAKE_LAKE_URI': {str(lake)!r}, "
        "'EVENTLAKE_LEASE_TTL_SECONDS': '2'}), 'victim')\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    victim = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert victim.stdout.readline().strip() == "held"
        settings = lake_settings(tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="0")
        with pytest.raises(LeaseHeld, match="victim"):  # alive and renewing: held
            time.sleep(2.5)  # longer than its TTL: only renewals keep it
            acquire(settings, "survivor")
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        killed_at = time.monotonic()
        waiting = lake_settings(tmp_path, EVENTLAKE_LEASE_WAIT_SECONDS="20")
        lease = acquire(waiting, "survivor")
        assert time.monotonic() - killed_at <= 2 + 2 * 1.0 + 1  # TTL + poll slack
        lease.release()
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()


def test_a_holder_that_stalled_past_its_ttl_learns_it_lost_the_lease(tmp_path):
    store = LocalStore(str(tmp_path / "lake"))
    stalled = Lease(store, "stalled", ttl=0.3)
    assert stalled.try_acquire() is None
    stalled._stop.set()  # its heartbeat stops, as in a long GC pause
    stalled._thread.join()
    time.sleep(0.5)
    taker = Lease(store, "taker", ttl=60)
    assert taker.try_acquire() is None
    stalled.renew()  # the stalled process wakes up
    with pytest.raises(LeaseLost):
        stalled.ensure_held()
    stalled.release()  # must not overwrite the new holder's record
    _, holder = taker.current()
    assert holder.owner == taker.owner and not holder.released
    taker.release()
