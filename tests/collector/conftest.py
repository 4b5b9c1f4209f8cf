"""Collector fixtures (helpers live in helpers.py)."""

from __future__ import annotations

import pytest

from .helpers import collector_settings, serve


@pytest.fixture
def collector(tmp_path):
    """A collector with HS256 tokens and one API key, landing into the test's own lake."""
    with serve(collector_settings(tmp_path)) as running:
        yield running
