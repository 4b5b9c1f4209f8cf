"""Every Spark session computes in UTC: SQL, the JVM and the Python workers."""

from __future__ import annotations

import pytest

from eventlake.config import Settings
from eventlake.spark import pin_utc, spark_conf, spark_defaults_text, spark_submit_options

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("catalog", [False, True])
def test_conf_pins_utc_for_sql_both_jvms_and_the_python_workers(catalog, tmp_path):
    conf = spark_conf(Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path)}), catalog=catalog)
    assert conf["spark.sql.session.timeZone"] == "UTC"
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        assert "-Duser.timezone=UTC" in conf[key].split(), key
    assert conf["spark.executorEnv.TZ"] == "UTC"


def test_spark_submit_and_spark_defaults_carry_the_zone(tmp_path):
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": str(tmp_path)})
    assert spark_submit_options(settings)["conf"]["spark.executorEnv.TZ"] == "UTC"
    assert "spark.executorEnv.TZ UTC" in spark_defaults_text(settings).splitlines()


def test_the_sessions_jvm_and_python_workers_run_in_utc(spark):
    assert spark._jvm.java.util.TimeZone.getDefault().getID() == "UTC"

    def zone(_):
        import os
        import time

        yield (os.environ.get("TZ"), time.strftime("%z"))

    assert spark.sparkContext.parallelize([0], 1).mapPartitions(zone).collect() == [("UTC", "+0000")]


def test_a_jvm_started_in_another_zone_is_pinned_to_utc(spark):
    time_zone = spark._jvm.java.util.TimeZone
    time_zone.setDefault(time_zone.getTimeZone("Pacific/Kiritimati"))
    try:
        pin_utc(spark)
        assert time_zone.getDefault().getID() == "UTC"
    finally:
        time_zone.setDefault(time_zone.getTimeZone("UTC"))
