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


def test_a_local_session_shuffles_into_two_partitions_per_core_unless_told(spark, tmp_path):
    from eventlake.config import Settings
    from eventlake.spark import size_shuffles_to_local_cores

    cores = spark.sparkContext.defaultParallelism
    before = spark.conf.get("spark.sql.shuffle.partitions")
    try:
        spark.conf.set("spark.sql.shuffle.partitions", "16")
        told = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path), "EVENTLAKE_SPARK_PARTITIONS": "7"})
        size_shuffles_to_local_cores(spark, told)
        assert spark.conf.get("spark.sql.shuffle.partitions") == "16"  # the operator's setting stands
        size_shuffles_to_local_cores(spark, Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path)}))
        assert spark.conf.get("spark.sql.shuffle.partitions") == str(max(2, 2 * cores))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", before)
