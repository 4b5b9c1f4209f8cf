"""Bronze + silver throughput on generated traffic: events/s, wall time per stage, peak memory.

    .venv/bin/python bench/pipeline_bench.py --events 1000000 [--days 7] [--lake /tmp/bench-lake]

Peak memory is the largest resident set of this process tree (driver JVM, Python driver and
Spark's Python workers together), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import psutil


class PeakMemory:
    def __init__(self) -> None:
        self.peak = 0
        self.phase_peak = 0  # since the last mark()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.phase_peak = max(self.phase_peak, total)
            time.sleep(0.2)

    def mark(self) -> int:
        """The peak since the previous mark (bytes); starts a new phase."""
        peak, self.phase_peak = self.phase_peak, 0
        return peak

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--lake", default="/tmp/eventlake-bench-lake")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    from eventlake.bronze.ingest import ingest_bronze
    from eventlake.config import Settings
    from eventlake.generate import generate_traffic
    from eventlake.silver.job import clean_silver
    from eventlake.spark import build_spark_session

    shutil.rmtree(args.lake, ignore_errors=True)
    settings = Settings.from_env({"EVENTLAKE_LAKE_URI": args.lake, "EVENTLAKE_SPARK_MASTER": args.master})
    timings: dict[str, float] = {}
    with PeakMemory() as memory:
        start = time.perf_counter()
        generated = generate_traffic(settings, events=args.events, days=args.days,
                                     start_date=date(2026, 11, 1), seed=1)
        timings["generate (not part of the pipeline)"] = time.perf_counter() - start

        start = time.perf_counter()
        spark = build_spark_session(settings, "eventlake-bench")
        timings["spark session start"] = time.perf_counter() - start

        start = time.perf_counter()
        bronze = ingest_bronze(spark, settings)
        timings["bronze"] = time.perf_counter() - start

        start = time.perf_counter()
        silver = clean_silver(spark, settings)
        timings["silver"] = time.perf_counter() - start

    pipeline_seconds = timings["bronze"] + timings["silver"]
    landed = sum(p.stat().st_size for p in Path(args.lake, "landing").rglob("*") if p.is_file())
    print(f"events generated: {generated.lines:,} lines in {len(generated.files)} files ({landed / 1e6:.1f} MB gzip)")
    for stage, seconds in timings.items():
        print(f"  {stage:<38} {seconds:8.1f} s")
    print(f"bronze + silver: {pipeline_seconds:.1f} s = {bronze.lines_ingested / pipeline_seconds:,.0f} events/s")
    print(f"silver: {silver.silver_rows:,} rows, {silver.quarantined:,} quarantined, "
          f"{silver.consent_dropped:,} consent drops, {silver.duplicates:,} duplicates, reconciles={silver.reconciles}")
    print(f"peak memory (process tree RSS): {memory.peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
