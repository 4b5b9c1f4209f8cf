"""A failed spark-submit task says what failed and what to do, in its first line.

Real spark-submit processes (the pyspark wheel's launcher) run real jobs that fail the way
jobs fail: argparse refusing an option (exit 2) and a quality gate (exit 3).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_a_usage_mistake_reads_as_the_jobs_own_line_and_what_to_do(operator_env):
    common = operator_env
    task = common.LakeSparkSubmitOperator(
        task_id="bring_gold_up_to_date", application=common.job("gold", "build_gold"),
        application_args=["--from-date", "nonsense"],
    )
    with pytest.raises(Exception) as raised:
        task.execute({"params": {}})
    first_line = str(raised.value).splitlines()[0]
    assert first_line == (
        "bring_gold_up_to_date failed (exit 2): eventlake run: error: argument --from-date: "
        "'nonsense' is not a date (YYYY-MM-DD). What to do: " + common.WHAT_TO_DO[2] + "."
    )
    assert not isinstance(raised.value, common.AirflowFailException)  # retried as usual
    # The provider's message (the whole command line) is kept in the chain, not in front.
    assert "spark-submit" not in str(raised.value)
    assert "--jars" in str(raised.value.__cause__)


def test_a_quality_gate_fails_at_once_with_what_to_do(operator_env, tmp_path):
    common = operator_env
    job = tmp_path / "gate.py"
    job.write_text(
        "import sys\n"
        "print('some output of the run')\n"
        "print('eventlake pipeline: silver quality gate failed: quarantine_share 0.31 > 0.1',"
        " file=sys.stderr)\n"
        f"sys.exit({common.QUALITY_GATE_EXIT_CODE})\n"
    )
    task = common.LakeSparkSubmitOperator(task_id="run_pipeline", application=str(job))
    with pytest.raises(common.AirflowFailException) as raised:  # no retry: the data is bad
        task.execute({"params": {}})
    assert str(raised.value) == (
        "run_pipeline failed (exit 3): eventlake pipeline: silver quality gate failed: "
        "quarantine_share 0.31 > 0.1. What to do: " + common.WHAT_TO_DO[3] + "."
    )


def test_the_summary_of_a_failure_without_output_names_the_error():
    sys.path.insert(0, str(DAGS))
    try:
        from eventlake_airflow.common import OTHER_FAILURE, failure_summary
    finally:
        sys.path.remove(str(DAGS))
    summary = failure_summary("t", FileNotFoundError(2, "No such file or directory: 'spark-submit'"), [])
    assert summary == (
        "t failed: FileNotFoundError: [Errno 2] No such file or directory: 'spark-submit'. "
        f"What to do: {OTHER_FAILURE}."
    )
    # Spark's own log lines and stack frames are not the job's line.
    tail = ["eventlake run: the lake is busy", "26/12/02 05:33:21 WARN Utils: something", "  at x.y(z)"]
    assert failure_summary("t", RuntimeError("Cannot execute: x. Error code is: 75."), tail).startswith(
        "t failed (exit 75): eventlake run: the lake is busy. What to do: another writer"
    )
