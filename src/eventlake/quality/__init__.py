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


def disable_gx_analytics() -> None:
    """GX sends usage analytics unless told not to; a lakehouse job must not phone home.
    Set before GX is first imported."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def preload() -> None:
    """Import Great Expectations on a daemon thread while the caller starts Spark's JVM.

    GX's import is ≈3 s of Python (scipy, altair, SQLAlchemy come with it); a JVM start is
    ≈5 s during which the caller's Python only waits on the launcher. The first quality gate
    then finds GX loaded. Under spark-submit the JVM is already up, so there is nothing to
    overlap and this does nothing. The packages both threads import (Spark's, pandas,
    pyarrow) are imported first, on the caller's thread: two threads importing one package
    at the same time can trip over its internal import cycles. An import error here is
    ignored: the first gate imports GX again and raises the same ImportError there.
    """
    import threading

    from eventlake.spark import under_spark_submit

    if under_spark_submit():
        return
    import pandas  # noqa: F401  (see above: shared with GX, imported on this thread)
    import pyarrow  # noqa: F401
    import pyspark.sql  # noqa: F401
    import pyspark.sql.functions  # noqa: F401

    disable_gx_analytics()  # here: the environment must not change under the JVM's launcher

    def load() -> None:
        try:
            import great_expectations  # noqa: F401
        except Exception:  # noqa: BLE001  (re-raised where GX is used)
            pass

    threading.Thread(target=load, name="gx-preload", daemon=True).start()


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
