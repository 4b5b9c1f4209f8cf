"""The one place that reads configuration: the environment into a typed, frozen Settings.

Everything else receives a Settings object; nothing else reads os.environ for eventlake's
own variables. Secrets (salt, keys, JWT secret) only ever come from the environment.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from eventlake.errors import UserError

log = logging.getLogger(__name__)

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
    # Spark's shuffle partitions and Delta's snapshot partitions; None: eventlake.spark's
    # defaults for one machine.
    spark_partitions: int | None = None
    # Spark's Ivy cache: jars from Maven Central are fetched once and reused by later runs.
    ivy_dir: str = str(_cache_home({}) / "ivy")
    # Where the Spark catalog (Derby metastore) lives; a local lake keeps it beside its data.
    catalog_dir: str | None = None
    # A Hive metastore in a database every process shares (PostgreSQL), instead of the
    # embedded Derby one process at a time may open: its JDBC URL, user and password.
    metastore_url: str | None = None
    metastore_user: str | None = None
    metastore_password: str | None = field(default=None, repr=False)
    # Spark's own OpenLineage listener in every session (column-level lineage per query),
    # beside eventlake's layer events; it adds a 43 MB jar to each JVM start, so it is opt-in.
    spark_lineage: bool = False
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
    # 002's summary query: its window when the request names none.
    metrics_window_minutes: int = 60
    # 003's fingerprint window for events without an event_id (0: off).
    dedupe_window_seconds: float = 60.0
    # Silver quarantine share thresholds (fractions of a run's lines).
    quarantine_warn_share: float = 0.01
    quarantine_fail_share: float = 0.10
    # The Great Expectations suites; default: expectations/ of the source checkout.
    expectations_dir: str | None = None
    # The lake's writer lease (eventlake.lease): how long a second writer waits for it, and
    # how long a holder that stopped renewing (killed) keeps blocking others.
    lease_wait_seconds: float = 300.0
    lease_ttl_seconds: float = 120.0
    # 002's Kafka feed (eventlake.kafka): where the broker is, the topic, the consumer group.
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str = "analytics.events"
    kafka_group: str = "eventlake"
    # The SQL endpoint for BI (`eventlake serve-sql`): its one read-only user and password.
    sql_user: str = "bi"
    sql_password: str | None = field(default=None, repr=False)

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

    # Any: each field has its own type; dataclasses.replace rejects an unknown name at run time.
    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment, every value checked (types, ranges, finite
        numbers); the first mistake raises ConfigError naming the variable."""
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

        values: dict[str, object] = {
            v.field: v.read(env) for v in VARIABLES if v.kind != "special" and v.name in env and env[v.name] != ""
        }
        settings = cls(
            lake_uri=lake_uri,
            pseudonym_salt=salt,
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            ivy_dir=env.get("EVENTLAKE_IVY_DIR") or str(_cache_home(env) / "ivy"),
            spool_dir=env.get("EVENTLAKE_SPOOL_DIR") or str(_state_home(env) / "spool"),
            **values,  # type: ignore[arg-type]
        )
        if settings.quarantine_warn_share > settings.quarantine_fail_share:
            raise ConfigError(
                f"EVENTLAKE_QUARANTINE_WARN_SHARE={settings.quarantine_warn_share:g} is above "
                f"EVENTLAKE_QUARANTINE_FAIL_SHARE={settings.quarantine_fail_share:g}: "
                "a share must warn before it fails"
            )
        return settings


Kind = Literal["text", "number", "whole", "flag", "words", "special"]


@dataclass(frozen=True)
class Variable:
    """One environment variable Settings reads: its field, its meaning and what it accepts.

    `kind` says how the text is read: text, number (finite), whole (an integer), flag
    (true/false), words (split on commas and spaces), or special (read in `from_env`
    itself). `minimum`/`maximum` bound numbers inclusively, `above` exclusively. A secret's
    value is never printed (`eventlake config` shows whether it is set).
    """

    name: str
    field: str
    kind: Kind
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    secret: bool = False

    def read(self, env: Mapping[str, str]) -> object:
        raw = env[self.name]
        if self.kind == "text":
            return raw
        if self.kind == "words":
            return tuple(w for w in raw.replace(",", " ").split() if w)
        if self.kind == "flag":
            word = raw.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{self.name}={raw!r}: use true or false")
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{self.name}={raw!r} is not a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"{self.name}={raw!r} must be a finite number")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{self.name}={raw!r} must be at least {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"{self.name}={raw!r} must be at most {self.maximum:g}")
        if self.above is not None and value <= self.above:
            raise ConfigError(f"{self.name}={raw!r} must be more than {self.above:g}")
        if self.kind == "whole":
            if value != int(value):
                raise ConfigError(f"{self.name}={raw!r} must be a whole number")
            return int(value)
        return value


# Every variable Settings reads, in the order `eventlake config` and docs/configuration.md
# show them. Defaults are the Settings fields' own.
VARIABLES: tuple[Variable, ...] = (
    Variable("EVENTLAKE_LAKE_URI", "lake_uri", "special",
             "Where the lake lives: a local folder, or s3a://bucket/prefix (s3:// reads as s3a://)."),
    Variable("EVENTLAKE_PSEUDONYM_SALT", "pseudonym_salt", "special",
             "Salt of the pseudonymous user key. Required for an S3 lake; a local lake falls back "
             "to a fixed development salt.", secret=True),
    Variable("EVENTLAKE_S3_ENDPOINT", "s3_endpoint", "text",
             "S3 endpoint of MinIO or another S3-compatible server; unset: AWS."),
    Variable("AWS_ACCESS_KEY_ID", "aws_access_key_id", "text", "S3 access key (unset: the SDK's chain).", secret=True),
    Variable("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key", "text", "S3 secret key.", secret=True),
    Variable("AWS_REGION", "aws_region", "special", "S3 region (AWS_DEFAULT_REGION when unset)."),
    Variable("EVENTLAKE_SPARK_MASTER", "spark_master", "text", "Spark master for jobs started by `eventlake`."),
    Variable("EVENTLAKE_SPARK_PARTITIONS", "spark_partitions", "whole",
             "Tasks per shuffle and per Delta snapshot load; unset, with a local master: 2 "
             "per core per shuffle and 1 per snapshot; otherwise 16 and 4. On a cluster: 2-3 per "
             "executor core.", minimum=1, maximum=100000),
    Variable("EVENTLAKE_IVY_DIR", "ivy_dir", "special",
             "Spark's Ivy cache: jars are fetched once (make setup) and reused offline."),
    Variable("EVENTLAKE_CATALOG_DIR", "catalog_dir", "text",
             "Folder of the Spark catalog (Derby metastore); default: _catalog in a local lake."),
    Variable("EVENTLAKE_METASTORE_URL", "metastore_url", "text",
             "JDBC URL of a shared Hive metastore database, e.g. jdbc:postgresql://postgres:5432/metastore "
             "(unset: the embedded Derby under EVENTLAKE_CATALOG_DIR, one process at a time)."),
    Variable("EVENTLAKE_METASTORE_USER", "metastore_user", "text", "The metastore database's user."),
    Variable("EVENTLAKE_METASTORE_PASSWORD", "metastore_password", "text",
             "The metastore database's password.", secret=True),
    Variable("EVENTLAKE_SPARK_LINEAGE", "spark_lineage", "flag",
             "Spark's OpenLineage listener in every Spark session (per-query, column-level lineage), "
             "sent where the OPENLINEAGE_* variables say; off by default (a 43 MB jar per JVM)."),
    Variable("EVENTLAKE_EXPECTATIONS_DIR", "expectations_dir", "text",
             "Folder of the quality suites; default: the suites installed with eventlake (the repository's expectations/)."),
    Variable("EVENTLAKE_QUARANTINE_WARN_SHARE", "quarantine_warn_share", "number",
             "Share of a run's lines quarantined (or unparseable) that warns.", minimum=0, maximum=1),
    Variable("EVENTLAKE_QUARANTINE_FAIL_SHARE", "quarantine_fail_share", "number",
             "Share of a run's lines quarantined (or unparseable) that fails the quality gate.",
             minimum=0, maximum=1),
    Variable("EVENTLAKE_LEASE_WAIT_SECONDS", "lease_wait_seconds", "number",
             "How long a second writer waits for the lake's lease before giving up (exit 75).", minimum=0),
    Variable("EVENTLAKE_LEASE_TTL_SECONDS", "lease_ttl_seconds", "number",
             "How long a lease holder that stopped renewing (killed) keeps blocking others.", above=0),
    Variable("EVENTLAKE_KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers", "text",
             "Kafka ingestion: the brokers (host:port, comma separated) of 002's topic."),
    Variable("EVENTLAKE_KAFKA_TOPIC", "kafka_topic", "text", "Kafka ingestion: the topic (002's default)."),
    Variable("EVENTLAKE_KAFKA_GROUP", "kafka_group", "text",
             "Kafka ingestion: the consumer group whose committed offsets are the ingestion's progress."),
    Variable("EVENTLAKE_SQL_USER", "sql_user", "text", "SQL endpoint (`eventlake serve-sql`): the BI user's name."),
    Variable("EVENTLAKE_SQL_PASSWORD", "sql_password", "text",
             "SQL endpoint: the BI user's password (required to serve).", secret=True),
    Variable("EVENTLAKE_JWT_SECRET", "jwt_secret", "text", "Collector: HS256 secret of app tokens.", secret=True),
    Variable("EVENTLAKE_JWT_PUBLIC_KEY", "jwt_public_key", "text",
             "Collector: PEM public key of RS256/ES256 app tokens.", secret=True),
    Variable("EVENTLAKE_JWT_AUDIENCE", "jwt_audience", "text", "Collector: required `aud` of tokens."),
    Variable("EVENTLAKE_JWT_ISSUER", "jwt_issuer", "text", "Collector: required `iss` of tokens."),
    Variable("EVENTLAKE_API_KEYS", "api_keys", "words",
             "Collector: keys of server-side producers (X-API-Key), comma or space separated.", secret=True),
    Variable("EVENTLAKE_ALLOW_ANONYMOUS", "allow_anonymous", "flag",
             "Collector: accept requests without any credential (development only)."),
    Variable("EVENTLAKE_TRUSTED_PROXIES", "trusted_proxies", "words",
             "Collector: addresses/CIDRs whose X-Forwarded-For is believed."),
    Variable("EVENTLAKE_COLLECTOR_ID", "collector_id", "text",
             "Collector: this instance's name in landing file names; unique per replica."),
    Variable("EVENTLAKE_SPOOL_DIR", "spool_dir", "special", "Collector: the local spool (durable before 202)."),
    Variable("EVENTLAKE_FLUSH_SECONDS", "flush_seconds", "number",
             "Collector: a spool segment is landed at this age.", above=0),
    Variable("EVENTLAKE_FLUSH_BYTES", "flush_bytes", "whole",
             "Collector: a spool segment is landed at this size.", minimum=1),
    Variable("EVENTLAKE_SPOOL_MAX_BYTES", "spool_max_bytes", "whole",
             "Collector: unlanded bytes beyond which it answers 503.", minimum=1),
    Variable("ANALYTICS_METRICS_WINDOW_MINUTES", "metrics_window_minutes", "whole",
             "Collector: the window of GET /v1/analytics/metrics/summary when the request names none "
             "(source 002's setting, by 002's name).", minimum=1, maximum=7 * 24 * 60),
    Variable("EVENTLAKE_DEDUPE_WINDOW_SECONDS", "dedupe_window_seconds", "number",
             "Collector: an event without event_id whose fingerprint repeats within this many seconds gets the "
             "first one's id, so silver keeps one (source 003; 0: off).", minimum=0, maximum=86400),
    Variable("EVENTLAKE_RATE_LIMIT_PER_MINUTE", "rate_limit_per_minute", "whole",
             "Collector: events per minute per device (0: no limit).", minimum=0),
    Variable("EVENTLAKE_RATE_LIMIT_USER_PER_MINUTE", "rate_limit_user_per_minute", "whole",
             "Collector: events per minute per user of requests naming no device (0: no limit).", minimum=0),
    Variable("EVENTLAKE_RATE_LIMIT_IDENTITY_PER_MINUTE", "rate_limit_identity_per_minute", "whole",
             "Collector: events per minute per token user, API key or anonymous address (0: no limit).",
             minimum=0),
    Variable("EVENTLAKE_RATE_LIMIT_API_KEY_PER_MINUTE", "rate_limit_api_key_per_minute", "whole",
             "Collector: events per minute per API key (0: no limit).", minimum=0),
    Variable("EVENTLAKE_HTTP_IDLE_SECONDS", "http_idle_seconds", "number",
             "Collector: time allowed to an idle or fresh connection.", above=0),
    Variable("EVENTLAKE_HTTP_HEADER_SECONDS", "http_header_seconds", "number",
             "Collector: time allowed for a request's head.", above=0),
    Variable("EVENTLAKE_HTTP_BODY_SECONDS", "http_body_seconds", "number",
             "Collector: time allowed for a request's body.", above=0),
    Variable("EVENTLAKE_HTTP_MAX_HEADER_BYTES", "http_max_header_bytes", "whole",
             "Collector: largest request head.", minimum=1),
    Variable("EVENTLAKE_HTTP_MAX_HEADERS", "http_max_headers", "whole",
             "Collector: most header fields in a request.", minimum=1),
    Variable("EVENTLAKE_HTTP_MAX_CONNECTIONS", "http_max_connections", "whole",
             "Collector: open connections (0: derived from the open-file limit).", minimum=0),
)

# EVENTLAKE_* variables that other parts read (not Settings): never reported as unknown.
OTHER_VARIABLES: dict[str, str] = {
    "EVENTLAKE_ERASE_USER_ID": "eventlake maintenance erase-user: the raw id of one erasure",
    "EVENTLAKE_DSAR_USER_ID": "eventlake maintenance dsar: the raw id of one access export (--user-id-env)",
    "EVENTLAKE_JOBS_DIR": "dags/: where the DAGs find jobs/",
    "EVENTLAKE_PIPELINE_SCHEDULE": "dags/eventlake_pipeline.py: the pipeline's schedule",
    "EVENTLAKE_MAINTENANCE_SCHEDULE": "dags/eventlake_maintenance.py: maintenance's schedule",
    "EVENTLAKE_KAFKA_SCHEDULE": "dags/eventlake_kafka_ingest.py: the Kafka ingestion's schedule",
    "EVENTLAKE_BUCKET": "infra/: the lake's bucket (MinIO init, policies, Kubernetes)",
    "EVENTLAKE_COLLECTOR_ACCESS_KEY": "infra/docker-compose.yml: the collector's S3 key",
    "EVENTLAKE_COLLECTOR_SECRET_KEY": "infra/docker-compose.yml: the collector's S3 secret",
    "EVENTLAKE_JOBS_ACCESS_KEY": "infra/docker-compose.yml: the jobs' S3 key",
    "EVENTLAKE_JOBS_SECRET_KEY": "infra/docker-compose.yml: the jobs' S3 secret",
    "EVENTLAKE_READERS_ACCESS_KEY": "infra/docker-compose.yml: the SQL endpoint's S3 key (reads gold/)",
    "EVENTLAKE_READERS_SECRET_KEY": "infra/docker-compose.yml: the SQL endpoint's S3 secret",
    "EVENTLAKE_IMAGE": "infra/docker-compose.yml: the eventlake image",
    "EVENTLAKE_AIRFLOW_IMAGE": "infra/docker-compose.yml: the Airflow image",
    "EVENTLAKE_AIRFLOW_HOME": "scripts/airflow-standalone.sh",
    "EVENTLAKE_VENV": "scripts/airflow-standalone.sh",
    "EVENTLAKE_TEST_S3_SERVER": ".ci/s3-server.sh and tests/s3: the S3 server the tests use",
    "EVENTLAKE_BUILD_MINIO": ".ci/s3-server.sh",
    "EVENTLAKE_MINIO_BUILD_SECONDS": ".ci/s3-server.sh",
    "EVENTLAKE_DBT": "Makefile (exports it) and the dbt tests: dbt's executable in its own venv, .venv-dbt",
    "EVENTLAKE_DBT_DATABASE": "dbt/profiles.yml: the DuckDB file dbt's models are written to (docs/dbt.md)",
}


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """One line per EVENTLAKE_* variable that is set but that nothing reads (a typo such as
    EVENTLAKE_LAKEURI would otherwise leave its default in force without a word)."""
    env = os.environ if env is None else env
    known = {v.name for v in VARIABLES} | set(OTHER_VARIABLES)
    lines = []
    for name in sorted(n for n in env if n.startswith("EVENTLAKE_") and n not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else ""
        lines.append(f"{name} is set but nothing reads it{hint}")
    return lines


def report_unknown_variables(env: Mapping[str, str] | None = None) -> None:
    """Log a warning for each unknown EVENTLAKE_* variable (CLI and jobs call this once)."""
    for line in unknown_variables(env):
        log.warning("%s", line)


def describe_settings(settings: Settings, env: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(variable, effective value, where it came from) for `eventlake config`; secrets are
    shown as set or unset, never their value."""
    env = os.environ if env is None else env
    rows = []
    for variable in VARIABLES:
        value = getattr(settings, variable.field)
        given = bool(env.get(variable.name))
        if variable.name == "AWS_REGION" and not given and env.get("AWS_DEFAULT_REGION"):
            given = True
        if variable.secret:
            shown = "(set, hidden)" if value else "(unset)"
        elif value is None or value == ():
            shown = "(unset)"
        elif isinstance(value, tuple):
            shown = ",".join(value)
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
        rows.append((variable.name, shown, "environment" if given else "default"))
    return rows
