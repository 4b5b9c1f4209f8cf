"""`eventlake.pending`: what a pipeline run would do, read without Spark.

The answers are compared with what the Spark jobs themselves decide: the landing URIs with
bronze's own listing (spelling included), "idle" with a pipeline run that then writes
nothing, and each kind of pending work with the layer that picks it up.
"""

from __future__ import annotations

from datetime import date

import pytest

from eventlake.bronze.ingest import list_landing_files
from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.lake import Lake
from eventlake.pending import Pending, landing_uris, new_landing_bytes, pending_work
from eventlake.pipeline import run_pipeline

pytestmark = pytest.mark.unit


def lake_settings(root) -> Settings:
    return Settings.from_env({"EVENTLAKE_LAKE_URI": str(root), "EVENTLAKE_PSEUDONYM_SALT": "pending-salt"})


@pytest.mark.parametrize("folder", ["plain", "with space+plus,comma", "ünïcode=é"])
def test_landing_uris_are_spelt_as_spark_lists_them(spark, tmp_path, folder):
    settings = lake_settings(tmp_path / folder / "lake")
    generate_traffic(settings, events=60, days=1, start_date=date(2026, 11, 2), seed=3)
    (tmp_path / folder / "lake" / "landing" / "events" / ".tmp-half-written.jsonl.gz").write_bytes(b"")
    assert landing_uris(settings) == list(list_landing_files(spark, settings))


def test_files_in_a_symlinked_folder_are_pending_as_bronze_would_ingest_them(spark, tmp_path):
    """The idle check and bronze list the same files: a folder mounted into the landing
    zone by a symlink is work for both (the idle check used not to follow symlinks, so an
    hourly run could skip files bronze would have ingested)."""
    settings = lake_settings(tmp_path / "lake")
    generate_traffic(settings, events=30, days=1, start_date=date(2026, 11, 2), seed=3)
    landed = sum(f.stat().st_size for f in (tmp_path / "lake" / "landing").rglob("*.jsonl.gz"))
    assert new_landing_bytes(settings) == pending_work(settings).new_landing_bytes == landed > 0
    run_pipeline(spark, settings, run_id="first", layers=("bronze",), quality=False)
    assert pending_work(settings).new_landing_files == 0
    assert new_landing_bytes(settings) == 0

    mounted = tmp_path / "mounted" / "event_hour=23"
    mounted.mkdir(parents=True)
    (mounted / "late-producer.jsonl").write_bytes(b'{"not": "an event"}\n')
    day = next((tmp_path / "lake" / "landing" / "events").glob("event_date=*"))
    (day / "mounted-hour").symlink_to(mounted, target_is_directory=True)

    assert landing_uris(settings) == list(list_landing_files(spark, settings))
    assert pending_work(settings).new_landing_files == 1
    assert new_landing_bytes(settings) == pending_work(settings).new_landing_bytes == len(b'{"not": "an event"}\n')


def test_each_layer_behind_is_named_until_a_run_has_done_its_work(spark, tmp_path):
    settings = lake_settings(tmp_path / "lake")
    assert pending_work(settings).idle  # an empty lake: nothing landed, nothing to do
    generate_traffic(settings, events=120, days=1, start_date=date(2026, 11, 2), seed=4)
    files = len(list(tmp_path.joinpath("lake", "landing").rglob("*.jsonl.gz")))
    state = pending_work(settings)
    assert state.new_landing_files == files > 0 and not state.idle
    assert "landing file(s) not ingested" in state.describe()

    run_pipeline(spark, settings, run_id="bronze-only", layers=("bronze",), quality=False)
    state = pending_work(settings)
    assert (state.new_landing_files, state.silver_behind) == (0, True)
    assert state.gold_behind == ()  # no silver yet: gold has nothing to read

    run_pipeline(spark, settings, run_id="silver", layers=("silver",), quality=False)
    state = pending_work(settings)
    assert not state.silver_behind
    from eventlake.gold.tables import GOLD_TABLES

    assert state.gold_behind == tuple(GOLD_TABLES)  # no gold table exists yet

    run_pipeline(spark, settings, run_id="gold", layers=("gold",), quality=False)
    state = pending_work(settings)
    assert state.idle, state.describe()
    assert state.describe().startswith("nothing new")

    # A gold table whose watermark is gone (a consumer never run) is work again, and only
    # that one. (Its folder stays: the session's catalog still points at it.)
    (tmp_path / "lake" / "_state" / "consumers" / "gold.daily_kpis.json").unlink()
    assert pending_work(settings).gold_behind == ("daily_kpis",)

    # A file that lands later is bronze's work, and only bronze's.
    generate_traffic(settings, events=30, days=1, start_date=date(2026, 11, 3), seed=6)
    state = pending_work(settings)
    assert state.new_landing_files > 0 and not state.silver_behind


def test_commits_that_change_no_row_a_consumer_reads_are_not_work_and_a_run_skips_idle_layers(
    spark, tmp_path, monkeypatch, capsys
):
    """After an erasure's or retention's deletes and a compaction, the next hourly run must
    not start Spark for nothing; an erasure's deletes in silver are gold's work, and the run
    that does them runs gold only."""
    from delta.tables import DeltaTable

    from eventlake.gold.tables import GOLD_TABLES
    from eventlake.maintenance.retention import RETENTION_COMMIT_TAG
    from eventlake.maintenance.tables import commit_metadata

    settings = lake_settings(tmp_path / "lake")
    lake = Lake.from_settings(settings)
    generate_traffic(settings, events=120, days=2, start_date=date(2026, 11, 2), seed=8)
    run_pipeline(spark, settings, run_id="first", quality=False)
    assert pending_work(settings).idle

    # Bronze loses lines (an erasure, retention) and is compacted: silver reads inserts only.
    DeltaTable.forPath(spark, lake.bronze_events.path).delete("line_number = 1")
    spark.sql(f"OPTIMIZE delta.`{lake.bronze_events.path}`")
    assert pending_work(settings).idle, pending_work(settings).describe()
    # Silver's retention deletes and a compaction: gold keeps the periods silver dropped.
    with commit_metadata(spark, f"{RETENTION_COMMIT_TAG} as_of=2027-11-03"):
        DeltaTable.forPath(spark, lake.silver_events.path).delete("event_date = '2026-11-02'")
    spark.sql(f"OPTIMIZE delta.`{lake.silver_events.path}`")
    assert pending_work(settings).idle, pending_work(settings).describe()
    # What the jobs decide agrees: a pipeline run now changes no table.
    def version(path: str) -> int:
        return DeltaTable.forPath(spark, path).history(1).first()["version"]

    def versions() -> dict[str, int]:
        paths = {"silver": lake.silver_events.path} | {n: lake.gold(n).path for n in GOLD_TABLES}
        return {n: version(p) for n, p in paths.items()}

    before = versions()
    run_pipeline(spark, settings, run_id="nothing-to-do", quality=False)
    assert versions() == before

    # An erasure's delete in silver changes gold: every gold table is behind until a run.
    DeltaTable.forPath(spark, lake.silver_events.path).delete("event_date = '2026-11-03'")
    state = pending_work(settings)
    assert not state.silver_behind and state.gold_behind == tuple(GOLD_TABLES)

    # A run that starts Spark skips, and does not validate again, the layers with nothing
    # new: here it runs gold only. --force runs all three.
    from eventlake import cli

    def kpi_days() -> set[str]:
        daily_kpis = spark.read.format("delta").load(lake.gold("daily_kpis").path)
        return {r.event_date.isoformat() for r in daily_kpis.select("event_date").collect()}

    assert kpi_days() == {"2026-11-02", "2026-11-03"}
    upstream = {path: version(path) for path in (lake.bronze_events.path, lake.silver_events.path)}
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", settings.lake_root)
    monkeypatch.setenv("EVENTLAKE_PSEUDONYM_SALT", "pending-salt")
    monkeypatch.setenv("EVENTLAKE_CATALOG_DIR", str(tmp_path / "catalog"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", lambda *args, **kwargs: spark)

    def layers_printed(*args: str) -> list[str]:
        capsys.readouterr()
        assert cli.main(["pipeline", *args]) == 0
        return [line.split(":")[0].strip() + (" skipped" if "skipped, nothing to do" in line else "")
                for line in capsys.readouterr().out.splitlines()
                if line.split(":")[0].strip() in ("bronze", "silver", "gold")]

    assert layers_printed("--run-id", "gold-only") == ["bronze skipped", "silver skipped", "gold"]
    assert {path: version(path) for path in upstream} == upstream
    # Gold took the delete in and kept the day retention removed from silver.
    assert kpi_days() == {"2026-11-02"}
    # Only gold was validated: the skipped layers' suites did not run again.
    results = spark.read.format("delta").load(lake.quality_results.path)
    assert {r.layer for r in results.where("run_id = 'gold-only'").select("layer").distinct().collect()} == {"gold"}
    assert pending_work(settings).idle

    # A recompute rebuilds gold's periods of its days; silver re-cleans the bronze lines
    # ingested on them, and there are none on the event day, only on the day of the run.
    assert layers_printed("--run-id", "repair", "--skip-quality",
                          "--from-date", "2026-11-02", "--to-date", "2026-11-02") == [
        "bronze skipped", "silver skipped", "gold"]
    [(ingest_day,)] = spark.read.format("delta").load(lake.bronze_events.path).select("ingest_date").distinct().collect()
    assert layers_printed("--run-id", "re-clean", "--skip-quality",
                          "--from-date", ingest_day.isoformat(), "--to-date", ingest_day.isoformat()) == [
        "bronze skipped", "silver", "gold"]
    assert layers_printed("--run-id", "forced", "--skip-quality", "--force") == ["bronze", "silver", "gold"]


def test_the_cli_on_an_idle_lake_says_so_without_spark(tmp_path, monkeypatch, capsys):
    from eventlake import cli

    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    assert cli.main(["pipeline", "--run-id", "idle"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pipeline idle: nothing new") and "no Spark started" in out


def test_a_half_given_recompute_range_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    from eventlake import cli

    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    assert cli.main(["pipeline", "--from-date", "2026-11-02"]) == 2
    assert cli.main(["pipeline", "--from-date", "2026-11-03", "--to-date", "2026-11-02"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["eventlake pipeline: give both --from-date and --to-date, or neither",
                   "eventlake pipeline: --from-date 2026-11-03 is after --to-date 2026-11-02"]


def _no_spark(*args, **kwargs):
    raise AssertionError("a Spark session was asked for")


def test_eventlake_run_takes_the_pipelines_options_and_refuses_a_bad_range_before_spark(
    tmp_path, monkeypatch, capsys
):
    """One front door: `eventlake run <layer>` has every option of `eventlake pipeline`
    except --force (a single layer has no idle check to override), with the same checks."""
    from eventlake import cli

    def option_strings(command: str) -> set[str]:
        parser = cli.build_parser(command)
        sub = next(a for a in parser._actions if a.dest == "command")
        return {o for action in sub.choices[command]._actions for o in action.option_strings}

    assert option_strings("pipeline") - option_strings("run") == {"--force"}
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    assert cli.main(["run", "gold", "--from-date", "2026-11-03", "--to-date", "2026-11-02"]) == 2
    assert cli.main(["run", "silver", "--to-date", "2026-11-02"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "eventlake run: --from-date 2026-11-03 is after --to-date 2026-11-02",
        "eventlake run: give both --from-date and --to-date, or neither",
    ]


DAYS = (date(2026, 11, 1), date(2026, 11, 2))


@pytest.mark.parametrize(
    ("pending", "layers"),
    [
        (Pending(), ()),
        (Pending(new_landing_files=1), ("bronze", "silver", "gold")),
        (Pending(silver_behind=True), ("silver", "gold")),
        (Pending(gold_behind=("track_daily",)), ("gold",)),
        # A held bronze run is silver's work: silver re-validates it before reading bronze.
        (Pending(held_bronze_runs=("2026-11-01T00",)), ("silver", "gold")),
        # An explicit recompute always rebuilds gold; silver only when bronze holds lines of its days.
        (Pending(recompute=DAYS), ("gold",)),
        (Pending(recompute=DAYS, lines_to_recompute=True), ("silver", "gold")),
        # Without a recompute, lines of some days are not silver's work.
        (Pending(lines_to_recompute=True), ()),
    ],
)
def test_a_run_runs_the_layers_whose_inputs_changed(pending, layers):
    assert pending.layers() == layers
    for skipped in {"bronze", "silver", "gold"} - set(layers):
        reason = pending.skipped(skipped)
        assert reason and ("days recomputed" in reason) == (skipped == "silver" and pending.recompute is not None)


@pytest.mark.parametrize("command", [["pipeline"], ["run", "silver"], ["quality", "--layer", "bronze"]])
@pytest.mark.parametrize("run_id", ["a/b", "c\\d", " "])
def test_a_run_id_gx_cannot_store_is_a_usage_error_before_spark(tmp_path, monkeypatch, capsys, command, run_id):
    """GX's result and Data Docs stores refuse '/' and '\\' in a key: such an id used to
    fail the first gate with a stack trace, after the layer had written."""
    from eventlake import cli

    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    with pytest.raises(SystemExit) as exited:
        cli.main([*command, "--run-id", run_id])
    assert exited.value.code == 2
    assert "is not a run id" in capsys.readouterr().err.strip().splitlines()[-1]


def test_airflow_run_ids_are_run_ids():
    from eventlake.pipeline import run_id_argument

    for run_id in ("scheduled__2026-11-03T00:00:00+00:00", "backfill__2026-11-01", "manual run 2"):
        assert run_id_argument(run_id) == run_id



def test_a_hold_that_is_not_a_hold_is_named_in_one_line_not_a_stack_trace(tmp_path, monkeypatch, capsys):
    """`_state/held/` is operator-visible state: a truncated or hand-edited hold stops the
    run with the file's name and exit 2, before Spark. It is not skipped: that would let
    silver read the batch the hold keeps out."""
    from eventlake import cli
    from eventlake.lease import store_for
    from eventlake.quality.held import HeldRun, held_bronze_runs, held_key, hold_bronze_run

    settings = lake_settings(tmp_path / "lake")
    kept = hold_bronze_run(settings, "2026-11-02T10", {"bronze_version": 3}, "parse failures 60 %")
    assert held_bronze_runs(settings) == [kept]
    assert HeldRun.from_json(kept.to_json(), kept.key) == kept

    store_for(settings).put(held_key("2026-11-02T10"), b'{"run_id": "2026-11-02T10", "summ')
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.setattr("eventlake.spark.build_spark_session", _no_spark)
    assert cli.main(["pipeline", "--run-id", "next"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "_state/held/bronze-2026-11-02T10.json is not a held bronze run" in err[0]


def _data_files(table_path: str) -> dict[str, int]:
    """A Delta table's parquet data files on disk (its log and change-data files excluded)
    -> bytes: the reference the log's sizes are compared with."""
    from pathlib import Path

    root = Path(table_path)
    return {str(p): p.stat().st_size for p in root.rglob("*.parquet")
            if "_delta_log" not in p.parts and "_change_data" not in p.parts}


def test_the_new_data_a_run_reads_counts_what_a_layer_has_not_read_yet(spark, tmp_path, monkeypatch):
    """A run killed after bronze or silver (or a layer run alone) leaves the next layer a
    backlog with nothing new in landing: that backlog is the next run's new data too, and
    sizes its JVM's compiler (a large backlog keeps C2)."""
    from eventlake import jvm_archive
    from eventlake.pending import new_data_bytes

    settings = lake_settings(tmp_path / "lake")
    bronze_path, silver_path = Lake.from_settings(settings).bronze_events.path, Lake.from_settings(settings).silver_events.path
    generate_traffic(settings, events=120, days=1, start_date=date(2026, 11, 2), seed=4)
    run_pipeline(spark, settings, run_id="bronze-only", layers=("bronze",), quality=False)
    first_files = _data_files(bronze_path)
    state = pending_work(settings)
    # Silver has read nothing: every bronze file is its new data, and nothing is in landing.
    assert state.new_landing_bytes == 0
    assert state.bronze_unread_bytes == state.new_bytes == new_data_bytes(settings) == sum(first_files.values()) > 0
    monkeypatch.setattr(jvm_archive, "QUICK_JVM_MAX_BYTES", state.new_bytes - 1)
    assert not jvm_archive.little_new_data(settings)

    # Silver has read bronze; gold has reflected nothing: all of silver is gold's new data.
    run_pipeline(spark, settings, run_id="silver", layers=("silver",), quality=False)
    silver_files = _data_files(silver_path)
    state = pending_work(settings)
    assert state.bronze_unread_bytes == 0
    assert state.silver_unread_bytes == state.new_bytes == new_data_bytes(settings) == sum(silver_files.values()) > 0
    run_pipeline(spark, settings, run_id="gold", layers=("gold",), quality=False)
    assert pending_work(settings).idle and new_data_bytes(settings) == 0
    assert jvm_archive.little_new_data(settings)

    # Another bronze run: only its own files are silver's new data (read from the commits
    # after silver's watermark, not from the whole table); then silver's new files gold's.
    generate_traffic(settings, events=40, days=1, start_date=date(2026, 11, 3), seed=5)
    run_pipeline(spark, settings, run_id="bronze-again", layers=("bronze",), quality=False)
    added = {path: size for path, size in _data_files(bronze_path).items() if path not in first_files}
    assert pending_work(settings).bronze_unread_bytes == new_data_bytes(settings) == sum(added.values()) > 0
    run_pipeline(spark, settings, run_id="silver-again", layers=("silver",), quality=False)
    added = {path: size for path, size in _data_files(silver_path).items() if path not in silver_files}
    state = pending_work(settings)
    assert (state.bronze_unread_bytes, state.new_landing_bytes) == (0, 0)
    assert state.silver_unread_bytes == new_data_bytes(settings) == sum(added.values()) > 0
