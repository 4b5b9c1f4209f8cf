"""The Spark schemas of the lake's tables (contract §3, §5). Read them here, in one place."""

from __future__ import annotations

from pyspark.sql.types import (
    BooleanType,
    ByteType,
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


def _schema(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, True) for name, dtype in fields])


BRONZE_EVENTS = _schema(
    ("raw", StringType()),
    ("source_file", StringType()),
    ("line_number", LongType()),
    ("ingested_at", TimestampType()),
    ("ingest_date", DateType()),
)

SILVER_EVENTS = _schema(
    ("event_id", StringType()),
    ("event_name", StringType()),
    ("event_domain", StringType()),
    ("event_timestamp", TimestampType()),
    ("event_date", DateType()),
    ("event_hour", TimestampType()),
    ("client_timestamp", TimestampType()),
    ("client_ts_skewed", BooleanType()),
    ("user_key", StringType()),
    ("profile_key", StringType()),
    ("device_key", StringType()),
    ("session_id", StringType()),
    ("profile_kind", StringType()),
    ("device_type", StringType()),
    ("platform", StringType()),
    ("app_version", StringType()),
    ("os_version", StringType()),
    ("market", StringType()),
    ("connection_type", StringType()),
    ("no_personalization", BooleanType()),
    ("no_ad_targeting", BooleanType()),
    ("schema_version", IntegerType()),
    ("properties", StringType()),
    ("ip_truncated", StringType()),
    ("user_agent", StringType()),
    ("collector_id", StringType()),
    ("source_file", StringType()),
    ("ingested_at", TimestampType()),
)

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
