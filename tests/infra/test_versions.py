"""One version of each part everywhere it is written: pyproject, the Dockerfile, Kubernetes
and the jars eventlake asks Ivy for (compose's third-party images: tests/infra/test_compose.py).

A version written twice drifts; these checks make a bump that misses a copy fail here
rather than in a cluster.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from eventlake.spark import DELTA_PACKAGE, HADOOP_AWS_PACKAGE

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def pinned(name: str) -> str:
    """The exact version pyproject pins a dependency (or an extra's dependency) to."""
    requirements = [*PROJECT["dependencies"], *(r for extra in PROJECT["optional-dependencies"].values() for r in extra)]
    [version] = [r.split("==", 1)[1] for r in requirements if re.match(rf"{re.escape(name)}(\[.*\])?==", r)]
    return version


def dockerfile_arg(name: str) -> str:
    [value] = re.findall(rf"^ARG {name}=(\S+)$", (REPO / "infra" / "Dockerfile").read_text(), re.M)
    return value


def test_spark_delta_and_hadoop_agree_from_pyproject_to_the_cluster():
    spark = pinned("pyspark")
    assert pinned("pyspark-client") == spark  # else pyspark-client overwrites pyspark's files
    # The Delta jar is built for this Spark line and matches the Python wheel.
    spark_line = ".".join(spark.split(".")[:2])
    assert DELTA_PACKAGE == f"io.delta:delta-spark_{spark_line}_2.13:{pinned('delta-spark')}"
    (app,) = [d for d in yaml.safe_load_all((REPO / "infra/k8s/sparkapplication-bronze.yaml").read_text())
              if d and d.get("kind") == "SparkApplication"]
    assert app["spec"]["sparkVersion"] == spark
    assert app["spec"]["deps"]["packages"] == [DELTA_PACKAGE, HADOOP_AWS_PACKAGE]
    # hadoop-aws must match the Hadoop client jars inside the pinned pyspark wheel.
    import pyspark

    assert pyspark.__version__ == spark, "the venv's pyspark is not pyproject's pin: rerun make setup"
    jars = Path(pyspark.__file__).parent / "jars"
    [client] = [p.name for p in jars.glob("hadoop-client-api-*.jar")]
    assert client == f"hadoop-client-api-{HADOOP_AWS_PACKAGE.rsplit(':', 1)[1]}.jar"


def test_the_image_carries_the_python_and_version_pyproject_declares():
    python = dockerfile_arg("PYTHON_VERSION")
    low, high = re.fullmatch(r">=(\d+\.\d+),<(\d+\.\d+)", PROJECT["requires-python"]).groups()
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(low) <= as_tuple(python) < as_tuple(high)
    dockerfile = (REPO / "infra" / "Dockerfile").read_text()
    # Paths inside the image name the same Python.
    assert set(re.findall(r"lib/python(\d+\.\d+)/", dockerfile)) == {python}
    # The Kubernetes manifests run the image of this version of eventlake.
    tags = re.findall(r"image: \S+/eventlake:(\S+)", (REPO / "infra/k8s/sparkapplication-bronze.yaml").read_text())
    assert tags and set(tags) == {PROJECT["version"]}


def test_compose_builds_the_s3_server_the_test_suite_runs():
    """MinIO's upstream images stopped; compose builds the server from source at the same
    commit `.ci/s3-server.sh` builds for the s3 tests, so what is tested is what is deployed."""
    [ci_module] = re.findall(r'^MINIO_MODULE="(\S+)"$', (REPO / ".ci" / "s3-server.sh").read_text(), re.M)
    assert dockerfile_arg("MINIO_MODULE") == ci_module
    assert re.fullmatch(r"github\.com/minio/mc@v\S+", dockerfile_arg("MC_MODULE"))
    compose = yaml.safe_load((REPO / "infra" / "docker-compose.yml").read_text())["services"]
    assert compose["minio"]["build"]["target"] == "minio"
    assert compose["minio-init"]["image"] == compose["minio"]["image"]  # its `mc` comes from there
    assert "quay.io/minio" not in (REPO / "infra" / ".env.example").read_text()


def test_airflow_is_installed_with_the_constraints_of_the_pinned_version():
    assert dockerfile_arg("AIRFLOW_VERSION") == pinned("apache-airflow")
    dockerfile = (REPO / "infra" / "Dockerfile").read_text()
    [command] = re.findall(r'pip install "apache-airflow==\$\{AIRFLOW_VERSION\}" --constraint \\\n\s+"(\S+)"', dockerfile)
    assert command == (
        "https://raw.githubusercontent.com/apache/airflow/constraints-${AIRFLOW_VERSION}/"
        "constraints-no-providers-${PYTHON_VERSION}.txt"
    )
    # PYTHON_VERSION names the constraints file, so it is major.minor, as Airflow names them.
    assert re.fullmatch(r"\d+\.\d+", dockerfile_arg("PYTHON_VERSION"))
