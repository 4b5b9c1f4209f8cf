from __future__ import annotations

import pytest


pytestmark = pytest.mark.unit


@pytest.fixture
def lake_env(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTLAKE_LAKE_URI", str(tmp_path / "lake"))
    monkeypatch.delenv("EVENTLAKE_JWT_SECRET", raising=False)
    return tmp_path / "lake"


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--events", "many"], "--events 'many' is not an integer"),
        (["--events", "-5"], "--events must be at least 1"),
        (["--days", "0"], "--days must be between"),
        (["--start-date", "2026-13-01"], "--start-date '2026-13-01' is not a date"),
        (["--seed", "1.5"], "--seed '1.5' is not an integer"),
        (["--fault-share", "lots"], "--fault-share 'lots' is not a number"),
        (["--fault-share", "0.9"], "--fault-share must be between 0 and 0.5"),
        (["--clean", "--fault-share", "0.02"], "--clean and --fault-share contradict"),
        (["--batch", "a b"], "--batch 'a b'"),
        (["--to", "http://127.0.0.1:9"], "EVENTLAKE_JWT_SECRET"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(cli_main, lake_env, capsys, argv, fragment):
    assert cli_main(["generate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("eventlake generate: ") and fragment in err, err
    assert not lake_env.exists()


def test_generate_prints_a_one_paragraph_summary(cli_main, lake_env, capsys):
    assert cli_main(["generate", "--events", "400", "--days", "1", "--seed", "3", "--clean"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    assert out.startswith("Wrote 400 lines in ") and "seed 3, batch b0" in out
    assert "0 quarantined (none)" in out and "0 duplicates" in out
    assert len(list((lake_env / "landing" / "events").rglob("*.jsonl*"))) > 0
