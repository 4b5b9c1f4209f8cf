"""Whose child a layer's OpenLineage run is: the Airflow task that started the job, when it
passed its run on (OPENLINEAGE_PARENT_ID), else eventlake's own pipeline run."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from eventlake.lineage import PIPELINE_JOB, parent_facet, run_uuid

pytestmark = pytest.mark.unit

TASK_RUN = "01936f2c-7d4e-7b8a-9c1d-2e3f4a5b6c7d"
DAG_RUN = "01936f2c-7d4e-7b8a-9c1d-000000000001"


def test_without_a_parent_the_pipeline_run_is_the_parent():
    facet = parent_facet("eventlake", "run-1", env={})
    assert (facet.job.namespace, facet.job.name, facet.run.runId) == ("eventlake", PIPELINE_JOB, run_uuid("run-1"))
    assert facet.root is None


def test_an_airflow_task_run_is_the_parent_and_its_dag_run_the_root():
    env = {"OPENLINEAGE_PARENT_ID": f"airflow/eventlake_pipeline.run_pipeline/{TASK_RUN}",
           "OPENLINEAGE_ROOT_PARENT_ID": f"airflow/eventlake_pipeline/{DAG_RUN}"}
    facet = parent_facet("eventlake", "run-1", env=env)
    assert (facet.job.namespace, facet.job.name, facet.run.runId) == (
        "airflow", "eventlake_pipeline.run_pipeline", TASK_RUN)
    assert (facet.root.job.namespace, facet.root.job.name, facet.root.run.runId) == (
        "airflow", "eventlake_pipeline", DAG_RUN)


@pytest.mark.parametrize("value", ["", "airflow", "airflow/job", "airflow/job/not-a-uuid", f"/job/{TASK_RUN}",
                                   f"airflow//{TASK_RUN}"])
def test_a_malformed_parent_falls_back_to_the_pipeline_run(value):
    facet = parent_facet("eventlake", "run-1", env={"OPENLINEAGE_PARENT_ID": value})
    assert facet.job.name == PIPELINE_JOB


@given(namespace=st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1),
       job=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
           lambda name: not name.startswith("/")), run=st.uuids())
def test_any_namespace_job_and_run_id_come_back_as_given(namespace, job, run):
    # A job name may hold '/', a namespace may not (the macro joins them with '/').
    value = f"{namespace}/{job}/{run}"
    assume(value == value.strip())  # surrounding whitespace is trimmed (environment values carry it)
    facet = parent_facet("eventlake", "r", env={"OPENLINEAGE_PARENT_ID": value})
    assert (facet.job.namespace, facet.job.name, facet.run.runId) == (namespace, job, str(run))


def test_sparks_listener_sends_where_the_layer_events_go_but_to_a_file_of_its_own():
    from eventlake.spark import spark_lineage_conf

    conf = spark_lineage_conf({
        "OPENLINEAGE__TRANSPORT__TYPE": "file", "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": "/var/log/lineage.jsonl",
        "OPENLINEAGE_PARENT_ID": f"airflow/eventlake_pipeline.run_pipeline/{TASK_RUN}",
    })
    assert conf["spark.extraListeners"] == "io.openlineage.spark.agent.OpenLineageSparkListener"
    assert (conf["spark.openlineage.transport.type"], conf["spark.openlineage.transport.location"]) == (
        "file", "/var/log/lineage.spark.jsonl")
    assert (conf["spark.openlineage.parentJobNamespace"], conf["spark.openlineage.parentJobName"],
            conf["spark.openlineage.parentRunId"]) == ("airflow", "eventlake_pipeline.run_pipeline", TASK_RUN)

    http = spark_lineage_conf({"OPENLINEAGE_URL": "http://marquez:5000", "OPENLINEAGE_NAMESPACE": "prod"})
    assert (http["spark.openlineage.transport.type"], http["spark.openlineage.transport.url"],
            http["spark.openlineage.namespace"]) == ("http", "http://marquez:5000", "prod")
    assert not any(key.startswith("spark.openlineage.parent") for key in http)


def test_sparks_listener_is_opt_in():
    from eventlake.config import Settings
    from eventlake.spark import OPENLINEAGE_SPARK_PACKAGE, spark_conf, spark_packages

    off = Settings.from_env({"EVENTLAKE_LAKE_URI": "./lakehouse"})
    on = Settings.from_env({"EVENTLAKE_LAKE_URI": "./lakehouse", "EVENTLAKE_SPARK_LINEAGE": "true"})
    assert OPENLINEAGE_SPARK_PACKAGE not in spark_packages(off) and "spark.extraListeners" not in spark_conf(off)
    assert OPENLINEAGE_SPARK_PACKAGE in spark_packages(on) and "spark.extraListeners" in spark_conf(on)
