"""`eventlake spark-defaults`: a spark-defaults.conf so plain `spark-submit jobs/…` and
`spark-sql -e 'SELECT … FROM gold.x'` see Delta, UTC and the lake's catalog."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from eventlake.config import Settings
from eventlake.spark import resolve_packages, resolved_jars, spark_defaults_text


def spark_home() -> Path:
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    import pyspark

    return Path(pyspark.__file__).parent


def configure(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--output", help="write the file here (default: print it)")
    where.add_argument(
        "--install",
        action="store_true",
        help="resolve Spark's Maven packages once (local and S3 lakes), then write "
        "$SPARK_HOME/conf/spark-defaults.conf (the venv's pyspark by default)",
    )


def resolve_dependencies(settings: Settings) -> None:
    """Resolve the local and the S3 package sets through Ivy, once: later runs are offline."""
    variants = {
        "local": {"EVENTLAKE_LAKE_URI": settings.lake_root if not settings.is_s3 else "./lakehouse"},
        "s3": {"EVENTLAKE_LAKE_URI": "s3a://eventlake-resolve-only", "EVENTLAKE_PSEUDONYM_SALT": "resolve-only"},
    }
    for name, overrides in variants.items():
        variant = Settings.from_env({**os.environ, "EVENTLAKE_IVY_DIR": settings.ivy_dir, **overrides})
        if resolved_jars(variant):
            continue
        print(f"resolving Spark packages for {name} lakes into {settings.ivy_dir} (once)")
        resolve_packages(variant)


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.install:
        resolve_dependencies(settings)
    text = spark_defaults_text(settings, local_jars=bool(args.install))
    target = spark_home() / "conf" / "spark-defaults.conf" if args.install else args.output
    if target is None:
        print(text, end="")
        return 0
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0
