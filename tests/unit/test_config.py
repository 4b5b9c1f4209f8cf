"""eventlake.config: one table of variables; every value checked; typos reported."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.config import (
    OTHER_VARIABLES,
    VARIABLES,
    ConfigError,
    Settings,
    describe_settings,
    unknown_variables,
)
from eventlake.settings_cli import render_markdown

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
NUMBERS = [v for v in VARIABLES if v.kind in ("number", "whole")]


def test_every_setting_is_read_from_exactly_one_variable():
    fields = [f.name for f in dataclasses.fields(Settings)]
    read = [v.field for v in VARIABLES]
    assert sorted(read) == sorted(fields)
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EVENTLAKE_FLUSH_SECONDS": "nan"}, "EVENTLAKE_FLUSH_SECONDS='nan' must be a finite number"),
        ({"EVENTLAKE_FLUSH_SECONDS": "inf"}, "EVENTLAKE_FLUSH_SECONDS='inf' must be a finite number"),
        ({"EVENTLAKE_FLUSH_SECONDS": "0"}, "EVENTLAKE_FLUSH_SECONDS='0' must be more than 0"),
        ({"EVENTLAKE_QUARANTINE_FAIL_SHARE": "7"}, "EVENTLAKE_QUARANTINE_FAIL_SHARE='7' must be at most 1"),
        ({"EVENTLAKE_QUARANTINE_WARN_SHARE": "-0.1"}, "EVENTLAKE_QUARANTINE_WARN_SHARE='-0.1' must be at least 0"),
        ({"EVENTLAKE_QUARANTINE_WARN_SHARE": "0.5", "EVENTLAKE_QUARANTINE_FAIL_SHARE": "0.2"},
         "EVENTLAKE_QUARANTINE_WARN_SHARE=0.5 is above EVENTLAKE_QUARANTINE_FAIL_SHARE=0.2"),
        ({"EVENTLAKE_LEASE_TTL_SECONDS": "0"}, "EVENTLAKE_LEASE_TTL_SECONDS='0' must be more than 0"),
        ({"EVENTLAKE_RATE_LIMIT_PER_MINUTE": "1.5"}, "EVENTLAKE_RATE_LIMIT_PER_MINUTE='1.5' must be a whole number"),
        ({"EVENTLAKE_HTTP_MAX_HEADERS": "ten"}, "EVENTLAKE_HTTP_MAX_HEADERS='ten' is not a number"),
        ({"EVENTLAKE_ALLOW_ANONYMOUS": "maybe"}, "EVENTLAKE_ALLOW_ANONYMOUS='maybe': use true or false"),
        ({"EVENTLAKE_LAKE_URI": "http://x/y"}, "EVENTLAKE_LAKE_URI='http://x/y': use a local path"),
    ],
)
def test_nonsense_is_refused_with_the_variable_named(env, message):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert str(error.value).startswith(message)


def test_values_are_read_into_their_types():
    settings = Settings.from_env({
        "EVENTLAKE_FLUSH_SECONDS": "0.25", "EVENTLAKE_RATE_LIMIT_PER_MINUTE": "0",
        "EVENTLAKE_HTTP_MAX_HEADERS": "1e2", "EVENTLAKE_ALLOW_ANONYMOUS": "yes",
        "EVENTLAKE_API_KEYS": "a, b c", "EVENTLAKE_QUARANTINE_FAIL_SHARE": "1",
        "EVENTLAKE_COLLECTOR_ID": "c-1", "EVENTLAKE_LAKE_URI": "s3://bucket/lake",
        "EVENTLAKE_PSEUDONYM_SALT": "s",
    })
    assert settings.flush_seconds == 0.25
    assert settings.rate_limit_per_minute == 0
    assert settings.http_max_headers == 100 and isinstance(settings.http_max_headers, int)
    assert settings.allow_anonymous is True
    assert settings.api_keys == ("a", "b", "c")
    assert settings.quarantine_fail_share == 1.0
    assert settings.collector_id == "c-1"
    assert settings.lake_uri == "s3a://bucket/lake"
    # Unset and empty variables leave the Settings field's default.
    assert Settings.from_env({"EVENTLAKE_FLUSH_SECONDS": ""}).flush_seconds == Settings().flush_seconds


@given(variable=st.sampled_from(NUMBERS),
       raw=st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(-10**12, 10**12).map(str), st.text(max_size=8)))
def test_a_number_variable_is_in_its_bounds_or_refused(variable, raw):
    env = {variable.name: raw}
    try:
        settings = Settings.from_env(env)
    except ConfigError as error:
        assert variable.name in str(error)  # the cross-check names both shares
        return
    if raw == "":
        return
    value = getattr(settings, variable.field)
    assert math.isfinite(value)
    if variable.minimum is not None:
        assert value >= variable.minimum
    if variable.maximum is not None:
        assert value <= variable.maximum
    if variable.above is not None:
        assert value > variable.above
    if variable.kind == "whole":
        assert isinstance(value, int)


def test_a_misspelt_variable_is_reported_with_the_one_meant():
    env = {"EVENTLAKE_LAKEURI": "/data/lake", "EVENTLAKE_BUCKET": "lake", "EVENTLAKE_LAKE_URI": "/x",
           "EVENTLAKE_COMPLETELY_DIFFERENT": "1", "OTHER": "1"}
    assert unknown_variables(env) == [
        "EVENTLAKE_COMPLETELY_DIFFERENT is set but nothing reads it",
        "EVENTLAKE_LAKEURI is set but nothing reads it; did you mean EVENTLAKE_LAKE_URI?",
    ]


def test_every_eventlake_variable_the_repository_uses_is_known():
    """A variable used anywhere (code, DAGs, infra, scripts, docs, tests) is one Settings
    reads or one listed as read elsewhere: the unknown-variable report never cries wolf."""
    known = {v.name for v in VARIABLES} | set(OTHER_VARIABLES)
    used: dict[str, str] = {}
    # These two name misspelt variables on purpose.
    typos_on_purpose = {REPO / "src/eventlake/config.py", Path(__file__).resolve()}
    folders = ["src", "jobs", "dags", "infra", "scripts", "bench", ".ci", "docs", "tests", "dbt"]
    for folder in folders:
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and path.suffix not in (".pyc", ".gz", ".parquet", ".jar", ".duckdb", ".msgpack") \
                    and path.resolve() not in typos_on_purpose:
                # Not AIRFLOW_CONN_EVENTLAKE_ALERTS (an Airflow connection, not ours to read).
                for name in re.findall(r"(?<![A-Z0-9_])EVENTLAKE_[A-Z0-9_]+", path.read_text(errors="replace")):
                    used.setdefault(name, str(path.relative_to(REPO)))
    # Prefixes mentioned in prose (EVENTLAKE_METASTORE_*) are not variables.
    unknown = {n: where for n, where in used.items() if n not in known and not n.endswith("_")}
    assert unknown == {}


def test_config_masks_secrets_and_check_fails_on_unknown_variables(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLAKE_")}
    env.update(EVENTLAKE_LAKE_URI=str(tmp_path / "lake"), EVENTLAKE_JWT_SECRET="very-secret-value",
               EVENTLAKE_PSEUDONYM_SALT="salty-secret", EVENTLAKE_FLUSH_SECONDS="7")
    command = [sys.executable, "-m", "eventlake.cli", "config"]
    shown = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "very-secret-value" not in shown.stdout and "salty-secret" not in shown.stdout
    lines = {line.split()[0]: line for line in shown.stdout.splitlines()}
    assert lines["EVENTLAKE_JWT_SECRET"].split(None, 1)[1] == "(set, hidden)  (environment)"
    assert lines["EVENTLAKE_FLUSH_SECONDS"].split(None, 1)[1] == "7  (environment)"
    assert lines["EVENTLAKE_SPARK_MASTER"].split(None, 1)[1] == "local[*]  (default)"
    assert lines["EVENTLAKE_LAKE_URI"].split(None, 1)[1] == f"{tmp_path / 'lake'}  (environment)"

    typo = subprocess.run([*command, "--check"], env=dict(env, EVENTLAKE_FLUSH_SECOND="7"),
                          capture_output=True, text=True, timeout=120)
    assert typo.returncode == 2
    assert typo.stderr.strip().splitlines() == [
        "eventlake config: 1 unknown EVENTLAKE_* variable(s): EVENTLAKE_FLUSH_SECOND is set but "
        "nothing reads it; did you mean EVENTLAKE_FLUSH_SECONDS?"
    ]

    nonsense = subprocess.run(command, env=dict(env, EVENTLAKE_QUARANTINE_FAIL_SHARE="7"),
                              capture_output=True, text=True, timeout=120)
    assert nonsense.returncode == 2
    assert nonsense.stderr.strip().splitlines() == [
        "eventlake config: EVENTLAKE_QUARANTINE_FAIL_SHARE='7' must be at most 1"
    ]


def test_describe_never_shows_a_secret():
    secrets = {v.name: f"secret-{i}-value" for i, v in enumerate(VARIABLES) if v.secret}
    env = dict(secrets, EVENTLAKE_API_KEYS="secret-k1 secret-k2")
    rows = describe_settings(Settings.from_env(env), env)
    assert not any("secret-" in value for _, value, _ in rows)


def test_docs_configuration_is_generated_from_the_variables():
    committed = (REPO / "docs" / "configuration.md").read_text("utf-8")
    assert committed == render_markdown(), (
        "docs/configuration.md is stale: run `eventlake config --markdown > docs/configuration.md`"
    )
