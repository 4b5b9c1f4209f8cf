"""What LakeSparkSubmitOperator gives the JVM it starts: real spark-submit processes.

The pipeline's task is one run whose work follows the new landing data; over little of it
the driver compiles with C1 only, as `eventlake pipeline`'s JVM does (eventlake.jvm_archive).
A recompute reads the days it names, whatever landed, and keeps C2.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.airflow

# A job that writes down how its own JVM compiles, as HotSpot reports it.
ASK_THE_JVM = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
jvm = spark.sparkContext._jvm
bean = jvm.java.lang.management.ManagementFactory.getPlatformMXBean(
    jvm.java.lang.Class.forName("com.sun.management.HotSpotDiagnosticMXBean"))
with open(sys.argv[1], "w") as out:
    out.write(bean.getVMOption("TieredStopAtLevel").getValue() + " "
              + bean.getVMOption("ReservedCodeCacheSize").getValue())
spark.stop()
"""


@pytest.fixture
def common(operator_env, monkeypatch):
    # The suite's own JVM flags (tests/short_lived.py) would decide the compiler instead.
    for variable in ("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "SPARK_SUBMIT_OPTS"):
        monkeypatch.delenv(variable, raising=False)
    return operator_env


def test_the_pipeline_tasks_driver_compiles_with_c1_only_over_little_new_data(common, tmp_path):
    job = tmp_path / "ask_the_jvm.py"
    job.write_text(ASK_THE_JVM)

    def compiler(params: dict[str, str], *, one_run: bool = True) -> str:
        answer = tmp_path / "answer.txt"
        answer.unlink(missing_ok=True)
        task = common.LakeSparkSubmitOperator(
            task_id="run_pipeline", application=str(job), application_args=[str(answer)],
            range_flags=("--from-date", "--to-date"), one_run=one_run,
        )
        task.execute({"params": params})
        return answer.read_text()

    # Nothing landed yet: little new data. 251658240 bytes: C2's 240 MB code cache, kept.
    assert compiler({}) == "1 251658240"
    assert compiler({"from_date": "2026-11-01", "to_date": "2026-11-02"}).startswith("4 ")
    assert compiler({}, one_run=False).startswith("4 ")  # maintenance, erasure, exports: C2
