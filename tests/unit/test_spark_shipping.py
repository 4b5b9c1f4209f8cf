"""The archive a cluster's executors get eventlake from (`eventlake.spark.package_archive`).

The cluster itself is exercised by tests/s3/test_s3_end_to_end.py; this checks the archive
alone: what it holds, that it is rebuilt only when the package changes, and that a Python
without eventlake installed can import it and read its registry from the zip.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import eventlake
from eventlake.spark import package_archive
from eventlake.taxonomy import load_taxonomy

PACKAGE = Path(eventlake.__file__).resolve().parent


def test_the_archive_holds_the_package_code_and_its_data_files_but_no_bytecode(tmp_path):
    archive = package_archive(tmp_path)
    names = set(zipfile.ZipFile(archive).namelist())
    expected_modules = {
        f"eventlake/{path.relative_to(PACKAGE).as_posix()}"
        for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts
    }
    assert expected_modules <= names
    assert "eventlake/taxonomy/events.yaml" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert all(n.startswith("eventlake/") for n in names)


def test_the_archive_is_named_by_its_content(tmp_path):
    first = package_archive(tmp_path)
    assert first.name.startswith(f"eventlake-{eventlake.__version__}-")
    assert package_archive(tmp_path) == first  # unchanged package: the same file, not rebuilt
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no partial file left behind


def test_a_python_without_eventlake_imports_it_and_its_registry_from_the_archive(tmp_path):
    archive = package_archive(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import eventlake.taxonomy as t\n"
        "print(t.__file__); print(len(t.load_taxonomy().names))\n"
    )
    # -S: no site-packages, so the installed (editable) eventlake is out of reach; yaml is
    # the registry's one dependency and is given its own folder.
    import yaml

    yaml_home = str(Path(yaml.__file__).resolve().parents[1])
    isolated = tmp_path / "yaml-only"
    isolated.mkdir()
    for entry in ("yaml", "_yaml"):
        if (Path(yaml_home) / entry).exists():
            (isolated / entry).symlink_to(Path(yaml_home) / entry)
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(archive)],
        env={"PYTHONPATH": str(isolated)}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    where, count = done.stdout.split()
    assert where.startswith(str(archive))
    assert int(count) == len(load_taxonomy().names) > 0
