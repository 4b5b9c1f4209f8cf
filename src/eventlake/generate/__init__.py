"""Realistic, deterministic synthetic traffic: landing files, or POSTs to a collector.

`generate_traffic(...)` writes landing files and returns a `GenerationSummary` holding what
the pipeline must make of them (silver rows, quarantine per reason, consent drops,
duplicates), so end-to-end tests can reconcile the lake against it.
"""

from eventlake.generate.traffic import (
    DEFAULT_FAULT_SHARE,
    DEFAULT_FAULT_WEIGHTS,
    DEFAULT_LATE_SHARE,
    DEFAULT_START_DATE,
    DUPLICATE_KINDS,
    FAULT_KINDS,
    QUARANTINE_REASONS,
    GenerationSummary,
    generate_traffic,
    run_traffic,
)

__all__ = [
    "DEFAULT_FAULT_SHARE",
    "DEFAULT_FAULT_WEIGHTS",
    "DEFAULT_LATE_SHARE",
    "DEFAULT_START_DATE",
    "DUPLICATE_KINDS",
    "FAULT_KINDS",
    "QUARANTINE_REASONS",
    "GenerationSummary",
    "generate_traffic",
    "run_traffic",
]
