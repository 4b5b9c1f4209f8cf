"""Fixtures for the generator tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generate")


@pytest.fixture
def cli_main(monkeypatch):
    """`eventlake.cli.main`, wired with the generate command only.

    cli.build_parser imports every command's module up front; while other commands are
    still being built their modules may not import, which is not what these tests are about.
    """
    from eventlake import cli

    monkeypatch.setattr(cli, "COMMANDS", {"generate": cli.COMMANDS["generate"]})
    return cli.main
