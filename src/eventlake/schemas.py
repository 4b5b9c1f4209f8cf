"""The Spark schemas of the lake's tables (contract §3, §5). Read them here, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import pyarrow as pa
from pyspark.sql.types import (
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)


def _schema(*fields: tuple[str, DataType]) -> StructType:
    return StructType([StructField(name, dtype, True) for name, dtype in fields])


BRONZE_EVENTS = _schema(
    ("raw", StringType()),
    ("source_file", StringType()),
    ("line_number", LongType()),
    ("ingested_at", TimestampType()),
    ("ingest_date", DateType()),
)

Source = Literal["judge", "derived", "bronze"]


@dataclass(frozen=True)
class EventField:
    """One field of an event on its way from bronze to silver: the one place that names it.

    `source` says who produces it: "judge" (`eventlake.envelope.normalise` returns it, typed
    and cleaned, and silver keeps it as it is), "derived" (`eventlake.silver.clean.
    to_silver_events` computes it from judged fields) or "bronze" (the bronze row's own). The
    judge's output (its Spark and Arrow schemas), silver's schema and silver's final select
    all come from EVENT_FIELDS.
    """

    name: str
    type: DataType
    doc: str
    source: Source
    in_silver: bool = True

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type the judge's batches carry it in (timestamps: microseconds, UTC)."""
        return _ARROW_TYPES[type(self.type)]


_ARROW_TYPES: dict[type[DataType], pa.DataType] = {
    StringType: pa.string(),
    BooleanType: pa.bool_(),
    IntegerType: pa.int32(),
    LongType: pa.int64(),
    DateType: pa.date32(),
    TimestampType: pa.timestamp("us", tz="UTC"),
}

_J: Final = "judge"
_D: Final = "derived"
_B: Final = "bronze"
# Silver's columns in their order (contract §5), then what only the judge returns.
EVENT_FIELDS: tuple[EventField, ...] = (
    EventField("event_id", StringType(), "The producer's event id (a ULID); one silver row per id.", _J),
    EventField("event_name", StringType(), "domain.action, a name of the taxonomy.", _J),
    EventField("event_domain", StringType(), "The part of event_name before the first dot.", _D),
    EventField("event_timestamp", TimestampType(), "When the event happened (UTC, its offset applied).", _J),
    EventField("event_date", DateType(), "UTC day of event_timestamp.", _D),
    EventField("event_hour", TimestampType(), "event_timestamp truncated to the hour (UTC).", _D),
    EventField("client_timestamp", TimestampType(), "The device clock's time of the event, when sent (UTC).", _J),
    EventField("client_ts_skewed", BooleanType(), "Both timestamps exist and differ by more than 5 minutes.", _D),
    EventField("user_key", StringType(), "sha256(user_id + salt), lower hex; null without a user_id and for kids profiles.", _D),
    EventField("profile_key", StringType(), "sha256(profile_id + salt), the same way.", _D),
    EventField("device_key", StringType(), "sha256(device_id + salt), the same way.", _D),
    EventField("session_id", StringType(), "The app session the event belongs to.", _J),
    EventField("profile_kind", StringType(), "standard or kids, as sent.", _J),
    EventField("device_type", StringType(), "Device class as sent.", _J),
    EventField("platform", StringType(), "Client platform as sent.", _J),
    EventField("app_version", StringType(), "App version as sent.", _J),
    EventField("os_version", StringType(), "Operating system version as sent.", _J),
    EventField("market", StringType(), "ISO 3166-1 alpha-2 market (UK read as GB, EL as GR).", _J),
    EventField("connection_type", StringType(), "Network connection as sent.", _J),
    EventField("no_personalization", BooleanType(), "Personalization consent off, or a kids profile.", _J),
    EventField("no_ad_targeting", BooleanType(), "Ad-targeting consent off, or a kids profile.", _J),
    EventField("schema_version", IntegerType(), "Envelope schema version (1 when not sent).", _J),
    EventField("properties", StringType(), "The event's properties as a JSON object, e-mail addresses and phone numbers redacted.", _J),
    EventField("ip_truncated", StringType(), "The client's IP address truncated (IPv4 /24, IPv6 /48).", _J),
    EventField("user_agent", StringType(), "The client's User-Agent as the collector saw it.", _J),
    EventField("collector_id", StringType(), "The collector instance that accepted the event.", _J),
    EventField("source_file", StringType(), "The landing file the line came from.", _B),
    EventField("ingested_at", TimestampType(), "When bronze ingested the line (UTC).", _B),
    # An extension of the contract's columns (source 003's enrichment), after them.
    EventField("ua_browser", StringType(), "Browser and its version parsed from user_agent (ua-parser), "
               "e.g. 'Mobile Safari 17.4'; null when unknown.", _J),
    EventField("ua_os", StringType(), "Operating system and its version parsed from user_agent, e.g. 'iOS 17.4'.", _J),
    EventField("ua_device", StringType(), "Device parsed from user_agent, e.g. 'iPhone'; null for desktops and "
               "unknown devices.", _J),
    # The judge's answer for the line, and what silver derives from and then drops.
    EventField("reason", StringType(), "Quarantine reason (contract §5); null for a valid line.", _J, in_silver=False),
    EventField("detail", StringType(), "What the reason is about, for a person.", _J, in_silver=False),
    EventField("user_id", StringType(), "Raw user id: becomes user_key, never stored past bronze.", _J, in_silver=False),
    EventField("profile_id", StringType(), "Raw profile id: becomes profile_key.", _J, in_silver=False),
    EventField("device_id", StringType(), "Raw device id: becomes device_key.", _J, in_silver=False),
    EventField(
        "consent_analytics", BooleanType(),
        "Rule 5's answer (eventlake.privacy.consent_keeps): analytics consent on, or an essential event.",
        _J, in_silver=False,
    ),
)
SILVER_FIELDS = tuple(f for f in EVENT_FIELDS if f.in_silver)
SILVER_EVENTS = StructType([StructField(f.name, f.type, True) for f in SILVER_FIELDS])

SILVER_QUARANTINE = _schema(
    ("raw", StringType()),
    ("source_file", StringType()),
    ("line_number", LongType()),
    ("reason", StringType()),
    ("detail", StringType()),
    ("event_id", StringType()),
    ("event_name", StringType()),
    ("ingested_at", TimestampType()),
    ("ingest_date", DateType()),
)

SILVER_COLUMNS = [f.name for f in SILVER_EVENTS.fields]
QUARANTINE_COLUMNS = [f.name for f in SILVER_QUARANTINE.fields]

# Columns that may hold a raw line, a raw id or a user's pseudonymous key. Delta copies the
# min/max of indexed columns into every `add` action of `_delta_log`, where an erased value
# would outlive its data file after VACUUM; these columns are kept out of the statistics.
PERSONAL_COLUMNS = frozenset(
    {"raw", "detail", "user_key", "profile_key", "device_key", "properties", "user_agent"}
)


def stats_properties(schema: StructType, partition_column: str | None = None) -> dict[str, str]:
    """Table properties that collect file statistics on every column but the personal ones
    (and the partition column, tracked by path, and types Delta keeps no statistics for)."""
    skipped = PERSONAL_COLUMNS | {partition_column}
    return {
        "delta.dataSkippingStatsColumns": ",".join(
            f.name for f in schema.fields
            if f.name not in skipped and isinstance(f.dataType, _STATS_TYPES)
        )
    }


_STATS_TYPES = (
    ByteType, ShortType, IntegerType, LongType, FloatType, DoubleType, DecimalType,
    DateType, TimestampType, TimestampNTZType, StringType,
)
BRONZE_TABLE_PROPERTIES = stats_properties(BRONZE_EVENTS, "ingest_date")
