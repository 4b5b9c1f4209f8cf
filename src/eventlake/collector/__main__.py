"""`python -m eventlake.collector`: the collector alone, the same as `eventlake collector`."""

from __future__ import annotations

import argparse
import sys

from eventlake.errors import UserError

from .cli import configure, main


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eventlake collector", description="serve the HTTP collector")
    parser.add_argument("-v", "--verbose", action="store_true")
    configure(parser)
    args = parser.parse_args(argv)
    try:
        from eventlake.config import Settings

        return main(args, Settings.from_env())
    except UserError as error:
        print(f"eventlake collector: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(run())
