"""The watchdog of tests/reaper.py: a server outlives a SIGKILLed test process only briefly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

OWNER = textwrap.dedent("""
    import subprocess, sys, time
    sys.path.insert(0, {tests!r})
    from reaper import kill_group, reap_on_exit
    server = subprocess.Popen(["sleep", "300"], start_new_session=True)
    with reap_on_exit(*kill_group(server.pid), ["touch", {marker!r}]):
        print(server.pid, flush=True)
        {then}
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


def _start_owner(tmp_path: Path, then: str) -> tuple[subprocess.Popen, int, Path]:
    marker = tmp_path / "reaped"
    script = OWNER.format(tests=str(Path(__file__).parents[1]), marker=str(marker), then=then)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    return owner, int(owner.stdout.readline()), marker


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_a_sigkilled_owner_leaves_no_server_behind(tmp_path):
    owner, server, marker = _start_owner(tmp_path, "time.sleep(300)")
    assert _alive(server)
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    assert _wait_until(lambda: not _alive(server), 15), "the server outlived its owner"
    assert _wait_until(marker.exists, 15)  # every command ran, in order


def test_a_normal_exit_cancels_the_watchdog(tmp_path):
    owner, server, marker = _start_owner(tmp_path, "server.terminate(); server.wait()")
    assert owner.wait(30) == 0
    time.sleep(2)  # the watchdog's poll interval, four times over
    assert not marker.exists(), "the watchdog ran its clean-up after a normal exit"


def test_stop_terms_every_server_and_kills_one_that_ignores_term():
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from reaper import stop

    polite = subprocess.Popen(["sleep", "300"])
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
         " print('ready', flush=True); time.sleep(300)"], stdout=subprocess.PIPE, text=True,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    stop(polite, stubborn, timeout=2)
    assert polite.returncode == -signal.SIGTERM
    assert stubborn.returncode == -signal.SIGKILL
    stop(polite, timeout=2)  # stopping a stopped server is a no-op
