"""How fast `eventlake generate` writes landing files: python bench/generate_speed.py [EVENTS]

Writes into a temporary lake (deleted afterwards) and prints lines/second and the summary.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from datetime import date

from eventlake.config import Settings
from eventlake.generate import generate_traffic


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    root = tempfile.mkdtemp(prefix="eventlake-bench-")
    try:
        started = time.perf_counter()
        summary = generate_traffic(
            Settings.from_env({"EVENTLAKE_LAKE_URI": root}),
            events=events, days=3, start_date=date(2026, 11, 1), seed=42,
        )
        seconds = time.perf_counter() - started
        print(f"{events} lines in {seconds:.1f} s ({events / seconds:,.0f} lines/s)")
        print(summary.describe())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
