"""`eventlake generate`: write synthetic traffic to landing/, or POST it to a collector.

Same seed + same arguments = same file names and bytes: re-running overwrites identical
files (bronze has already read them, so nothing is counted twice). New traffic for a later
run comes from a new `--batch` label (new sessions and event ids, same users), or from
`--phase late` after `--phase main` (the late files of the same generation).
"""

from __future__ import annotations

import argparse
import logging

from eventlake.config import Settings
from eventlake.errors import UserError
from eventlake.generate.traffic import (
    DEFAULT_FAULT_SHARE,
    DEFAULT_LATE_SHARE,
    DEFAULT_PLAIN_SHARE,
    DEFAULT_SEED,
    DEFAULT_START_DATE,
    PHASES,
    default_users,
    generate_traffic,
    parse_date,
    run_traffic,
)

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    # Numbers are parsed in main() so that a bad value is one line (UserError), not a usage dump.
    parser.add_argument("--events", default="20000", metavar="N", help="lines to write in total (default 20000)")
    parser.add_argument("--days", default="3", metavar="D", help="UTC days of traffic (default 3)")
    parser.add_argument("--start-date", default=DEFAULT_START_DATE.isoformat(), metavar="YYYY-MM-DD",
                        help=f"first UTC day (default {DEFAULT_START_DATE.isoformat()})")
    parser.add_argument("--seed", default=str(DEFAULT_SEED), metavar="S", help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--users", default=None, metavar="U", help="distinct users (default: events / 120, at least 20)")
    parser.add_argument("--fault-share", default=None, metavar="F",
                        help=f"share of lines with a fault: duplicates, malformed, missing fields, bad "
                             f"timestamps, unknown events, bad properties (default {DEFAULT_FAULT_SHARE})")
    parser.add_argument("--late-share", default=str(DEFAULT_LATE_SHARE), metavar="F",
                        help=f"share of lines held back into late files for their old hours (default {DEFAULT_LATE_SHARE})")
    parser.add_argument("--plain-share", default=str(DEFAULT_PLAIN_SHARE), metavar="F",
                        help=f"share of files written as plain .jsonl instead of .jsonl.gz (default {DEFAULT_PLAIN_SHARE})")
    parser.add_argument("--clean", action="store_true", help="no faults at all (same as --fault-share 0)")
    parser.add_argument("--batch", default="b0", metavar="LABEL",
                        help="label of this run's traffic; a new label is new traffic from the same users")
    parser.add_argument("--phase", default="all", choices=PHASES,
                        help="all files, only the regular ones (main), or only the late ones (late)")
    parser.add_argument("--to", default=None, metavar="URL",
                        help="POST to the collector at URL (e.g. http://127.0.0.1:8080) instead of writing files")


def _number(args: argparse.Namespace, name: str, kind: type[int] | type[float]) -> int | float:
    raw = getattr(args, name.replace("-", "_"))
    try:
        return kind(raw)
    except (TypeError, ValueError):
        word = "an integer" if kind is int else "a number"
        raise UserError(f"--{name} {raw!r} is not {word}") from None


def main(args: argparse.Namespace, settings: Settings) -> int:
    events = int(_number(args, "events", int))
    fault_share = DEFAULT_FAULT_SHARE if args.fault_share is None else float(_number(args, "fault-share", float))
    if args.clean:
        if args.fault_share is not None and fault_share != 0:
            raise UserError("--clean and --fault-share contradict each other; give one of them")
        fault_share = 0.0
    params = dict(
        events=events,
        days=int(_number(args, "days", int)),
        start_date=parse_date(args.start_date),
        seed=int(_number(args, "seed", int)),
        users=default_users(events) if args.users is None else int(_number(args, "users", int)),
        fault_share=fault_share,
        batch=args.batch,
        late_share=float(_number(args, "late-share", float)),
        plain_share=float(_number(args, "plain-share", float)),
        phase=args.phase,
    )
    if args.to is None:
        summary = generate_traffic(settings, **params)
        print(summary.describe())
        return 0

    from eventlake.generate.post import CollectorClient

    if not settings.jwt_secret:
        raise UserError("--to needs EVENTLAKE_JWT_SECRET to sign the clients' tokens (HS256)")
    client = CollectorClient(args.to, settings.jwt_secret, seed=params["seed"])
    params.pop("plain_share")
    summary = run_traffic(lambda _key, lines: client.send_lines(lines), destination=args.to, **params)
    print(
        f"Generated {summary.lines} lines for {summary.start_date} (+{summary.days - 1} days, seed "
        f"{summary.seed}, batch {summary.batch}). {client.report.describe(args.to)}"
    )
    return 0 if client.report.failed_requests == 0 else 1
