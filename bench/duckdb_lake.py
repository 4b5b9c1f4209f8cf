"""An independent DuckDB implementation of the contract pipeline: landing → bronze → silver → gold.

Written from /work/shared/CONTRACT.md (§3 bronze, §5 silver rules in order, §6 the ten
contract gold tables), not from eventlake's Spark code. It is the reference the benchmark
times eventlake against and checks eventlake's tables with. Facts it shares with eventlake
come from one source: the taxonomy registry (event names, property schemas, consent
categories, read as data through `load_taxonomy()`), the salt from `Settings`, and the
gold SQL of tests/gold/test_reference.py (already an independent reference of §6).

Gaps (documented in docs/benchmarks.md): no e-mail/phone redaction of property strings (it
changes no gold figure); `market` is checked as two upper-case letters, not against the ISO
3166-1 list; enum checks compare strings only; a whole landing file is held in memory.
"""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

EEA_GB = ("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI "
          "NO GB").split()
OPTIONAL_STRINGS = ("device_type", "platform", "app_version", "os_version", "connection_type",
                    "ip_truncated", "user_agent", "collector_id")
RAW_IDS = ("user_id", "profile_id", "device_id")


@dataclass
class DuckLake:
    """A DuckDB connection holding bronze, silver, quarantine and gold_<table> tables."""

    connection: duckdb.DuckDBPyConnection
    seconds: dict[str, float] = field(default_factory=dict)
    landed_files: int = 0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path(name: str) -> str:
    return _quote('$."' + name + '"')


def read_landing(landing_root: Path) -> pa.Table:
    """Bronze (§3): one row per landed line, byte for byte, with its file and line number."""
    raws: list[str] = []
    files: list[str] = []
    numbers: list[int] = []
    paths = sorted(p for p in landing_root.rglob("*") if p.is_file()
                   and (p.name.endswith(".jsonl.gz") or p.name.endswith(".jsonl")))
    for path in paths:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()  # the newline that ends the last line
        key = str(path)
        for number, line in enumerate(lines, start=1):
            raws.append(line.decode("utf-8", errors="replace"))
            files.append(key)
            numbers.append(number)
    return pa.table({"raw": pa.array(raws, pa.string()), "source_file": pa.array(files, pa.string()),
                     "line_number": pa.array(numbers, pa.int64())})


def property_check_sql(taxonomy: Any) -> str:
    """One boolean SQL expression over `props` (JSON) and `name`: the §4 schema of the entry."""
    cases = []
    for spec in taxonomy:
        checks = []
        for prop in spec.properties:
            path = _path(prop.name)
            kind = f"json_type(props, {path})"
            text = f"json_extract_string(props, {path})"
            number = f"CAST(json_extract(props, {path}) AS DOUBLE)"
            typed = {
                "string": f"{kind} = 'VARCHAR'",
                "boolean": f"{kind} = 'BOOLEAN'",
                "number": f"{kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND isfinite({number})",
                "integer": f"({kind} IN ('BIGINT', 'UBIGINT') OR ({kind} = 'DOUBLE' AND {number} = floor({number})))",
                "object": f"{kind} = 'OBJECT'",
                "array": f"{kind} = 'ARRAY'",
            }[prop.type]
            rules = [typed]
            if prop.enum is not None and all(isinstance(v, str) for v in prop.enum):
                rules.append(f"{text} IN ({', '.join(_quote(v) for v in prop.enum)})")
            if prop.type in ("number", "integer"):
                if prop.minimum is not None:
                    rules.append(f"{number} >= {float(prop.minimum)!r}")
                if prop.maximum is not None:
                    rules.append(f"{number} <= {float(prop.maximum)!r}")
            if prop.type == "string" and prop.max_length is not None:
                rules.append(f"length({text}) <= {int(prop.max_length)}")
            if prop.type == "string" and prop.format == "ulid":
                rules.append(f"regexp_full_match(upper({text}), '[0-7][0-9A-HJKMNP-TV-Z]{{25}}')")
            absent = f"coalesce({kind}, 'NULL') = 'NULL'"
            allowed_absent = "false" if prop.required else "true"
            # CASE keeps the typed rules from being evaluated on a value of another type.
            checks.append(f"CASE WHEN {absent} THEN {allowed_absent} WHEN {typed} THEN "
                          f"coalesce({' AND '.join(rules)}, false) ELSE false END")
        if checks:
            cases.append(f"WHEN {_quote(spec.name)} THEN {' AND '.join(checks)}")
    return f"CASE name {' '.join(cases)} ELSE true END" if cases else "true"


def silver_sql(taxonomy: Any, salt: str, *, keep_essential: bool = True) -> list[str]:
    """§5 rules 1–6 as DuckDB statements over `bronze`; they create `judged`, `quarantine`, `silver`."""
    names = ", ".join(_quote(spec.name) for spec in taxonomy)
    # §5 rule 5 keeps `essential` events whatever the consent; keep_essential=False is the
    # reading eventlake's silver job has today (it drops them), for measuring that gap alone.
    essential = (", ".join(_quote(spec.name) for spec in taxonomy if spec.consent == "essential")
                 if keep_essential else "") or "NULL"
    eea = ", ".join(_quote(m) for m in EEA_GB)

    def t(f: str) -> str:
        return f"json_type(j, {_path(f)})"

    def s(f: str) -> str:
        return f"json_extract_string(j, {_path(f)})"

    def blank(f: str) -> str:
        return f"(coalesce({t(f)}, 'NULL') = 'NULL' OR ({t(f)} = 'VARCHAR' AND {s(f)} = ''))"

    def string_or_null(f: str, limit: int | None = None) -> str:
        cap = f" AND length({s(f)}) <= {limit}" if limit else ""
        return f"(coalesce({t(f)}, 'NULL') = 'NULL' OR ({t(f)} = 'VARCHAR'{cap}))"

    field_ok = " AND ".join([
        *(f"{t(f)} = 'VARCHAR' AND length({s(f)}) <= 64" for f in ("event_id", "session_id")),
        f"{t('event_name')} = 'VARCHAR'",
        *(string_or_null(f, 64) for f in RAW_IDS),
        *(string_or_null(f) for f in OPTIONAL_STRINGS),
        f"(coalesce({t('profile_kind')}, 'NULL') = 'NULL' OR {s('profile_kind')} IN ('standard', 'kids'))",
        f"(coalesce({t('market')}, 'NULL') = 'NULL' OR ({t('market')} = 'VARCHAR' "
        f"AND regexp_full_match({s('market')}, '[A-Z]{{2}}')))",
        f"(coalesce({t('schema_version')}, 'NULL') = 'NULL' OR ({t('schema_version')} IN ('BIGINT', 'UBIGINT') "
        f"AND TRY_CAST({s('schema_version')} AS BIGINT) BETWEEN 1 AND 2147483647))",
        f"(coalesce({t('consent')}, 'NULL') = 'NULL' OR {t('consent')} = 'OBJECT')",
        f"(coalesce({t('client_timestamp')}, 'NULL') = 'NULL' OR ({t('client_timestamp')} = 'VARCHAR' "
        f"AND TRY_CAST({s('client_timestamp')} AS TIMESTAMPTZ) IS NOT NULL))",
    ])

    def flag(key: str) -> str:
        kind = f"json_type(j, '$.consent.{key}')"
        return (f"CASE WHEN {kind} IS NULL THEN market_default "
                f"ELSE coalesce({kind} = 'BOOLEAN' AND json_extract(j, '$.consent.{key}')::BOOLEAN, false) END")

    def key(raw: str) -> str:
        return (f"CASE WHEN profile_kind = 'kids' OR {raw} IS NULL THEN NULL "
                f"ELSE sha256({raw} || {_quote(salt)}) END")

    return [
        """CREATE OR REPLACE TABLE parsed AS
            SELECT *, CASE WHEN json_valid(raw) AND json_type(raw) = 'OBJECT' THEN raw::JSON END AS j
            FROM bronze""",
        f"""CREATE OR REPLACE TABLE judged AS
            WITH fields AS (
              SELECT *, CASE WHEN {t('event_timestamp')} = 'VARCHAR'
                          THEN TRY_CAST({s('event_timestamp')} AS TIMESTAMPTZ) END AS ts,
                     {s('event_name')} AS name, json_extract(j, '$.properties') AS props
              FROM parsed)
            SELECT *, CASE
                WHEN j IS NULL THEN 'MALFORMED_JSON'
                WHEN {blank('event_id')} OR {blank('event_name')} OR {blank('session_id')}
                  THEN 'MISSING_REQUIRED_FIELD'
                WHEN ts IS NULL THEN 'INVALID_TIMESTAMP'
                WHEN NOT coalesce({field_ok}, false) THEN 'INVALID_FIELD'
                WHEN name NOT IN ({names}) THEN 'UNKNOWN_EVENT_NAME'
                WHEN coalesce(json_type(props), 'NULL') <> 'OBJECT' THEN 'INVALID_PROPERTY'
                WHEN NOT coalesce({property_check_sql(taxonomy)}, false) THEN 'INVALID_PROPERTY'
              END AS reason
            FROM fields""",
        """CREATE OR REPLACE TABLE quarantine AS
            SELECT raw, source_file, line_number, reason,
                   CASE WHEN j IS NOT NULL THEN json_extract_string(j, '$.event_id') END AS event_id,
                   CASE WHEN j IS NOT NULL THEN name END AS event_name
            FROM judged WHERE reason IS NOT NULL""",
        f"""CREATE OR REPLACE TABLE consented AS
            WITH envelope AS (
              SELECT *, CASE {s('market')} WHEN 'UK' THEN 'GB' WHEN 'EL' THEN 'GR'
                          ELSE {s('market')} END AS market_code,
                     {s('profile_kind')} AS profile_kind
              FROM judged WHERE reason IS NULL),
            defaults AS (
              SELECT *, market_code IS NULL OR market_code NOT IN ({eea}) AS market_default FROM envelope)
            SELECT *, {flag('analytics')} AS analytics, {flag('personalization')} AS personalization,
                   {flag('ad_targeting')} AS ad_targeting
            FROM defaults""",
        f"""CREATE OR REPLACE TABLE kept AS
            SELECT * FROM consented WHERE analytics OR name IN ({essential})""",
        f"""CREATE OR REPLACE TABLE silver AS
            WITH ranked AS (
              SELECT *, row_number() OVER (PARTITION BY {s('event_id')}
                                           ORDER BY ts, source_file, line_number) AS copy
              FROM kept),
            clean AS (
              SELECT *, timezone('UTC', ts) AS event_ts,
                     timezone('UTC', TRY_CAST({s('client_timestamp')} AS TIMESTAMPTZ)) AS client_ts,
                     {s('user_id')} AS user_id, {s('profile_id')} AS profile_id, {s('device_id')} AS device_id
              FROM ranked WHERE copy = 1)
            SELECT {s('event_id')} AS event_id, name AS event_name, split_part(name, '.', 1) AS event_domain,
                   event_ts AS event_timestamp, CAST(event_ts AS DATE) AS event_date,
                   date_trunc('hour', event_ts) AS event_hour, client_ts AS client_timestamp,
                   coalesce(abs(epoch(event_ts) - epoch(client_ts)) > 300, false) AS client_ts_skewed,
                   {key('user_id')} AS user_key, {key('profile_id')} AS profile_key,
                   {key('device_id')} AS device_key, {s('session_id')} AS session_id, profile_kind,
                   {s('device_type')} AS device_type, {s('platform')} AS platform,
                   {s('app_version')} AS app_version, {s('os_version')} AS os_version,
                   market_code AS market, {s('connection_type')} AS connection_type,
                   coalesce(profile_kind = 'kids', false) OR NOT personalization AS no_personalization,
                   coalesce(profile_kind = 'kids', false) OR NOT ad_targeting AS no_ad_targeting,
                   coalesce(TRY_CAST({s('schema_version')} AS INTEGER), 1) AS schema_version,
                   CAST(props AS VARCHAR) AS properties, {s('ip_truncated')} AS ip_truncated,
                   {s('user_agent')} AS user_agent, {s('collector_id')} AS collector_id, source_file
            FROM clean""",
    ]


def reference_gold_sql() -> dict[str, str]:
    """The ten §6 tables as DuckDB SQL over `silver` (tests/gold's independent reference)."""
    import sys

    tests_gold = str(Path(__file__).resolve().parents[1] / "tests" / "gold")
    if tests_gold not in sys.path:
        sys.path.insert(0, tests_gold)
    from test_reference import REFERENCE_SQL

    from eventlake.gold.tables import CONTRACT_TABLES

    return {name: REFERENCE_SQL[name] for name in CONTRACT_TABLES}


def build(landing_root: Path, *, salt: str, threads: int | None = None, keep_essential: bool = True) -> DuckLake:
    """Full build from the landing files; wall time per layer in `seconds`."""
    from eventlake.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    gold_sql = reference_gold_sql()
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    lake = DuckLake(connection)

    started = time.perf_counter()
    bronze = read_landing(landing_root)
    connection.register("bronze_lines", bronze)
    connection.execute("CREATE TABLE bronze AS SELECT * FROM bronze_lines")
    connection.unregister("bronze_lines")
    lake.landed_files = len(set(bronze.column("source_file").to_pylist())) if bronze.num_rows else 0
    lake.seconds["bronze"] = time.perf_counter() - started

    started = time.perf_counter()
    for statement in silver_sql(taxonomy, salt, keep_essential=keep_essential):
        connection.execute(statement)
    lake.seconds["silver"] = time.perf_counter() - started

    started = time.perf_counter()
    for name, sql in gold_sql.items():
        connection.execute(f"CREATE OR REPLACE TABLE gold_{name} AS {sql}")
    lake.seconds["gold"] = time.perf_counter() - started
    return lake


def counts(lake: DuckLake) -> dict[str, Any]:
    """What the reference made of the landed lines (§3: every line accounted for)."""
    def one(sql: str) -> int:
        return lake.connection.execute(sql).fetchall()[0][0]

    reasons = dict(lake.connection.execute(
        "SELECT reason, count(*) FROM quarantine GROUP BY reason ORDER BY reason").fetchall())
    figures = {
        "bronze": one("SELECT count(*) FROM bronze"), "silver": one("SELECT count(*) FROM silver"),
        "quarantine": sum(reasons.values()), "quarantine_by_reason": reasons,
        "consent_drops": one("SELECT count(*) FROM consented") - one("SELECT count(*) FROM kept"),
        "duplicates": one("SELECT count(*) FROM kept") - one("SELECT count(*) FROM silver"),
        "essential_kept_without_analytics": one("SELECT count(*) FROM silver WHERE event_id IN "
                                                "(SELECT json_extract_string(j, '$.event_id') FROM kept "
                                                "WHERE NOT analytics)"),
    }
    figures["accounted"] = figures["bronze"] == (figures["silver"] + figures["quarantine"]
                                                 + figures["consent_drops"] + figures["duplicates"])
    return figures
