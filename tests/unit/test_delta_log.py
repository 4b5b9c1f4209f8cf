"""The Delta log read as files (state.current_version, last_commit, stored_description)
agrees with Delta's own answers (history(), DESCRIBE) after every kind of commit we make."""

from __future__ import annotations

import os
from datetime import date

import pytest
from delta.tables import DeltaTable

from eventlake.state import current_version, last_commit, stored_description

pytestmark = pytest.mark.unit

SCHEMA = "event_date date, content_id string, views long"


def _delta_says(spark, path: str) -> tuple[int, str, dict[str, str]]:
    newest = DeltaTable.forPath(spark, path).history(1).first()
    return int(newest["version"]), newest["operation"], dict(newest["operationMetrics"] or {})


def _described(spark, path: str) -> str | None:
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED delta.`{path}`").collect()
    return next((r["data_type"] for r in rows if r["col_name"] == "Comment"), None)


def _log_says(spark, path: str) -> tuple[int, str, dict[str, str]]:
    version, info = last_commit(spark, path)
    assert current_version(spark, path) == version
    return version, info["operation"], {k: str(v) for k, v in (info.get("operationMetrics") or {}).items()}


def test_every_kind_of_commit_reads_as_delta_reports_it(spark, tmp_path):
    path = str(tmp_path / "table")
    assert current_version(spark, path) is None
    with pytest.raises(FileNotFoundError):
        last_commit(spark, path)

    rows = [(date(2024, 3, 5), "c1", 3), (date(2024, 3, 5), "c2", 1)]
    spark.createDataFrame(rows, SCHEMA).write.format("delta").save(path)
    commits = [_log_says(spark, path)]
    spark.createDataFrame([(date(2024, 3, 6), "c1", 7)], SCHEMA).write.format("delta").mode("append").save(path)
    commits.append(_log_says(spark, path))
    spark.createDataFrame([(date(2024, 3, 6), "c9", 2)], SCHEMA).write.format("delta").mode(
        "overwrite").option("replaceWhere", "event_date = DATE'2024-03-06'").save(path)
    commits.append(_log_says(spark, path))
    (DeltaTable.forPath(spark, path).alias("t")
     .merge(spark.createDataFrame([(date(2024, 3, 5), "c1", 4)], SCHEMA).alias("s"),
            "t.content_id = s.content_id AND t.event_date = s.event_date")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
    commits.append(_log_says(spark, path))
    DeltaTable.forPath(spark, path).delete("content_id = 'c2'")
    commits.append(_log_says(spark, path))

    assert [c[0] for c in commits] == [0, 1, 2, 3, 4]
    assert [c[1] for c in commits] == ["WRITE", "WRITE", "WRITE", "MERGE", "DELETE"]
    assert commits[-1] == _delta_says(spark, path)
    assert commits[3][2]["numTargetRowsUpdated"] == "1"
    assert commits[0][2]["numOutputRows"] == "2"

    assert stored_description(spark, path, 4) is None
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('comment' = 'Views per day')")
    assert current_version(spark, path) == 5
    assert stored_description(spark, path, 5) == "Views per day" == _described(spark, path)
    # An older version's checksum says what the table was then.
    assert stored_description(spark, path, 4) is None


def test_without_a_checksum_the_description_comes_from_spark(spark, tmp_path):
    path = str(tmp_path / "table")
    spark.createDataFrame([(date(2024, 3, 5), "c1", 3)], SCHEMA).write.format("delta").save(path)
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('comment' = 'it\\'s described')")
    checksum = tmp_path / "table" / "_delta_log" / f"{1:020d}.crc"
    assert checksum.exists()  # Delta writes one per commit; another engine may not
    os.remove(checksum)
    assert stored_description(spark, path, 1) == "it's described" == _described(spark, path)


def test_only_commit_files_count_as_versions(spark, tmp_path):
    path = str(tmp_path / "table")
    spark.createDataFrame([(date(2024, 3, 5), "c1", 3)], SCHEMA).write.format("delta").save(path)
    log = tmp_path / "table" / "_delta_log"
    # A checkpoint, a compacted range, a temporary file and Hadoop's own checksum files are
    # not commits; only NNNNNNNNNNNNNNNNNNNN.json is. (Stand-ins: Delta itself would now fail
    # to read the fake checkpoint, so it is not asked.)
    for name in (f"{9:020d}.checkpoint.parquet", f"{0:020d}.{9:020d}.compacted.json",
                 f".{9:020d}.json.tmp", f".{9:020d}.json.crc", "_last_checkpoint"):
        (log / name).write_text("{}")
    assert current_version(spark, path) == 0  # one write: version 0
