"""The cluster's spark-defaults.conf and the Kubernetes examples agree with eventlake.spark."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from eventlake.config import Settings
from eventlake.spark import spark_conf, spark_packages

from .conftest import INFRA, REPO

pytestmark = pytest.mark.unit

CREDENTIAL_KEYS = {
    "spark.hadoop.fs.s3a.access.key",
    "spark.hadoop.fs.s3a.secret.key",
    "spark.hadoop.fs.s3a.session.token",
}
# Where the image keeps the repository's jobs (infra/Dockerfile).
IMAGE_JOBS = "local:///opt/eventlake/jobs/"


def read_spark_defaults(path: Path) -> dict[str, str]:
    conf = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        assert key not in conf, f"{key} set twice"
        conf[key] = value.strip()
    return conf


def compose_lake_settings() -> Settings:
    # What the compose services get: an s3a lake on the `minio` service, keys from the env.
    return Settings.from_env(
        {
            "EVENTLAKE_LAKE_URI": "s3a://eventlake",
            "EVENTLAKE_S3_ENDPOINT": "http://minio:9000",
            "EVENTLAKE_PSEUDONYM_SALT": "unused",
            "EVENTLAKE_IVY_DIR": "/opt/eventlake/ivy",
        }
    )


@pytest.fixture(scope="module")
def spark_defaults() -> dict[str, str]:
    return read_spark_defaults(INFRA / "spark" / "spark-defaults.conf")


def test_spark_defaults_carry_every_setting_eventlake_relies_on(spark_defaults):
    settings = compose_lake_settings()
    expected = {
        key: value
        for key, value in spark_conf(settings).items()
        # The catalog is chosen per session (build_spark_session), not per cluster.
        if key != "spark.sql.catalogImplementation"
    }
    assert {key: spark_defaults.get(key) for key in expected} == expected
    assert spark_defaults["spark.jars.packages"] == ",".join(spark_packages(settings))


def test_spark_defaults_hold_no_credentials(spark_defaults):
    assert CREDENTIAL_KEYS & set(spark_defaults) == set()
    assert not any("password" in key.lower() for key in spark_defaults)


def test_spark_defaults_point_at_the_compose_master(spark_defaults, compose):
    assert spark_defaults["spark.master"] == "spark://spark-master:7077"
    master = compose["services"]["spark-master"]
    assert master["hostname"] == "spark-master" and "7077" in master["command"]


def k8s_documents() -> list[dict]:
    documents = []
    for path in sorted((INFRA / "k8s").glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_k8s_manifests_are_well_formed_and_in_one_namespace():
    documents = k8s_documents()
    kinds = sorted(doc["kind"] for doc in documents)
    assert kinds == [
        "ConfigMap", "Namespace", "Role", "RoleBinding", "ServiceAccount", "SparkApplication"
    ]
    for doc in documents:
        assert doc["apiVersion"] and doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "eventlake", doc["metadata"]["name"]


def test_the_spark_application_runs_a_real_job_with_eventlakes_settings():
    documents = k8s_documents()
    (app,) = [d for d in documents if d["kind"] == "SparkApplication"]
    spec = app["spec"]
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    assert (spec["type"], spec["mode"]) == ("Python", "cluster")
    main_file = spec["mainApplicationFile"]
    assert main_file.startswith(IMAGE_JOBS)
    assert (REPO / "jobs" / main_file[len(IMAGE_JOBS):]).is_file()

    import pyspark

    assert spec["sparkVersion"] == pyspark.__version__
    settings = compose_lake_settings()
    assert spec["deps"]["packages"] == spark_packages(settings)
    expected = spark_conf(settings)
    for key in ("spark.sql.extensions", "spark.sql.catalog.spark_catalog",
                "spark.sql.session.timeZone", "spark.delta.logStore.s3a.impl", "spark.jars.ivy"):
        assert spec["sparkConf"][key] == expected[key], key
    # Credentials come from the pod's IAM role, never from the manifest.
    hadoop = {f"spark.hadoop.{k}": v for k, v in spec["hadoopConf"].items()}
    assert CREDENTIAL_KEYS & (set(hadoop) | set(spec["sparkConf"])) == set()
    assert hadoop["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"

    names = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert ("ServiceAccount", spec["driver"]["serviceAccount"]) in names
    for pod in (spec["driver"], spec["executor"]):
        refs = [ref["configMapRef"]["name"] for ref in pod["envFrom"] if "configMapRef" in ref]
        assert all(("ConfigMap", name) in names for name in refs)


def test_the_spark_submit_example_runs_a_real_job():
    script = INFRA / "k8s" / "spark-submit-silver.sh"
    subprocess.run(["sh", "-n", str(script)], check=True)
    job = script.read_text().rsplit(IMAGE_JOBS, 1)[1].split()[0]
    assert (REPO / "jobs" / job).is_file()
