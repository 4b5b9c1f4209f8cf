"""An installed eventlake (a built wheel, no checkout) carries what it needs at run time.

The wheel is built from a copy of the repository's sources (offline: the venv's own
setuptools, no build isolation), installed into an empty folder, and imported from there in
a child process whose working directory is not a checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src", "dags", "expectations")


def build_wheel(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            # symlinks=True: src/eventlake/expectations stays a link to ../../expectations.
            shutil.copytree(source, tree / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif source.exists():
            shutil.copy2(source, tree / name)
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(out), str(tree)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return next(out.glob("eventlake-*.whl"))


def test_the_wheel_carries_the_suites_and_an_installed_eventlake_loads_them(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for layer in ("bronze", "silver", "gold"):
        packaged = f"eventlake/expectations/{layer}.yaml"
        assert packaged in names, sorted(n for n in names if "expectations" in n)
        # A copy of the file, not a link: byte for byte the repository's suite.
        assert zipfile.ZipFile(wheel).read(packaged) == (REPO / "expectations" / f"{layer}.yaml").read_bytes()
    assert "eventlake/taxonomy/events.yaml" in names

    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTLAKE_")}
    env["PYTHONPATH"] = str(target)
    probe = subprocess.run(
        [sys.executable, "-c",
         "import eventlake, json; from eventlake.quality.suites import load_layer, default_suites_dir;"
         "print(json.dumps([eventlake.__file__, str(default_suites_dir()),"
         " {l: len(load_layer(l).suites) for l in ('bronze', 'silver', 'gold')}]))"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]

    module_file, suites_dir, counts = json.loads(probe.stdout.strip().splitlines()[-1])
    assert module_file.startswith(str(target)), module_file
    assert suites_dir.startswith(str(target)), suites_dir
    from eventlake.quality.suites import load_layer

    checkout = {layer: len(load_layer(layer, REPO / "expectations").suites) for layer in counts}
    assert counts == checkout and all(checkout.values()), (counts, checkout)
