"""A limit that finds nothing scans its partitions on every core at once (eventlake.spark)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.unit


def test_a_limit_that_finds_nothing_scans_every_partition_in_one_job(spark):
    cores = spark.sparkContext.defaultParallelism
    assert spark.conf.get("spark.sql.limit.initialNumPartitions") == str(cores)
    group = "limit-on-every-core"
    spark.sparkContext.setJobGroup(group, "a limit over partitions without a match")
    try:
        # What Great Expectations does for a column check that passes: filter(...).limit(20).
        found = spark.range(0, 10_000, numPartitions=cores).where("id < 0").limit(20).collect()
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert found == []
    jobs = spark.sparkContext.statusTracker().getJobIdsForGroup(group)
    # Spark's default (one partition first, then 4× more) needs a second job on 2 cores.
    assert len(jobs) == 1, jobs
    stages = [spark.sparkContext.statusTracker().getJobInfo(job).stageIds for job in jobs]
    tasks = [spark.sparkContext.statusTracker().getStageInfo(stage).numTasks for ids in stages for stage in ids]
    assert sum(tasks) == cores


@pytest.mark.parametrize(
    ("variables", "master", "configured", "expected"),
    [
        ({}, "local[*]", "16", 4),  # eventlake's cluster default on a local master: 2 per core
        ({}, "local[2]", None, 4),
        ({}, "local", "16", 4),
        ({}, "spark://master:7077", "16", None),  # a cluster keeps 16
        ({}, "k8s://https://api:6443", "16", None),
        ({}, "local[*]", "64", None),  # given to spark-submit: the operator's choice
        ({"EVENTLAKE_SPARK_PARTITIONS": "7"}, "local[*]", "7", None),
    ],
)
def test_a_local_session_shuffles_into_two_partitions_per_core_unless_told(
    tmp_path, variables, master, configured, expected
):
    from eventlake.config import Settings
    from eventlake.spark import local_shuffle_partitions

    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path), **variables})
    assert local_shuffle_partitions(settings, master, 2, configured) == expected
