"""Who produces the synthetic traffic: users, their profiles and devices, markets, consent.

Everything here is drawn once per seed (independently of the batch label), so later batches
of the same seed are the same people coming back, on the same devices.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from eventlake.privacy import EU_EEA_GB_MARKETS as CONSENT_OFF_BY_DEFAULT_MARKETS

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOWER_ID = "0123456789abcdefghjkmnpqrstvwxyz"

# market -> (weight, client UTC offset in minutes, collector region). November: no DST.
MARKETS: dict[str | None, tuple[float, int, str]] = {
    "GB": (14, 0, "euw"), "DE": (12, 60, "euc"), "FR": (8, 60, "euw"), "ES": (6, 60, "euw"),
    "IT": (5, 60, "euc"), "NL": (4, 60, "euw"), "SE": (3, 60, "eun"), "PL": (3, 60, "euc"),
    "IE": (2, 0, "euw"), "NO": (2, 60, "eun"), "FI": (1.5, 120, "eun"), "GR": (1.5, 120, "euc"),
    "AT": (1.5, 60, "euc"), "BE": (1.5, 60, "euw"), "PT": (1.5, 0, "euw"), "RO": (1, 120, "euc"),
    "CH": (2, 60, "euc"), "TR": (2, 180, "euc"), "US": (14, -300, "use"), "CA": (3, -300, "use"),
    "MX": (2, -360, "use"), "BR": (4, -180, "sae"), "IN": (4, 330, "aps"), "JP": (2, 540, "apne"),
    "AU": (2, 660, "apne"), "ZA": (1, 120, "euw"), "AE": (1, 240, "aps"), "NP": (0.3, 345, "aps"),
    None: (4, 0, "euw"),
}

# Collectors per region, with the UTC offset each writes `event_timestamp` in. The same
# instant spelled `Z`, `+00:00`, `+01:00`, `-05:00`...: normalising to UTC is silver's job.
COLLECTORS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "euw": (("col-euw1-a", 0, "Z"), ("col-euw1-b", 0, "+00:00"), ("col-euw2-a", 60, "")),
    "euc": (("col-euc1-a", 60, ""), ("col-euc1-b", 60, ""), ("col-euc2-a", 120, "")),
    "eun": (("col-eun1-a", 120, ""), ("col-euw1-a", 0, "Z")),
    "use": (("col-use1-a", -300, ""), ("col-use1-b", 0, "Z"), ("col-usw2-a", -480, "")),
    "sae": (("col-sae1-a", -180, ""),),
    "aps": (("col-aps1-a", 330, ""), ("col-aps1-b", 0, "Z")),
    "apne": (("col-apne1-a", 540, ""),),
}

# platform -> (weight, device types, os versions, music share of sessions)
PLATFORMS: dict[str | None, tuple[float, tuple[str, ...], tuple[str, ...], float]] = {
    "android_tv": (18, ("android_tv",), ("Android TV 12", "Android TV 13", "Android TV 14"), 0.05),
    "tvos": (8, ("apple_tv",), ("tvOS 17.4", "tvOS 17.6", "tvOS 18.1"), 0.05),
    "ios": (16, ("mobile", "tablet"), ("iOS 17.5.1", "iOS 18.0", "iOS 18.1", "iPadOS 18.1"), 0.35),
    "android": (18, ("mobile", "tablet"), ("Android 13", "Android 14", "Android 15"), 0.35),
    "web": (14, ("desktop",), ("Windows 11", "Windows 10", "macOS 14.6", "macOS 15.1", "Linux"), 0.25),
    "roku": (6, ("streaming_stick", "tv"), ("Roku OS 13.0", "Roku OS 13.1"), 0.02),
    "tizen": (5, ("smart_tv",), ("Tizen 7.0", "Tizen 8.0"), 0.02),
    "webos": (4, ("smart_tv",), ("webOS 23", "webOS 24"), 0.02),
    "fire_tv": (4, ("streaming_stick",), ("Fire OS 7.6", "Fire OS 8.1"), 0.05),
    None: (3, ("unknown",), ("",), 0.1),
}
APP_VERSIONS = ("2.3.1", "2.3.4", "2.4.0", "2.4.2", "2.5.0", "3.0.0-beta.2")
CONNECTIONS = ("wifi", "wifi", "wifi", "ethernet", "cellular_4g", "cellular_5g", None)

_USER_AGENTS = {
    "android_tv": "ExoPlayerLib/2.19.1 (Linux; {os}) eventlake-app/{app}",
    "tvos": "AppleCoreMedia/1.0.0 ({os}) eventlake-app/{app}",
    "ios": "eventlake-app/{app} (iPhone; {os}; Scale/3.00)",
    "android": "Dalvik/2.1.0 (Linux; U; {os}; Pixel 8) eventlake-app/{app}",
    "web": "Mozilla/5.0 ({os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "roku": "Roku/DVP-13.0 (13.0.4) eventlake-app/{app}",
    "tizen": "Mozilla/5.0 (SMART-TV; LINUX; {os}) AppleWebKit/537.36 SamsungBrowser/4.0 TV Safari/537.36",
    "webos": "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 Chrome/94.0 Safari/537.36 {os}",
    "fire_tv": "Dalvik/2.1.0 (Linux; U; {os}; AFTMM) eventlake-app/{app}",
    None: None,
}


def random_id(rng: random.Random, length: int, alphabet: str = _LOWER_ID) -> str:
    return "".join(rng.choices(alphabet, k=length))


def ulid(rng: random.Random, millis: int) -> str:
    """A valid ULID (Crockford base32, 26 characters) for a time in ms and seeded randomness."""
    value = (millis << 80) | rng.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


@dataclass(frozen=True)
class Device:
    device_id: str
    device_type: str | None
    platform: str | None
    os_version: str | None
    app_version: str | None
    connection_type: str | None
    ip_truncated: str
    user_agent: str | None
    clock_skew_ms: int  # the device clock minus the true time (sessions may add a far skew)
    music_share: float


@dataclass(frozen=True)
class Profile:
    profile_id: str | None
    kind: str | None  # "standard", "kids" or None


@dataclass(frozen=True)
class User:
    user_id: str | None  # None: anonymous (not signed in)
    market: str | None
    client_offset_minutes: int
    region: str
    consent: dict[str, bool] | None
    consent_present: bool  # False: the key is absent from the envelope
    profiles: tuple[Profile, ...]
    devices: tuple[Device, ...]


_Key = TypeVar("_Key")


def _weighted(table: Mapping[_Key, tuple[float, *tuple[object, ...]]]) -> tuple[list[_Key], list[float]]:
    keys = list(table)
    return keys, list(accumulate(table[k][0] for k in keys))


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.15:  # IPv6 truncated to /48
        return f"2a0{rng.randrange(1, 10)}:{rng.randrange(0x1000, 0xFFFF):x}:{rng.randrange(0, 0xFFFF):x}::"
    first = rng.choice((31, 46, 62, 77, 81, 86, 90, 94, 109, 151, 176, 185, 188, 203, 212, 213))
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.0"


def _consent(rng: random.Random, market: str | None) -> tuple[dict[str, bool] | None, bool]:
    """A consent choice as the client sends it: full, partial, null or absent."""
    roll = rng.random()
    eu = market in CONSENT_OFF_BY_DEFAULT_MARKETS
    if roll < 0.84:
        analytics = rng.random() < (0.88 if eu else 0.95)
        return {
            "analytics": analytics,
            "personalization": analytics and rng.random() < 0.85,
            "ad_targeting": rng.random() < (0.35 if eu else 0.7),
        }, True
    if roll < 0.92:  # partial: the missing keys fall back to the market default
        keys = rng.choice((("analytics", "personalization"), ("analytics",), ("personalization", "ad_targeting")))
        return {k: rng.random() < 0.8 for k in keys}, True
    if roll < 0.96:
        return None, True  # explicit null
    return None, False  # the client never sent the key


def _device(rng: random.Random, platforms: tuple[list[str | None], list[float]]) -> Device:
    platform = rng.choices(platforms[0], cum_weights=platforms[1])[0]
    _, device_types, os_versions, music_share = PLATFORMS[platform]
    os_version = rng.choice(os_versions) or None
    app_version = rng.choice(APP_VERSIONS) if platform or rng.random() < 0.5 else None
    template = _USER_AGENTS[platform]
    skew = rng.randint(-3_000, 3_000)  # NTP keeps most clocks within seconds
    return Device(
        device_id=f"dev_{rng.getrandbits(64):016x}",
        device_type=rng.choice(device_types) if platform else None,
        platform=platform,
        os_version=os_version,
        app_version=app_version,
        connection_type=rng.choice(CONNECTIONS),
        ip_truncated=_ip(rng),
        user_agent=template.format(os=os_version or "", app=app_version or "") if template else None,
        clock_skew_ms=skew,
        music_share=music_share,
    )


def build_population(seed: int, users: int) -> list[User]:
    rng = random.Random(f"eventlake-generate:{seed}:population")
    markets = _weighted(MARKETS)
    platforms = _weighted(PLATFORMS)
    population = []
    for _ in range(users):
        market = rng.choices(markets[0], cum_weights=markets[1])[0]
        _, offset, region = MARKETS[market]
        anonymous = rng.random() < 0.08
        consent, present = _consent(rng, market)
        if anonymous:
            profiles: tuple[Profile, ...] = (Profile(None, None),)
        else:
            count = rng.choices((1, 2, 3, 4), weights=(45, 30, 17, 8))[0]
            profiles = tuple(
                Profile(
                    f"prf_{random_id(rng, 10)}",
                    "kids" if i > 0 and rng.random() < 0.4 else ("standard" if rng.random() < 0.97 else None),
                )
                for i in range(count)
            )
        devices = tuple(_device(rng, platforms) for _ in range(rng.choices((1, 2, 3), weights=(55, 32, 13))[0]))
        population.append(
            User(
                user_id=None if anonymous else f"usr_{random_id(rng, 12)}",
                market=market,
                client_offset_minutes=offset,
                region=region,
                consent=consent,
                consent_present=present,
                profiles=profiles,
                devices=devices,
            )
        )
    return population
