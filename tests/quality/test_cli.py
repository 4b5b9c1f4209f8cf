"""`eventlake quality` reads the run log, prints a summary and exits 3 on a critical failure."""

from __future__ import annotations

import argparse

import pytest

from eventlake.errors import QualityGateFailed
from eventlake.quality import cli
from eventlake.state import record_run

from .tables import silver_event, write_silver_run

pytestmark = pytest.mark.unit


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return parser.parse_args(argv)


def test_quality_command_reads_the_run_log_and_fails_on_critical(spark, settings, lake, capsys):
    events = [silver_event(1), silver_event(2, event_id="e1")]  # duplicate event_id
    summary = write_silver_run(spark, lake, events)
    record_run(spark, settings, "silver", "run-7", summary | {"run_id": "run-7"})

    with pytest.raises(QualityGateFailed) as raised:
        cli.main(parse(["--layer", "silver", "--run-id", "run-7"]), settings)

    assert raised.value.exit_code == 3
    assert "silver.run_rows.event_id_unique" in str(raised.value)
    printed = capsys.readouterr().out
    assert "silver quality, run run-7" in printed
    assert "FAILED critical silver.run_rows.event_id_unique" in printed


def test_as_of_must_be_iso_8601():
    with pytest.raises(SystemExit):
        parse(["--as-of", "yesterday"])
