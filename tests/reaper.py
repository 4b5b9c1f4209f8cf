"""Servers started by tests die with the test process, even when it is SIGKILLed.

A test's `finally` stops its server (PostgreSQL, the Kafka broker) on every normal exit,
a failure or a Ctrl-C. A SIGKILL of pytest (a CI timeout, `kill -9`, an OOM kill) runs no
`finally`, and a server in its own session outlives it, holding ports, memory and disk.
`reap_on_exit` starts a small watchdog, in its own session too, that waits for the test
process to go and then runs the same clean-up commands. On a normal exit the test cancels
it after its own clean-up, so it never acts on a pid that may have been reused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# Polls its parent: once the test process is gone it is re-parented, and getppid changes.
_WATCHDOG = """
import json, os, subprocess, sys, time
owner, commands = int(sys.argv[1]), json.loads(sys.argv[2])
while os.getppid() == owner:
    time.sleep(0.5)
for command in commands:
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
"""


@contextmanager
def reap_on_exit(*commands: Sequence[str]) -> Iterator[None]:
    """Run `commands` (argv lists, in order) if this process dies inside the block."""
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), json.dumps([list(c) for c in commands])],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to pytest's process group leaves it to clean up
    )
    try:
        yield
    finally:
        watchdog.kill()
        watchdog.wait(10)


def kill_group(pid: int) -> list[list[str]]:
    """Commands that stop a process group: TERM, then KILL what is left after 10 s."""
    return [["kill", "-TERM", "--", f"-{pid}"],
            ["sh", "-c", f"sleep 10; kill -KILL -- -{pid} 2>/dev/null"]]


def stop(*processes: subprocess.Popen, timeout: float) -> None:
    """Stop servers started by a test: TERM them all (they shut down side by side), then
    KILL any still running after `timeout` seconds, and reap each."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
