"""The documents point only at what a reader of the repository can open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "expectations" / "README.md",
             *sorted((REPO / "docs").glob("*.md"))]
TOP = "docs|src|tests|jobs|dags|infra|bench|scripts|expectations"
# `docs/x.md`, `src/eventlake/config.py`, bare docs/x.md in prose, and Markdown links.
MENTION = re.compile(rf"(?<![\w/.-])((?:{TOP})/[A-Za-z0-9_./-]*[A-Za-z0-9_])")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Files the reader creates (not kept in the repository), and why.
CREATED_BY_THE_READER = {
    "infra/.env": "copied from infra/.env.example and filled with the deployment's secrets",
}


def mentions(document: Path) -> list[tuple[str, Path]]:
    text = document.read_text("utf-8")
    found = [(m, REPO / m) for m in MENTION.findall(text)]
    found += [(m, (document.parent / m).resolve()) for m in LINK.findall(text) if "://" not in m]
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_a_document_names_exists(document):
    missing = [
        name for name, path in mentions(document)
        # Glob patterns and placeholders name a family of files, not one.
        if not any(c in name for c in "*<{") and not path.exists()
        and name not in CREATED_BY_THE_READER
    ]
    assert missing == [], f"{document.relative_to(REPO)} names what the repository lacks"
