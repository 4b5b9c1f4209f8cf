"""A Spark standalone cluster on loopback: one master and two workers, each its own process.

Started with `spark-class` from the pyspark wheel, exactly as `sbin/start-master.sh` and
`start-worker.sh` would on real machines, with each worker's files in its own folder.

The executors' Python is this virtualenv's interpreter *without* eventlake: it starts with
`-S` (no site-packages, so no editable-install hook) and finds the other dependencies in a
folder that links every site-packages entry except eventlake's. A job whose executors need
eventlake (silver's judge runs in them) therefore only works when the driver ships it, as
a real cluster's job must.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark
from reaper import reap_on_exit, stop
from short_lived import SHORT_LIVED_JAVA_OPTIONS

STARTUP_SECONDS = 120.0
WORKERS = 2


@dataclass(frozen=True)
class Cluster:
    master_url: str  # spark://127.0.0.1:<port>
    ui_url: str  # the master's web UI, whose /json/ lists workers and applications
    worker_dirs: tuple[Path, ...]
    executor_python: Path  # for PYSPARK_PYTHON: what the executors' Python workers run
    logs: Path

    def state(self) -> dict:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as reply:
            return json.load(reply)

    def driver_env(self) -> dict[str, str]:
        """What a driver (an `eventlake` process) needs to run its jobs on this cluster."""
        return {
            "EVENTLAKE_SPARK_MASTER": self.master_url,
            "PYSPARK_PYTHON": str(self.executor_python),
            "SPARK_LOCAL_IP": "127.0.0.1",
            # The suite's options for short JVMs (tests/short_lived.py), for the executors
            # too: `spark.executor.defaultJavaOptions` goes before eventlake's own
            # `extraJavaOptions`. With C2 and G1 the two executors of a 1,500-event run
            # took 98 CPU-seconds; with these 41.
            "PYSPARK_SUBMIT_ARGS": shlex.join(
                ["--conf", f"spark.executor.defaultJavaOptions={SHORT_LIVED_JAVA_OPTIONS}", "pyspark-shell"]
            ),
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _python_without_eventlake(root: Path) -> Path:
    site_packages = Path(sysconfig.get_paths()["purelib"])
    dependencies = root / "executor-site-packages"
    dependencies.mkdir()
    for entry in site_packages.iterdir():
        name = entry.name.lower()
        if name.startswith(("eventlake", "__editable__", "_eventlake")) or name.endswith(".pth"):
            continue
        (dependencies / entry.name).symlink_to(entry)
    script = root / "executor-python"
    script.write_text(
        "#!/bin/sh\n"
        f'PYTHONPATH="${{PYTHONPATH:+$PYTHONPATH:}}{dependencies}" exec {sys.executable} -S "$@"\n'
    )
    script.chmod(0o755)
    return script


def _wait(what: str, ready, processes: list[subprocess.Popen], logs: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                tails = "\n".join(p.read_text()[-1500:] for p in sorted(logs.glob("*.log")))
                raise RuntimeError(f"a cluster process exited while waiting for {what}:\n{tails}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Spark standalone cluster: no {what} after {STARTUP_SECONDS:.0f} s")


@contextmanager
def standalone_cluster(root: Path) -> Iterator[Cluster]:
    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = root / "logs"
    logs.mkdir(parents=True)
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOG_DIR": str(logs),
        # The master and workers live for one test: short-lived JVMs (tests/short_lived.py).
        "SPARK_DAEMON_JAVA_OPTS": SHORT_LIVED_JAVA_OPTIONS,
    }
    # The launcher's options are for drivers; the daemons take theirs from the line above.
    env.pop("SPARK_SUBMIT_OPTS", None)
    port, ui_port = _free_port(), _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []
    # A watchdog per daemon: without them the daemons would outlive a SIGKILLed pytest.
    reapers = contextlib.ExitStack()

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            processes.append(subprocess.Popen(
                [str(spark_class), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            ))
        reapers.enter_context(reap_on_exit(["kill", "-TERM", str(processes[-1].pid)]))

    cluster = Cluster(
        master_url=master_url,
        ui_url=f"http://127.0.0.1:{ui_port}",
        worker_dirs=tuple(root / f"worker-{n}" for n in range(WORKERS)),
        executor_python=_python_without_eventlake(root),
        logs=logs,
    )
    try:
        start("master", "org.apache.spark.deploy.master.Master",
              "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port))
        _wait("master", lambda: cluster.state().get("status") == "ALIVE", processes, logs)
        for n, work_dir in enumerate(cluster.worker_dirs):
            work_dir.mkdir()
            start(f"worker-{n}", "org.apache.spark.deploy.worker.Worker", master_url,
                  "--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
                  "--webui-port", str(_free_port()), "--work-dir", str(work_dir))
        _wait(
            f"{WORKERS} workers",
            lambda: sum(w["state"] == "ALIVE" for w in cluster.state()["workers"]) == WORKERS,
            processes, logs,
        )
        yield cluster
    finally:
        try:
            stop(*processes, timeout=20)
        finally:
            reapers.close()  # after the daemons' own clean-up
