"""The one place that reads configuration: the environment into a typed, frozen Settings.

Everything else receives a Settings object; nothing else reads os.environ for eventlake's
own variables. Secrets (salt, keys, JWT secret) only ever come from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from eventlake.errors import UserError

# A fixed salt for local development lakes only. With an s3a:// lake it is never used.
DEV_PSEUDONYM_SALT = "eventlake-local-development-salt"
DEFAULT_LAKE = "./lakehouse"


class ConfigError(UserError):
    """A configuration mistake the user can fix; the CLI prints it as one line."""


def _state_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "eventlake"


def _cache_home(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eventlake"


@dataclass(frozen=True)
class Settings:
    lake_uri: str = DEFAULT_LAKE
    s3_endpoint: str | None = None
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_region: str = "us-east-1"
    pseudonym_salt: str = field(default=DEV_PSEUDONYM_SALT, repr=False)
    spark_master: str = "local[*]"
    # Spark's Ivy cache: jars from Maven Central are fetched once and reused by later runs.
    ivy_dir: str = str(_cache_home({}) / "ivy")
    # Where the Spark catalog (Derby metastore) lives; a local lake keeps it beside its data.
    catalog_dir: str | None = None
    # Collector
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = field(default=None, repr=False)
    spool_dir: str = str(_state_home({}) / "spool")
    flush_seconds: float = 60.0
    # Server-side producers authenticate with one of these keys (X-API-Key) instead of a JWT.
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    # Writing without any credential only when the operator says so explicitly.
    allow_anonymous: bool = False
    # X-Forwarded-For is believed only from these addresses/networks (CIDR).
    trusted_proxies: tuple[str, ...] = ()
    # Source 000's sliding window: per device, or per user when a request names no device.
    rate_limit_per_minute: int = 120
    rate_limit_user_per_minute: int = 60
    # Per identity (the token's user, the API key, or the client address of an anonymous
    # request), whatever device ids its requests name: rotating device_id escapes nothing.
    rate_limit_identity_per_minute: int = 600
    rate_limit_api_key_per_minute: int = 6000
    # The HTTP edge (eventlake.collector.http): time allowed for an idle keep-alive or fresh
    # connection, for the request head and for the body; head size and field count limits;
    # open connections (0 = derived from the open-file limit).
    http_idle_seconds: float = 5.0
    http_header_seconds: float = 10.0
    http_body_seconds: float = 30.0
    http_max_header_bytes: int = 16 * 1024
    http_max_headers: int = 100
    http_max_connections: int = 0
    # Names this instance in landing file names; two collectors must never share one.
    collector_id: str | None = None
    # A spool segment is landed once it holds this many bytes (or is flush_seconds old).
    flush_bytes: int = 16 * 1024 * 1024
    # Beyond this many unlanded bytes on local disk the collector answers 503.
    spool_max_bytes: int = 1024 * 1024 * 1024
    # Silver quarantine share thresholds (fractions of a run's lines).
    quarantine_warn_share: float = 0.01
    quarantine_fail_share: float = 0.10
    # The Great Expectations suites; default: expectations/ of the source checkout.
    expectations_dir: str | None = None
    # The lake's writer lease (eventlake.lease): how long a second writer waits for it, and
    # how long a holder that stopped renewing (killed) keeps blocking others.
    lease_wait_seconds: float = 300.0
    lease_ttl_seconds: float = 120.0

    @property
    def is_s3(self) -> bool:
        return self.lake_uri.startswith(("s3a://", "s3://"))

    @property
    def lake_root(self) -> str:
        """The lake root as Spark and Hadoop address it (absolute path or s3a:// URI)."""
        if self.is_s3:
            return "s3a://" + self.lake_uri.split("://", 1)[1].rstrip("/")
        return str(Path(self.lake_uri).expanduser().resolve())

    @property
    def catalog_root(self) -> str:
        if self.catalog_dir:
            return str(Path(self.catalog_dir).expanduser().resolve())
        if self.is_s3:
            return str(_state_home({}) / "catalog")
        return str(Path(self.lake_root) / "_catalog")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        lake_uri = env.get("EVENTLAKE_LAKE_URI") or DEFAULT_LAKE
        if lake_uri.startswith("s3://"):
            lake_uri = "s3a://" + lake_uri[len("s3://"):]
        is_s3 = lake_uri.startswith("s3a://")
        if "://" in lake_uri and not is_s3 and not lake_uri.startswith("file://"):
            raise ConfigError(
                f"EVENTLAKE_LAKE_URI={lake_uri!r}: use a local path or s3a://bucket/prefix"
            )
        if lake_uri.startswith("file://"):
            lake_uri = lake_uri[len("file://"):]
        if is_s3 and len(lake_uri.split("://", 1)[1].strip("/")) == 0:
            raise ConfigError("EVENTLAKE_LAKE_URI needs a bucket: s3a://bucket/prefix")

        salt = env.get("EVENTLAKE_PSEUDONYM_SALT")
        if not salt:
            if is_s3:
                raise ConfigError(
                    "EVENTLAKE_PSEUDONYM_SALT is required when the lake is on S3 "
                    "(the development salt is only allowed for a local lake)"
                )
            salt = DEV_PSEUDONYM_SALT

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            if raw in (None, ""):
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a number") from None
            if value < 0:
                raise ConfigError(f"{name}={raw!r} must not be negative")
            return value

        def flag(name: str, default: bool) -> bool:
            raw = (env.get(name) or "").strip().lower()
            if raw == "":
                return default
            if raw in ("1", "true", "yes", "on"):
                return True
            if raw in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{name}={raw!r}: use true or false")

        def words(name: str) -> tuple[str, ...]:
            return tuple(w for w in (env.get(name) or "").replace(",", " ").split() if w)

        def positive(name: str, default: float) -> float:
            value = number(name, default)
            if value == 0:
                raise ConfigError(f"{name}={env.get(name)!r} must be more than 0")
            return value

        def whole(name: str, default: int) -> int:
            value = number(name, default)
            if value != int(value):
                raise ConfigError(f"{name}={env.get(name)!r} must be a whole number")
            return int(value)

        return cls(
            lake_uri=lake_uri,
            s3_endpoint=env.get("EVENTLAKE_S3_ENDPOINT") or None,
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            pseudonym_salt=salt,
            spark_master=env.get("EVENTLAKE_SPARK_MASTER") or "local[*]",
            ivy_dir=env.get("EVENTLAKE_IVY_DIR") or str(_cache_home(env) / "ivy"),
            catalog_dir=env.get("EVENTLAKE_CATALOG_DIR") or None,
            jwt_secret=env.get("EVENTLAKE_JWT_SECRET") or None,
            jwt_public_key=env.get("EVENTLAKE_JWT_PUBLIC_KEY") or None,
            spool_dir=env.get("EVENTLAKE_SPOOL_DIR") or str(_state_home(env) / "spool"),
            flush_seconds=number("EVENTLAKE_FLUSH_SECONDS", 60.0),
            api_keys=words("EVENTLAKE_API_KEYS"),
            jwt_audience=env.get("EVENTLAKE_JWT_AUDIENCE") or None,
            jwt_issuer=env.get("EVENTLAKE_JWT_ISSUER") or None,
            allow_anonymous=flag("EVENTLAKE_ALLOW_ANONYMOUS", False),
            trusted_proxies=words("EVENTLAKE_TRUSTED_PROXIES"),
            rate_limit_per_minute=whole("EVENTLAKE_RATE_LIMIT_PER_MINUTE", 120),
            rate_limit_user_per_minute=whole("EVENTLAKE_RATE_LIMIT_USER_PER_MINUTE", 60),
            rate_limit_identity_per_minute=whole("EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE", 600),
            rate_limit_api_key_per_minute=whole("EVENTLAKE_RATE_LIMIT_API_KEY_PER_MINUTE", 6000),
            http_idle_seconds=positive("EVENTLAKE_HTTP_IDLE_SECONDS", 5.0),
            http_header_seconds=positive("EVENTLAKE_HTTP_HEADER_SECONDS", 10.0),
            http_body_seconds=positive("EVENTLAKE_HTTP_BODY_SECONDS", 30.0),
            http_max_header_bytes=whole("EVENTLAKE_HTTP_MAX_HEADER_BYTES", 16 * 1024),
            http_max_headers=whole("EVENTLAKE_HTTP_MAX_HEADERS", 100),
            http_max_connections=whole("EVENTLAKE_HTTP_MAX_CONNECTIONS", 0),
            collector_id=env.get("EVENTLAKE_COLLECTOR_ID") or None,
            flush_bytes=whole("EVENTLAKE_FLUSH_BYTES", 16 * 1024 * 1024),
            spool_max_bytes=whole("EVENTLAKE_SPOOL_MAX_BYTES", 1024 * 1024 * 1024),
            quarantine_warn_share=number("EVENTLAKE_QUARANTINE_WARN_SHARE", 0.01),
            quarantine_fail_share=number("EVENTLAKE_QUARANTINE_FAIL_SHARE", 0.10),
            expectations_dir=env.get("EVENTLAKE_EXPECTATIONS_DIR") or None,
            lease_wait_seconds=number("EVENTLAKE_LEASE_WAIT_SECONDS", 300.0),
            lease_ttl_seconds=number("EVENTLAKE_LEASE_TTL_SECONDS", 120.0) or 120.0,
        )
