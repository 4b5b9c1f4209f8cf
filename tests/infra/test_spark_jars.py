"""Spark's Maven packages are resolved once; later JVM starts use the recorded jars offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventlake.config import Settings
from eventlake.spark import (
    JAR_MANIFEST,
    dependency_conf,
    remember_resolved_jars,
    resolved_jars,
    spark_conf,
    spark_defaults_text,
    spark_packages,
    spark_submit_options,
)
from process_output import failure_excerpt


def lake_settings(ivy: Path, lake: str = "./lakehouse") -> Settings:
    return Settings.from_env(
        {"EVENTLAKE_IVY_DIR": str(ivy), "EVENTLAKE_LAKE_URI": lake, "EVENTLAKE_PSEUDONYM_SALT": "s"}
    )


@pytest.mark.unit
def test_without_a_manifest_jvms_resolve_packages(tmp_path):
    settings = lake_settings(tmp_path)
    assert resolved_jars(settings) is None
    assert dependency_conf(settings) == {"spark.jars.packages": ",".join(spark_packages(settings))}
    assert spark_submit_options(settings)["jars"] == ""


@pytest.mark.unit
def test_a_recorded_resolution_is_used_per_package_set(tmp_path):
    jars = [tmp_path / "delta.jar", tmp_path / "storage.jar"]
    for jar in jars:
        jar.write_bytes(b"PK")
    local = lake_settings(tmp_path)
    # Spark's own `spark.jars` after a resolution names each jar twice, in two spellings.
    remember_resolved_jars(local, ",".join([*(f"file://{jar}" for jar in jars), *(f"file:{jar}" for jar in jars)]))

    assert resolved_jars(local) == [str(jar) for jar in jars]
    assert dependency_conf(local) == {"spark.jars": ",".join(map(str, jars))}
    options = spark_submit_options(local)
    assert (options["jars"], options["packages"]) == (",".join(map(str, jars)), "")
    assert f"spark.jars {jars[0]},{jars[1]}" in spark_defaults_text(local, local_jars=True)
    # A cluster's file keeps coordinates: its machines resolve into their own cache.
    assert "spark.jars.packages io.delta" in spark_defaults_text(local)
    # The S3 set (with hadoop-aws) is another key: not resolved yet.
    assert resolved_jars(lake_settings(tmp_path, "s3a://bucket/lake")) is None


@pytest.mark.unit
def test_a_jar_gone_from_the_cache_means_resolve_again(tmp_path):
    jar = tmp_path / "delta.jar"
    jar.write_bytes(b"PK")
    settings = lake_settings(tmp_path)
    remember_resolved_jars(settings, str(jar))
    jar.unlink()
    assert resolved_jars(settings) is None
    assert "spark.jars.packages" in dependency_conf(settings)


@pytest.mark.e2e
def test_a_warm_start_needs_no_ivy_and_no_network(spark, tmp_path):
    """With the recorded jars, a JVM starts and writes Delta with an empty Ivy folder and
    every proxy pointing at a closed port: nothing was resolved or downloaded."""
    real = Settings.from_env()
    # The session fixture started a JVM through build_spark_session: the jars are recorded.
    manifest = json.loads((Path(real.ivy_dir) / JAR_MANIFEST).read_text())
    offline_ivy = tmp_path / "ivy"
    offline_ivy.mkdir()
    (offline_ivy / JAR_MANIFEST).write_text(json.dumps(manifest))
    closed = "http://127.0.0.1:9"
    env = {
        **os.environ,
        "EVENTLAKE_IVY_DIR": str(offline_ivy),
        "EVENTLAKE_LAKE_URI": str(tmp_path / "lake"),
        "SPARK_DRIVER_MEMORY": "1g",
        "http_proxy": closed, "https_proxy": closed, "HTTP_PROXY": closed, "HTTPS_PROXY": closed,
        "JAVA_TOOL_OPTIONS": "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=9 "
        "-Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9",
    }
    script = (
        "from eventlake.config import Settings\n"
        "from eventlake.spark import build_spark_session\n"
        "s = Settings.from_env()\n"
        "spark = build_spark_session(s, 'offline')\n"
        "assert spark.sparkContext.getConf().get('spark.jars.packages', None) is None\n"
        "print('shuffle', spark.conf.get('spark.sql.shuffle.partitions'), spark.sparkContext.defaultParallelism)\n"
        "print('snapshot', spark.conf.get('spark.databricks.delta.snapshotPartitions'))\n"
        "spark.range(3).write.format('delta').save(s.lake_root + '/t')\n"
        "print('rows', spark.read.format('delta').load(s.lake_root + '/t').count())\n"
    )
    # The suite pins its JVMs' partitions; a user's session that names none gets the local default.
    env.pop("EVENTLAKE_SPARK_PARTITIONS", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, failure_excerpt(done.stderr)
    assert "rows 3" in done.stdout
    # Two shuffle partitions per local core, not the cluster-sized 16 (size_shuffles_to_local_cores).
    shuffle, cores = next(line.split()[1:] for line in done.stdout.splitlines() if line.startswith("shuffle"))
    assert int(shuffle) == max(2, 2 * int(cores))
    # And Delta loads a snapshot's small state in one task, not the cluster's 4.
    assert "snapshot 1" in done.stdout.splitlines()
    # Ivy wrote nothing: no cache, no resolution report.
    assert sorted(p.name for p in offline_ivy.iterdir()) == [JAR_MANIFEST]


@pytest.mark.unit
def test_a_shared_metastore_adds_its_jdbc_driver_to_the_drivers_class_path(tmp_path):
    """DriverManager does not look into `spark.jars`: the PostgreSQL driver goes on the
    driver's class path, from spark-submit too (a job's own session starts too late)."""
    env = {"EVENTLAKE_IVY_DIR": str(tmp_path), "EVENTLAKE_LAKE_URI": "./lakehouse",
           "EVENTLAKE_METASTORE_URL": "jdbc:postgresql://db:5432/metastore",
           "EVENTLAKE_METASTORE_USER": "metastore", "EVENTLAKE_METASTORE_PASSWORD": "sesame"}
    settings = Settings.from_env(env)
    assert spark_packages(settings)[-1].startswith("org.postgresql:postgresql:")
    delta, driver = tmp_path / "io.delta_delta.jar", tmp_path / "org.postgresql_postgresql-42.jar"
    for jar in (delta, driver):
        jar.write_bytes(b"PK")
    remember_resolved_jars(settings, f"{delta},{driver}")

    catalog = spark_conf(settings, catalog=True)
    assert catalog["spark.hadoop.javax.jdo.option.ConnectionURL"] == "jdbc:postgresql://db:5432/metastore"
    assert catalog["spark.hadoop.javax.jdo.option.ConnectionDriverName"] == "org.postgresql.Driver"
    assert catalog["spark.driver.extraClassPath"] == str(driver)
    # No foreign keys: creating them from a second connection hangs the first CREATE TABLE.
    assert catalog["spark.hadoop.datanucleus.schema.autoCreateConstraints"] == "false"
    assert catalog["spark.hadoop.datanucleus.schema.autoCreateAll"] == "false"

    submit = spark_submit_options(settings)["conf"]
    assert submit["spark.driver.extraClassPath"] == str(driver)
    # The password reaches the job through its environment, never a command line or a file.
    assert "sesame" not in repr(spark_submit_options(settings))
    assert "sesame" not in spark_defaults_text(settings) + spark_defaults_text(settings, local_jars=True)
    # Without a shared metastore nothing of this is set.
    plain = lake_settings(tmp_path)
    assert "spark.driver.extraClassPath" not in spark_submit_options(plain)["conf"]
    assert spark_conf(plain, catalog=True)["spark.hadoop.javax.jdo.option.ConnectionURL"].startswith("jdbc:derby:")
