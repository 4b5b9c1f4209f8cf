"""Source 003's user-agent enrichment: browser, operating system and device, parsed once.

ua-parser (the Python port of the uap-core rules, the same rules `ua-parser-js` follows)
reads a User-Agent string into families and versions. Silver stores three readable columns
(`ua_browser`, `ua_os`, `ua_device`, docs/contract.md); an unknown part is null. Parsing is
memoised per process: a lake has few distinct user agents and many events per agent.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

CACHE_SIZE = 20_000


def _named(family: str | None, *versions: str | None) -> str | None:
    if not family or family == "Other":
        return None
    version = ".".join(v for v in versions if v)
    return f"{family} {version}" if version else family


@lru_cache(maxsize=CACHE_SIZE)
def describe(user_agent: str) -> tuple[str | None, str | None, str | None]:
    """(browser with major.minor, OS with major.minor, device) of a User-Agent header."""
    from ua_parser import parse

    result: Any = parse(user_agent[:512])
    browser = _named(result.user_agent.family, result.user_agent.major, result.user_agent.minor) \
        if result.user_agent else None
    os_ = _named(result.os.family, result.os.major, result.os.minor) if result.os else None
    device = _named(result.device.family) if result.device else None
    return browser, os_, device


def ua_fields(user_agent: Any) -> dict[str, str | None]:
    """Silver's three user-agent columns for a line's `user_agent` (any JSON value)."""
    browser, os_, device = describe(user_agent) if isinstance(user_agent, str) and user_agent else (None, None, None)
    return {"ua_browser": browser, "ua_os": os_, "ua_device": device}
