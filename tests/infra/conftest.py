"""Shared readers for the infra/ files the tests check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"

# ${VAR}, ${VAR:-default}, ${VAR?error}: compose interpolation (and `$$` escapes a dollar).
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:]?[-?+][^}]*)?\}")
# Variable names whose values are credentials or secrets.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|SALT|TOKEN|FERNET|ACCESS_KEY|PRIVATE", re.IGNORECASE)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not NAME=value: {line!r}"
        values[name.strip()] = value.strip()
    return values


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (INFRA / "docker-compose.yml").read_text()


@pytest.fixture(scope="session")
def compose(compose_text) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return read_env_file(INFRA / ".env.example")


def interpolate(value: str, env: dict[str, str]) -> str:
    return INTERPOLATION.sub(lambda m: env[m.group(1)], value)
