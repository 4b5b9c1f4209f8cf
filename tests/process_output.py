"""What a failed subprocess said, cut to what explains the failure.

A JVM that dies under a Python job (out of memory, killed, crashed) leaves its reason near
the top of stderr; the bottom is Python's `Connection refused` from every call after it.
The tail alone, which tests used to show, hid the cause (CI: "JVM gone" and nothing else).
"""

from __future__ import annotations

import re

# The lines that name a cause: Java's and Python's exceptions, the JVM's fatal-error banner
# and its crash file, the signals a killed process reports.
CAUSE = re.compile(
    r"(Error|Exception|Traceback|hs_err|fatal error|SIGBUS|SIGSEGV|Killed|"
    r"Caused by|exit code|exitCode)",
)


def failure_excerpt(output: str, causes: int = 40, tail: int = 60) -> str:
    """The first `causes` lines that name a cause, then the last `tail` lines."""
    lines = output.splitlines()
    named = [line for line in lines if CAUSE.search(line)][:causes]
    return "\n".join(
        ["--- lines naming a cause (first %d) ---" % len(named), *named,
         "--- last %d lines ---" % min(tail, len(lines)), *lines[-tail:]]
    )
