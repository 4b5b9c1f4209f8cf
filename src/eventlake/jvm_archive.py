"""`eventlake jvm-archive`: a class-data archive for the JVMs eventlake starts (AppCDS).

A local run's JVM loads and verifies some 11,000 classes of Spark, Delta and Hadoop each
time it starts, and more the first time each code path runs: seconds of a short run on two
cores. Java 17 can map the classes a representative run loaded from an archive instead
(class-data sharing, dynamic archives, JEP 350). `eventlake jvm-archive` (part of
`make setup`) runs a small pipeline in a JVM that writes that archive when it exits; every
later local JVM that `build_spark_session` starts maps it (docs/benchmarks.md: the demo's
session start 5.0-5.4 s → 3.4-3.8 s, its pipeline ≈ 4 s shorter).

It is only ever a speed-up, never a condition:
- The JVM checks the archive against its own build and class path and ignores one that does
  not match (another JDK, another pyspark); its warning is switched off.
- An archive's class path may hold no non-empty folder, so a JVM that maps one reads its
  Spark configuration folder from an empty folder of ours rather than $SPARK_HOME/conf:
  eventlake passes every setting on the command line anyway (`spark.spark_conf`).
- With SPARK_CONF_DIR, HADOOP_CONF_DIR, YARN_CONF_DIR or SPARK_DIST_CLASSPATH set, those
  stay on the class path as set, and no archive is used.
- Under spark-submit (Airflow's tasks, a cluster) the JVM is already running: nothing changes.

The same launch decides how the JVM compiles. A JVM that runs one pipeline run over little
new data and exits (`eventlake pipeline`, `demo`, `run <layer>`: `one_run`) compiles with C1
only: HotSpot's optimising compiler (C2) would spend a core compiling code the run then uses
for seconds, and the code C1 makes at once is faster than the profiled code a JVM runs while
it waits for C2. A run over much new data (`QUICK_JVM_MAX_BYTES`), an explicit recompute, and
a process that runs many jobs (tests, benchmarks, `serve-sql`) keep C2. The pipeline DAG's
spark-submit task asks `little_new_data` too, and passes C1_ONLY as a driver option
(dags/eventlake_airflow/common.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from eventlake.config import Settings

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Each puts folders on the JVM's class path, which an archive cannot cover.
CLASS_PATH_VARIABLES = ("SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_DIST_CLASSPATH")
# The run that trains the archive: big enough to take every path of a pipeline run (bronze,
# silver's MERGE, quarantine, gold's builds and commits, the gates, the catalog).
TRAINING_EVENTS = 2_000
# The JVM's own notes about the archive (a mismatch, a class it skips) are not the user's.
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"
# A one-run JVM compiles with C1 only when its new data (landing files to ingest, bronze
# lines silver has not read, silver rows gold has not reflected) holds at most this much:
# a run's work grows with its new data, not with the lake. Measured on 2 cores
# (docs/benchmarks.md): with C1 only the demo's pipeline (20,000 new events, 3 MiB) took
# 38.6-40.5 s rather than 48.9-50.1 s, an hour through the CLI on a 1 M-event lake 52 s
# rather than 62 s, and that lake's first build (1 M new events, 151 MiB) 145 s, not 125 s.
QUICK_JVM_MAX_BYTES = 64 << 20
# Without C2 the JVM reserves a 48 MB code cache rather than 240 MB; a gold build filled it
# ("CodeCache is full. Compiler has been disabled.") and ran the rest of its life interpreted.
C1_ONLY = "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m"


@dataclass(frozen=True)
class JvmLaunch:
    """What eventlake adds to a local JVM start: Java options (the archive, the compiler),
    and the environment variables set while pyspark launches the JVM (and only then: a
    spark-submit this process starts later keeps reading $SPARK_HOME/conf)."""

    java_options: str = ""
    environment: Mapping[str, str] | None = None


def archive_dir(settings: Settings) -> Path:
    """Beside the Ivy cache: machine-local, shared by the lakes of this user."""
    return Path(settings.ivy_dir).parent / "jvm"


def _spark_home() -> Path:
    from eventlake.spark_defaults import spark_home

    return spark_home()


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java") or "java"
    return os.path.realpath(java)


def _identity() -> dict[str, str]:
    """What an archive belongs to: this pyspark install and this Java."""
    import pyspark

    return {"spark_home": str(_spark_home()), "pyspark": pyspark.__version__, "java": _java()}


def archive_path(settings: Settings) -> Path:
    """This machine's archive for this pyspark and this Java: a new venv or JDK gets its own."""
    identity = _identity()
    key = json.dumps([identity["spark_home"], identity["pyspark"], identity["java"]])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return archive_dir(settings) / f"spark-{identity['pyspark']}-{digest}.jsa"


def _conf_dir(settings: Settings) -> Path:
    """The empty Spark configuration folder a JVM with the archive starts with."""
    folder = archive_dir(settings) / "empty-spark-conf"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def unusable(env: Mapping[str, str] | None = None) -> str | None:
    """Why no archive can be used with this environment, or None."""
    env = os.environ if env is None else env
    set_here = [name for name in CLASS_PATH_VARIABLES if env.get(name)]
    return f"{', '.join(set_here)} set: those folders stay on the JVM's class path" if set_here else None


def jvm_launch(
    settings: Settings, *, train_to: Path | None = None, one_run: bool = False, new_bytes: int | None = None,
) -> JvmLaunch:
    """What eventlake adds to a local JVM start: map the archive when there is one, or
    (`train_to`) write one there when the JVM exits; for a command that runs once and exits
    (`one_run`) over little new data, C1 only. `new_bytes`: the new data's size when the
    caller has measured it already (`pending.Pending.new_bytes`)."""
    compiler = C1_ONLY if one_run and little_new_data(settings, new_bytes) else ""
    if unusable() is not None:
        return JvmLaunch(compiler)
    if train_to is not None:
        option = f"-XX:ArchiveClassesAtExit={train_to}"
    else:
        archive = archive_path(settings)
        if not archive.is_file():
            return JvmLaunch(compiler)
        option = f"-XX:SharedArchiveFile={archive}"
    return JvmLaunch(f"{option} {QUIET} {compiler}".rstrip(), {"SPARK_CONF_DIR": str(_conf_dir(settings))})


def little_new_data(settings: Settings, new_bytes: int | None = None) -> bool:
    """True for a local lake whose new data (`pending.new_data_bytes`: the landing files not
    ingested yet, the bronze lines silver has not read, the silver rows gold has not
    reflected) holds at most QUICK_JVM_MAX_BYTES (`new_bytes`, or measured here). An S3
    lake's landing zone is not listed again for this."""
    if settings.is_s3:
        return False
    if new_bytes is not None:
        return new_bytes <= QUICK_JVM_MAX_BYTES
    from eventlake.pending import new_data_bytes

    try:
        return new_data_bytes(settings) <= QUICK_JVM_MAX_BYTES
    except Exception:  # a speed choice never stops a run: the layers' own readers decide there
        log.debug("the run's new data could not be sized; C2 as usual", exc_info=True)
        return False


@contextmanager
def launch_environment(launch: JvmLaunch) -> Iterator[None]:
    """Set the launch's variables around a JVM start, and put the old values back."""
    saved = {name: os.environ.get(name) for name in launch.environment or {}}
    os.environ.update(launch.environment or {})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_archive(settings: Settings) -> Path:
    """Train this machine's archive in a child process (a pipeline over a throwaway lake)
    and put it in place atomically, with a note of what it belongs to. Raises RuntimeError,
    naming the log, when it fails (as it does where `unusable` gives a reason)."""
    target = archive_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    log_file = target.with_suffix(".log")
    # Only the Ivy cache of this machine is taken from the caller's settings: the training
    # lake is local and throwaway, with an embedded catalog, and reports no lineage.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVENTLAKE_", "OPENLINEAGE"))}
    env["EVENTLAKE_IVY_DIR"] = settings.ivy_dir
    with log_file.open("w") as log:
        done = subprocess.run(
            [sys.executable, "-c", f"from eventlake.jvm_archive import _train; _train({str(partial)!r})"],
            env=env, stdout=log, stderr=subprocess.STDOUT, check=False,
        )
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the training run failed (exit {done.returncode}); its output: {log_file}")
    partial.replace(target)
    target.with_suffix(".json").write_text(json.dumps(_identity(), indent=2) + "\n")
    _forget_stale(target)
    return target


def _forget_stale(kept: Path) -> None:
    """Drop archives of venvs and JDKs that are gone, as recorded next to each."""
    for note in kept.parent.glob("*.json"):
        if note == kept.with_suffix(".json"):
            continue
        try:
            recorded = json.loads(note.read_text())
            gone = not Path(recorded["spark_home"]).is_dir() or not Path(recorded["java"]).is_file()
        except (OSError, ValueError, KeyError, TypeError):
            gone = False  # not ours to judge
        if gone:
            for stale in (note.with_suffix(".jsa"), note.with_suffix(".log"), note):
                stale.unlink(missing_ok=True)


def training_launch(settings: Settings, partial: Path) -> JvmLaunch:
    """The training JVM's start: it writes the archive to `partial` when it exits. C1 only,
    as a one-run JVM over little new data: the archive holds classes, not compiled code, so
    C2 would only slow the training (84.7 s with it, 75.6 s without); JVMs with C2 map the
    archive all the same."""
    return jvm_launch(settings, train_to=partial, one_run=True, new_bytes=0)


def _train(partial: str) -> None:
    """In the child: run a small pipeline in a JVM that writes its classes to `partial` when
    it exits, then stop that JVM and wait for the archive."""
    from eventlake.generate import generate_traffic
    from eventlake.pipeline import run_pipeline
    from eventlake.quality import preload
    from eventlake.spark import build_spark_session

    with tempfile.TemporaryDirectory(prefix="eventlake-jvm-archive-") as lake:
        settings = Settings.from_env({**os.environ, "EVENTLAKE_LAKE_URI": lake})
        generate_traffic(settings, events=TRAINING_EVENTS, days=2, start_date=date(2026, 11, 1), seed=1)
        preload()
        spark = build_spark_session(settings, "eventlake-jvm-archive", catalog=True,
                                    jvm=training_launch(settings, Path(partial)))
        run_pipeline(spark, settings, run_id="jvm-archive")
        stop_jvm(spark)


def stop_jvm(spark: SparkSession) -> None:
    """Stop the session and its JVM, and wait for the JVM to exit (it writes a training
    archive on its way out). pyspark's JVM exits when its standard input closes."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    spark.stop()
    process = getattr(gateway, "proc", None)
    if gateway is None or process is None:  # not a JVM this process launched
        return
    gateway.shutdown()
    if process.stdin is not None:
        process.stdin.close()
    process.wait(timeout=300)
    SparkContext._gateway = None
    SparkContext._jvm = None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--force", action="store_true", help="train it again even if this machine has one")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from eventlake.errors import UserError

    target = archive_path(settings)
    if target.is_file() and not args.force:
        print(f"the JVM class archive is in place: {target} ({target.stat().st_size >> 20} MiB)")
        return 0
    why = unusable()  # before training: its JVM could not write an archive
    if why is not None:
        raise UserError(f"no JVM class archive: {why}")
    print(f"training the JVM class archive: a {TRAINING_EVENTS}-event pipeline in a throwaway lake (once)")
    started = time.perf_counter()
    try:
        built = build_archive(settings)
    except RuntimeError as error:
        raise UserError(f"no JVM class archive: {error}") from None
    print(f"wrote {built} ({built.stat().st_size >> 20} MiB) in {time.perf_counter() - started:.0f} s")
    return 0
