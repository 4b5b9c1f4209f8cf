"""Data quality: Great Expectations suites from `expectations/`, run after every layer.

    report = validate_layer(spark, settings, "silver", run_id=run_id, run_summary=summary)
    report.raise_for_critical()  # QualityGateFailed: nothing downstream may run

Exports are loaded lazily so that `eventlake --help` does not import Spark or GX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventlake.quality.report import ExpectationResult, QualityReport
    from eventlake.quality.validate import read_run_record, validate_layer

__all__ = ["ExpectationResult", "QualityReport", "read_run_record", "validate_layer"]

_EXPORTS = {
    "ExpectationResult": "eventlake.quality.report",
    "QualityReport": "eventlake.quality.report",
    "read_run_record": "eventlake.quality.validate",
    "validate_layer": "eventlake.quality.validate",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
