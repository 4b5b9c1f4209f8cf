"""`eventlake config`: the effective settings, where each came from, and unknown variables.

    eventlake config            # every variable, its value (secrets: set or unset)
    eventlake config --check    # exit 2 when an EVENTLAKE_* variable is set that nothing reads
    eventlake config --markdown # docs/configuration.md (checked against this module's output)

Invalid values never reach this command: reading the settings already stopped with one line
naming the variable (the CLI's exit 2).
"""

from __future__ import annotations

import argparse
import os

from eventlake.config import OTHER_VARIABLES, VARIABLES, Settings, Variable, describe_settings, unknown_variables
from eventlake.errors import UserError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="exit 2 when an EVENTLAKE_* variable is set that nothing reads")
    parser.add_argument("--markdown", action="store_true",
                        help="print the reference of every variable (docs/configuration.md)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.markdown:
        print(render_markdown(), end="")
        return 0
    rows = describe_settings(settings, os.environ)
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        print(f"{name.ljust(width)}  {value}  ({source})")
    unknown = unknown_variables(os.environ)
    for line in unknown:
        print(f"unknown: {line}")
    if unknown and args.check:
        raise UserError(f"{len(unknown)} unknown EVENTLAKE_* variable(s): {unknown[0]}")
    return 0


def render_markdown() -> str:
    """docs/configuration.md: every variable Settings reads, then the ones other parts read."""
    defaults = Settings()
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from eventlake.config.VARIABLES by `eventlake config --markdown >",
        "     docs/configuration.md`; do not edit by hand (a test compares them). -->",
        "",
        "Every process reads its configuration from the environment, once, into one",
        "`eventlake.config.Settings`; a value of the wrong type, out of range or not finite",
        "stops it with one line naming the variable. An `EVENTLAKE_*` variable that nothing",
        "reads (a typo) is reported as a warning by every command and job; `eventlake config`",
        "prints the effective settings (secrets only as set or unset) and `--check` fails on",
        "unknown variables. Secrets come only from the environment (or Airflow connections).",
        "",
        "| Variable | Default | Accepts | Meaning |",
        "|---|---|---|---|",
    ]
    for variable in VARIABLES:
        default = getattr(defaults, variable.field)
        if variable.secret or variable.kind == "special" or default in (None, ()):
            shown = "—" if variable.kind != "special" else "see meaning"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        elif isinstance(default, float):
            shown = f"`{default:g}`"
        else:
            shown = f"`{default}`"
        lines.append(f"| `{variable.name}` | {shown} | {_accepts(variable)} | {variable.doc} |")
    lines += [
        "",
        "Read by other parts, never reported as unknown:",
        "",
        "| Variable | Read by |",
        "|---|---|",
        *[f"| `{name}` | {where} |" for name, where in OTHER_VARIABLES.items()],
        "",
    ]
    return "\n".join(lines)


def _accepts(variable: Variable) -> str:
    kind = {"text": "text", "special": "text", "words": "list (comma or space separated)",
            "flag": "true / false", "number": "number", "whole": "whole number"}[variable.kind]
    bounds = []
    if variable.minimum is not None:
        bounds.append(f"≥ {variable.minimum:g}")
    if variable.above is not None:
        bounds.append(f"> {variable.above:g}")
    if variable.maximum is not None:
        bounds.append(f"≤ {variable.maximum:g}")
    if variable.secret:
        bounds.append("secret")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")
