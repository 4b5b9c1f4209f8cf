"""Data Docs pages are rendered by GX's views, their Jinja templates compiled once per process."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from eventlake.quality import docs_views, validate_layer

from .tables import write_bronze

pytestmark = pytest.mark.unit


def test_a_second_gate_renders_its_pages_without_compiling_a_template(spark, settings, lake, monkeypatch):
    compiled: list[str | None] = []
    compile_template = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return compile_template(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    docs_views.COMPILED_TEMPLATES.clear()  # as in a new process
    summary = write_bronze(spark, lake, ['{"event_id": "a"}', "not json"])

    validate_layer(spark, settings, "bronze", run_id="docs-1", run_summary=summary)
    first = list(compiled)
    compiled.clear()
    validate_layer(spark, settings, "bronze", run_id="docs-2", run_summary=summary)

    assert first, "the first gate of a process compiles GX's templates"
    assert compiled == []
    docs = Path(lake.quality_docs)
    index = (docs / "index.html").read_text()
    for run_id in ("docs-1", "docs-2"):
        pages = list((docs / "validations").rglob(f"{run_id}/**/*.html"))
        assert pages and all("<html" in page.read_text() for page in pages), run_id
        assert f"/{run_id}/" in index, run_id
