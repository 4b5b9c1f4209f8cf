"""Data Docs views whose Jinja templates are compiled once per process.

GX builds its Data Docs site anew for every `build_data_docs` call, and with it every
page view and that view's Jinja environment, so every gate parsed and compiled GX's
templates again: a third of its rendering (a gold gate's 23 pages and index on the 1 M
lake, 0.29 s of CPU against 0.20 s with the templates kept; docs/benchmarks.md). Each
gate renders, and the test suite runs hundreds in one process. These views are GX's own,
with one change: their environments share a bytecode cache, Jinja's documented way to
keep compiled templates. A template is found in it by its name and the checksum of its
source, so a changed template is compiled anew. The lake's site names them in its config
(eventlake.quality.engine).
"""

from __future__ import annotations

import threading

from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class _ProcessBytecode(BytecodeCache):
    """Compiled templates kept in memory for the life of the process."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code

    def clear(self) -> None:
        with self._lock:
            self._code.clear()


COMPILED_TEMPLATES = _ProcessBytecode()


class PageView(DefaultJinjaPageView):
    """GX's page view (suites and validation results), its templates compiled once."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = COMPILED_TEMPLATES


class IndexPageView(DefaultJinjaIndexPageView):
    """GX's index page view, its templates compiled once."""

    def __init__(self, custom_styles_directory: str | None = None, custom_views_directory: str | None = None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        self.env.bytecode_cache = COMPILED_TEMPLATES
