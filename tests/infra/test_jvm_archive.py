"""The JVM class archive (eventlake.jvm_archive): trained once, mapped by later local JVMs,
and never a condition for a JVM to start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventlake.cli import main as cli_main
from eventlake.config import Settings
from eventlake import jvm_archive
from eventlake.jvm_archive import (
    C1_ONLY,
    QUIET,
    JvmLaunch,
    _forget_stale,
    archive_path,
    jvm_launch,
    launch_environment,
    little_new_data,
    unusable,
)
from eventlake.spark import JAR_MANIFEST
from process_output import failure_excerpt


def settings_in(ivy: Path) -> Settings:
    return Settings.from_env({"EVENTLAKE_IVY_DIR": str(ivy), "EVENTLAKE_LAKE_URI": "./lakehouse"})


@pytest.fixture
def no_class_path_folders(monkeypatch):
    for name in ("SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_DIST_CLASSPATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.unit
def test_without_an_archive_a_jvm_starts_as_it_always_did(tmp_path, no_class_path_folders):
    assert jvm_launch(settings_in(tmp_path / "ivy")) == JvmLaunch()


@pytest.mark.unit
def test_an_archive_in_place_is_mapped_with_an_empty_configuration_folder(tmp_path, no_class_path_folders):
    settings = settings_in(tmp_path / "ivy")
    archive = archive_path(settings)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"not checked here: the JVM checks it")

    launch = jvm_launch(settings)
    assert launch.java_options == f"-XX:SharedArchiveFile={archive} {QUIET}"
    assert launch.environment is not None
    conf_dir = Path(launch.environment["SPARK_CONF_DIR"])
    assert conf_dir.is_dir() and not any(conf_dir.iterdir())
    # Training writes a new one; it never maps the old one while doing so.
    training = jvm_launch(settings, train_to=tmp_path / "new.jsa")
    assert training.java_options == f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'} {QUIET}"


@pytest.mark.unit
@pytest.mark.parametrize("variable", ["SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_DIST_CLASSPATH"])
def test_folders_of_the_users_on_the_class_path_mean_no_archive(tmp_path, monkeypatch, no_class_path_folders, variable):
    settings = settings_in(tmp_path / "ivy")
    archive_path(settings).parent.mkdir(parents=True)
    archive_path(settings).write_bytes(b"x")
    monkeypatch.setenv(variable, str(tmp_path))
    assert jvm_launch(settings) == JvmLaunch()
    assert variable in (unusable() or "")
    # The command says so in one line, exit 2, and trains nothing.
    archive_path(settings).unlink()
    monkeypatch.setenv("EVENTLAKE_IVY_DIR", str(tmp_path / "ivy"))
    assert cli_main(["jvm-archive"]) == 2
    assert not archive_path(settings).exists()


def _land(lake: Path, name: str, size: int) -> None:
    folder = lake / "landing" / "events" / "event_date=2026-11-01"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"x" * size)


@pytest.mark.unit
def test_a_one_run_jvm_over_little_new_data_compiles_with_c1_only(tmp_path, monkeypatch, no_class_path_folders):
    monkeypatch.setattr(jvm_archive, "QUICK_JVM_MAX_BYTES", 1_000)
    lake = tmp_path / "lake"
    settings = Settings.from_env({"EVENTLAKE_IVY_DIR": str(tmp_path / "ivy"), "EVENTLAKE_LAKE_URI": str(lake)})
    assert little_new_data(settings)  # nothing landed yet
    _land(lake, "batch-1.jsonl", 600)
    _land(lake, ".batch-2.jsonl.tmp", 5_000)  # a writer's temporary file: not landed yet
    assert jvm_launch(settings, one_run=True) == JvmLaunch(C1_ONLY)
    assert jvm_launch(settings) == JvmLaunch()  # tests, benchmarks, serve-sql: C2 as always
    archive = archive_path(settings)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"x")
    assert jvm_launch(settings, one_run=True).java_options == f"-XX:SharedArchiveFile={archive} {QUIET} {C1_ONLY}"
    # What is new counts (tests/unit/test_pending.py: ingested files do not), not the lake.
    _land(lake, "batch-3.jsonl", 401)
    assert not little_new_data(settings)
    assert C1_ONLY not in jvm_launch(settings, one_run=True).java_options
    # A size the caller measured already (`eventlake pipeline`: pending_work's) decides
    # without listing the landing zone again.
    assert little_new_data(settings, new_bytes=1_000)
    assert C1_ONLY in jvm_launch(settings, one_run=True, new_bytes=0).java_options
    assert not little_new_data(settings, new_bytes=1_001)


@pytest.mark.unit
def test_an_s3_lakes_landing_zone_is_not_listed_again_for_the_compiler():
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": "s3a://bucket/lake", "EVENTLAKE_PSEUDONYM_SALT": "s"})
    assert not little_new_data(settings)


@pytest.mark.unit
def test_each_java_and_pyspark_gets_its_own_archive(tmp_path, monkeypatch):
    settings = settings_in(tmp_path / "ivy")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk-a"))
    first = archive_path(settings)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk-b"))
    assert archive_path(settings) != first
    assert first.parent == archive_path(settings).parent == tmp_path / "jvm"


@pytest.mark.unit
def test_the_launch_environment_is_put_back(monkeypatch):
    monkeypatch.setenv("SPARK_CONF_DIR", "/users/own")
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    with launch_environment(JvmLaunch("", {"SPARK_CONF_DIR": "/empty", "YARN_CONF_DIR": "/y"})):
        assert (os.environ["SPARK_CONF_DIR"], os.environ["YARN_CONF_DIR"]) == ("/empty", "/y")
    assert os.environ["SPARK_CONF_DIR"] == "/users/own"
    assert "YARN_CONF_DIR" not in os.environ


@pytest.mark.unit
def test_archives_of_venvs_that_are_gone_are_dropped(tmp_path):
    folder = tmp_path / "jvm"
    folder.mkdir()
    java = tmp_path / "java"
    java.write_text("")

    def archive(name: str, spark_home: Path | None) -> Path:
        (folder / f"{name}.jsa").write_bytes(b"x")
        note = {"spark_home": str(spark_home), "java": str(java)} if spark_home else {"other": 1}
        (folder / f"{name}.json").write_text(json.dumps(note))
        return folder / f"{name}.jsa"

    kept = archive("current", tmp_path)
    gone = archive("old-venv", tmp_path / "deleted-venv")
    live = archive("other-venv", tmp_path)
    unknown = archive("not-ours", None)
    _forget_stale(kept)
    assert kept.exists() and live.exists() and unknown.exists()
    assert not gone.exists() and not gone.with_suffix(".json").exists()


def _class_sources(script: str, train_to: str, env: dict[str, str], log: Path) -> tuple[dict[str, str], str]:
    """Run `script` in a child; where its JVM loaded each class from (-Xlog:class+load),
    and the highest tier its JVM compiles to (4: C2; 1: C1 only)."""
    log.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", script, train_to], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, failure_excerpt(done.stderr)
    assert "rows 3" in done.stdout
    tier = done.stdout.split("compiles up to tier ", 1)[1].split()[0]
    # C1 alone would reserve 48 MB, which a gold build fills (jvm_archive.C1_ONLY).
    assert int(done.stdout.split("code cache ", 1)[1].split()[0]) == 240 << 20
    sources = {}
    for line in log.read_text().splitlines():  # "[..][info][class,load] a.B source: …"
        name, _, source = line.partition("] ")[2].partition(" source: ")
        sources[name.rsplit(" ", 1)[-1]] = source
    return sources, tier


@pytest.mark.e2e
def test_a_trained_archive_is_mapped_by_the_next_jvm(spark, tmp_path):
    """Train an archive (a JVM that ran a Delta write), then start a JVM as eventlake does:
    it loads Spark's classes from the archive, where the training JVM read the jars."""
    real = Settings.from_env()
    ivy = tmp_path / "ivy"
    ivy.mkdir()
    # The session fixture's JVM recorded the jars: no resolution here.
    (ivy / JAR_MANIFEST).write_text((Path(real.ivy_dir) / JAR_MANIFEST).read_text())
    env = {**os.environ, "EVENTLAKE_IVY_DIR": str(ivy), "EVENTLAKE_LAKE_URI": str(tmp_path / "lake"),
           "SPARK_DRIVER_MEMORY": "1g"}
    # The suite's own options for short JVMs (tests/short_lived.py) stay out: the compiler
    # checked below is eventlake's choice alone.
    for name in ("SPARK_CONF_DIR", "HADOOP_CONF_DIR", "YARN_CONF_DIR", "SPARK_DIST_CLASSPATH", "SPARK_SUBMIT_OPTS"):
        env.pop(name, None)
    settings = settings_in(ivy)
    target = archive_path(settings)
    target.parent.mkdir(parents=True)
    log = tmp_path / "classes.log"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from eventlake.config import Settings\n"
        "from eventlake.jvm_archive import JvmLaunch, jvm_launch, stop_jvm, training_launch\n"
        "from eventlake.spark import build_spark_session\n"
        "s = Settings.from_env()\n"
        "launch = (training_launch(s, Path(sys.argv[1])) if sys.argv[1] not in ('-', '+') else\n"
        "          jvm_launch(s, one_run=sys.argv[1] == '-'))\n"
        f"launch = JvmLaunch(launch.java_options + ' -Xlog:class+load=info:file={log}', launch.environment)\n"
        "spark = build_spark_session(s, 'archive', jvm=launch)\n"
        "spark.range(3).write.format('delta').mode('overwrite').save(s.lake_root + '/t')\n"
        "print('rows', spark.read.format('delta').load(s.lake_root + '/t').count())\n"
        "jvm = spark.sparkContext._jvm\n"
        "bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(\n"
        "    jvm.java.lang.Class.forName('com.sun.management.HotSpotDiagnosticMXBean'))\n"
        "print('compiles up to tier', bean.getVMOption('TieredStopAtLevel').getValue())\n"
        "print('code cache', bean.getVMOption('ReservedCodeCacheSize').getValue())\n"
        "stop_jvm(spark)\n"
    )
    trained, tier = _class_sources(script, str(target), env, log)
    assert trained["org.apache.spark.SparkContext"].startswith("file:")  # from its jar, as before
    assert target.stat().st_size > 10_000_000  # written by the JVM on its way out
    assert tier == "1"  # the training JVM compiles with C1 only (jvm_archive.training_launch)

    # A one-run command over this (empty, so small) lake: the archive maps with C1 only.
    mapped, tier = _class_sources(script, "-", env, log)
    assert mapped["org.apache.spark.SparkContext"] == "shared objects file (top)"
    assert tier == "1"
    # A JVM that runs many jobs (a test session, a benchmark) keeps C2, and maps it too.
    mapped, tier = _class_sources(script, "+", env, log)
    assert mapped["org.apache.spark.SparkContext"] == "shared objects file (top)"
    assert tier == "4"
