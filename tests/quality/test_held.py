"""`eventlake.quality.held`: a bronze batch that failed its gate stays away from silver.

Bronze ledgers a batch's files before its gate runs, so without the hold the next run finds
nothing new in landing and silver reads the batch that failed. Here a batch with a third of
its lines not JSON (the fail share is a tenth) fails bronze's gate; the next run must stop
before silver, again and again, until an operator changes the threshold or releases the run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from eventlake.errors import QualityGateFailed
from eventlake.generate import generate_traffic
from eventlake.lake import Lake
from eventlake.landing import LocalSink, encode_lines, landing_key
from eventlake.pending import pending_work
from eventlake.pipeline import run_pipeline
from eventlake.quality.held import held_bronze_runs
from eventlake.state import delta_table_exists

pytestmark = pytest.mark.e2e


def land_bad_batch(settings, name: str, lines: int = 40) -> None:
    LocalSink(settings.lake_root).put(
        landing_key(datetime(2026, 11, 2, 10, tzinfo=UTC), name),
        encode_lines(f"not json {i}".encode() for i in range(lines)),
    )


def test_a_failed_bronze_batch_is_held_from_silver_until_it_passes_or_is_released(
    spark, settings, monkeypatch, capsys
):
    from eventlake import cli

    lake = Lake.from_settings(settings)
    generate_traffic(settings, events=60, days=1, start_date=date(2026, 11, 2), seed=5)
    land_bad_batch(settings, "garbage-1.jsonl.gz")

    with pytest.raises(QualityGateFailed, match="bronze quality gate failed for run first"):
        run_pipeline(spark, settings, run_id="first", layers=("bronze", "silver"))
    assert [run.run_id for run in held_bronze_runs(settings)] == ["first"]
    # The gate's Data Docs pages are rendered in the background; the run that stopped on
    # it waited for them, so the failure an operator is told of is on its page already.
    assert list((Path(lake.quality_docs) / "validations" / "bronze" / "run" / "first").rglob("*.html"))
    assert not delta_table_exists(spark, lake.silver_events.path)

    # Nothing new landed, yet the run is not idle: silver has a held batch to look at again.
    pending = pending_work(settings)
    assert pending.new_landing_files == 0 and not pending.idle
    assert pending.layers() == ("silver", "gold")
    assert "first" in pending.describe()

    # The next run stops before silver reads bronze, and says how to go on.
    with pytest.raises(QualityGateFailed) as stopped:
        run_pipeline(spark, settings, run_id="second", layers=("silver", "gold"))
    assert "silver did not run: bronze run first's lines are held" in str(stopped.value)
    assert "eventlake quality --release first" in str(stopped.value)
    assert not delta_table_exists(spark, lake.silver_events.path)
    assert [run.run_id for run in held_bronze_runs(settings)] == ["first"]

    # An operator raises the threshold: the held run passes now, is released, silver reads it.
    lenient = settings.with_overrides(quarantine_fail_share=0.5)
    [result] = run_pipeline(spark, lenient, run_id="third", layers=("silver",))
    assert "bronze run first passes its quality gate now; silver reads its lines" in result.warnings
    assert held_bronze_runs(settings) == []
    # Silver read every bronze line, the held batch's garbage among them (quarantined).
    assert result.summary["lines_read"] == spark.read.format("delta").load(lake.bronze_events.path).count()
    assert result.summary["quarantined"] >= 40

    # A later bad batch is held again (under a run id with a space, quoted in its file name);
    # this time the operator accepts it as it is.
    land_bad_batch(settings, "garbage-2.jsonl.gz")
    with pytest.raises(QualityGateFailed, match="bronze quality gate failed for run 4th run"):
        run_pipeline(spark, settings, run_id="4th run", layers=("bronze",))
    assert [run.run_id for run in held_bronze_runs(settings)] == ["4th run"]

    monkeypatch.setenv("EVENTLAKE_LAKE_URI", settings.lake_root)
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    capsys.readouterr()
    assert cli.main(["quality", "--release", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "eventlake quality: no bronze run nope is held (held runs: 4th run)"
    assert cli.main(["quality", "--release", "4th run"]) == 0
    released = capsys.readouterr().out
    # What was released, and why it had been held: the failure the gate recorded.
    assert "bronze run 4th run released (held since " in released
    assert "parse_failure_share_below_fail" in released, released
    assert held_bronze_runs(settings) == []
    assert "4th run" not in pending_work(settings).describe()


def _no_spark(*args, **kwargs):
    raise AssertionError("releasing a held run needs no Spark session")
