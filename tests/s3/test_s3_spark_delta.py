"""Spark + Delta on an s3a:// lake: hadoop-aws, path-style endpoint, keys from the env.

The Spark work runs in a subprocess: `spark.jars.packages` (hadoop-aws) is fixed when a JVM
starts, and the shared test session's JVM was started for a local lake.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from process_output import failure_excerpt

pytestmark = pytest.mark.s3

# Builds the session exactly as the CLI does (Settings.from_env -> build_spark_session),
# commits twice to one Delta table (create, then append) and prints what Spark reads back.
SPARK_ROUNDTRIP = r"""
import json
from datetime import date
from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.spark import build_spark_session

settings = Settings.from_env()
spark = build_spark_session(
    settings, "eventlake-s3-roundtrip",
    extra_conf={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"},
)
table = Lake.from_settings(settings).gold("s3_roundtrip").path
schema = "event_date date, content_id string, views long"
spark.createDataFrame(
    [(date(2024, 3, 5), "c1", 3), (date(2024, 3, 5), "c2", 1)], schema
).write.format("delta").partitionBy("event_date").mode("overwrite").save(table)
spark.createDataFrame([(date(2024, 3, 6), "c1", 7)], schema).write.format("delta").mode(
    "append"
).save(table)
rows = spark.read.format("delta").load(table).orderBy("event_date", "content_id").collect()
# The Delta log read as files through s3a agrees with Delta's history().
from delta.tables import DeltaTable
from eventlake.state import current_version, last_commit
newest = DeltaTable.forPath(spark, table).history(1).first()
version, commit_info = last_commit(spark, table)
print("LOG " + json.dumps([current_version(spark, table), version, commit_info["operation"],
                           newest["version"], newest["operation"]]))
print("ROWS " + json.dumps([[r.event_date.isoformat(), r.content_id, r.views] for r in rows]))
# Bronze's listing of landing (boto3) agrees with Hadoop's FileSystem through s3a, and
# the idle check's (no Spark) with both.
from eventlake.bronze.ingest import list_landing_files
root = spark._jvm.org.apache.hadoop.fs.Path(Lake.from_settings(settings).landing_events)
fs = root.getFileSystem(spark._jsc.hadoopConfiguration())
hadoop, iterator = {}, fs.listFiles(root, True)
while iterator.hasNext():
    status = iterator.next()
    name = status.getPath().getName()
    if not name.startswith((".", "_")) and name.endswith((".jsonl", ".jsonl.gz")):
        hadoop[status.getPath().toUri().toString()] = [
            status.getPath().toString(), status.getLen(), status.getModificationTime()]
listed = {uri: [f.path, f.size, round(f.modified_at.timestamp() * 1000)]
          for uri, f in list_landing_files(spark, settings).items()}
from eventlake.pending import landing_uris
print("LIST " + json.dumps([listed, hadoop, landing_uris(settings)]))
spark.stop()
"""

LANDED = ("gen-b0-20261101T10-p00-42b56e75.jsonl.gz", "with space.jsonl", "plus+comma,eq=ü.jsonl")
NOT_LANDED = (".tmp-half-written.jsonl.gz", "_SUCCESS", "notes.txt")

EXPECTED_ROWS = [["2024-03-05", "c1", 3], ["2024-03-05", "c2", 1], ["2024-03-06", "c1", 7]]


def test_spark_writes_and_reads_a_delta_table_on_s3a(s3_lake):
    hour = f"{s3_lake.prefix}/landing/events/event_date=2026-11-01/event_hour=10"
    for name in LANDED + NOT_LANDED:
        s3_lake.server.client().put_object(Bucket=s3_lake.server.bucket, Key=f"{hour}/{name}", Body=b"{}\n")
    done = subprocess.run(
        [sys.executable, "-c", SPARK_ROUNDTRIP],
        env=s3_lake.env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, failure_excerpt(done.stderr)
    printed = [line for line in done.stdout.splitlines() if line.startswith("ROWS ")]
    assert json.loads(printed[-1][len("ROWS "):]) == EXPECTED_ROWS
    logged = [line for line in done.stdout.splitlines() if line.startswith("LOG ")]
    assert json.loads(logged[-1][len("LOG "):]) == [1, 1, "WRITE", 1, "WRITE"]
    [listing] = [line for line in done.stdout.splitlines() if line.startswith("LIST ")]
    listed, hadoop, pending = json.loads(listing[len("LIST "):])
    assert len(listed) == len(LANDED) and listed == hadoop
    assert pending == sorted(listed)  # the idle check counts the same files, spelt alike

    # The objects really are in the bucket: data files and a two-commit log.
    keys = s3_lake.server.keys(f"{s3_lake.prefix}/gold/s3_roundtrip/")
    log = [k.rsplit("/", 1)[1] for k in keys if "/_delta_log/" in k and k.endswith(".json")]
    assert log == ["00000000000000000000.json", "00000000000000000001.json"]
    assert any("/event_date=2024-03-06/" in k and k.endswith(".parquet") for k in keys)

    # ... and another Delta implementation reads the same table straight from the server.
    from deltalake import DeltaTable

    table = DeltaTable(
        s3_lake.table_uri("gold/s3_roundtrip"), storage_options=s3_lake.server.storage_options()
    )
    assert table.version() == 1
    read_back = table.to_pyarrow_table().sort_by([("event_date", "ascending"), ("content_id", "ascending")])
    assert [
        [row["event_date"].isoformat(), row["content_id"], row["views"]]
        for row in read_back.to_pylist()
    ] == EXPECTED_ROWS
