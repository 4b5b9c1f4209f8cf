"""`eventlake dsar`: a user's data as one JSON document (GDPR access and portability).

The same task as `eventlake maintenance dsar` (docs/dsar.md), under the name people look for:

    EVENTLAKE_DSAR_USER_ID=<raw id> eventlake dsar --output PATH [--request-id R] [--user-id-env VARIABLE]
"""

from __future__ import annotations

import argparse

from eventlake.config import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    from .cli import TASKS

    TASKS["dsar"].configure(parser)


def main(args: argparse.Namespace, settings: Settings) -> int:
    from . import cli

    args.task = "dsar"
    return cli.main(args, settings)
