"""Privacy by design (contract §2, §5; source 004 §8): consent, IP truncation, PII redaction.

Pure Python, no Spark: the collector and the silver job share these exact rules.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Markets whose consent defaults are all off (EU/EEA and GB); everywhere else, and a null
# market, defaults to all on (contract §5 rule 5).
EU_EEA_GB_MARKETS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB".split()
)

CONSENT_KEYS = ("analytics", "personalization", "ad_targeting")

# What counts as "an e-mail address or a phone number" inside a string property value.
# Phone numbers: international form (+ and 8–15 digits, separators allowed) or the North
# American (NNN) NNN-NNNN shape; plain digit runs (ids, timestamps, dates) are not phones.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PHONE_PATTERN = r"(?:\+\d(?:[\s.\-()]?\d){7,14})|(?:\(?\b\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}\b)"
REDACTED = "[REDACTED]"
_PII = re.compile(f"{EMAIL_PATTERN}|{PHONE_PATTERN}")


@dataclass(frozen=True)
class Consent:
    analytics: bool
    personalization: bool
    ad_targeting: bool


def market_default(market: str | None) -> bool:
    return not (isinstance(market, str) and market.upper() in EU_EEA_GB_MARKETS)


def effective_consent(event: Mapping[str, Any]) -> Consent:
    """The event's `consent` flags, each missing (or non-boolean) one from the market default."""
    default = market_default(event.get("market"))
    given = event.get("consent")
    given = given if isinstance(given, Mapping) else {}

    def flag(key: str) -> bool:
        value = given.get(key)
        return value if isinstance(value, bool) else default

    return Consent(*(flag(key) for key in CONSENT_KEYS))


def truncate_ip(ip: str) -> str | None:
    """IPv4 to its /24 network address, IPv6 to its /48; None for anything unparseable."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except (ValueError, AttributeError):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def contains_pii(text: str) -> bool:
    return _PII.search(text) is not None


def redact_pii(value: Any) -> Any:
    """Replace every string that holds an e-mail or phone number, at any depth, by [REDACTED]."""
    if isinstance(value, str):
        return REDACTED if _PII.search(value) else value
    if isinstance(value, dict):
        return {key: redact_pii(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_pii(item) for item in value]
    return value


def pseudonymous_key(raw_id: str, salt: str) -> str:
    """Lower-case hex SHA-256 of the id's UTF-8 bytes followed by the salt (contract §5).

    Silver computes the same in Spark as sha2(concat(id, salt), 256); tests hold them equal.
    """
    return hashlib.sha256((raw_id + salt).encode("utf-8")).hexdigest()
