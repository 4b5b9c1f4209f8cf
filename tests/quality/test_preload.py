"""`preload` imports Great Expectations beside a JVM's start, and only when there is one to wait for."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

# A fresh interpreter: the test process has imported GX long ago.
SCRIPT = """
import os, sys, threading
from eventlake.quality import preload
preload()
for thread in threading.enumerate():
    if thread.name == "gx-preload":
        thread.join()
print("great_expectations" in sys.modules, os.environ.get("GX_ANALYTICS_ENABLED"))
"""


def run(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_preload_imports_gx_with_its_analytics_off():
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_GATEWAY_PORT", "GX_ANALYTICS_ENABLED")}
    assert run(env) == "True False"


def test_under_spark_submit_there_is_nothing_to_overlap():
    env = {k: v for k, v in os.environ.items() if k != "GX_ANALYTICS_ENABLED"}
    assert run({**env, "PYSPARK_GATEWAY_PORT": "1"}) == "False None"
