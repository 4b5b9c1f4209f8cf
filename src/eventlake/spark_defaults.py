"""`eventlake spark-defaults`: a spark-defaults.conf so plain `spark-submit jobs/…` and
`spark-sql -e 'SELECT … FROM gold.x'` see Delta, UTC and the lake's catalog."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from eventlake.config import Settings
from eventlake.spark import spark_defaults_text


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
        help="write $SPARK_HOME/conf/spark-defaults.conf (the venv's pyspark by default)",
    )


def main(args: argparse.Namespace, settings: Settings) -> int:
    text = spark_defaults_text(settings)
    target = spark_home() / "conf" / "spark-defaults.conf" if args.install else args.output
    if target is None:
        print(text, end="")
        return 0
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    print(f"wrote {target}")
    return 0
