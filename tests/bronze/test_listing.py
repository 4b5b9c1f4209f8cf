"""Bronze's landing listing: a local landing zone is walked by Python, not through Py4J.

Its answer must be exactly the one Hadoop's FileSystem gives (`hadoop_listing` below, the
listing bronze used before): the same URIs, spelt as Spark reports `source_file` (the
ledger's key), the same paths to read, sizes and modification times. Hadoop's listing is
the independent reference here; Spark's own `_metadata.file_path` is the reference for
the spelling. tests/s3/test_s3_spark_delta.py compares the S3 listing the same way.
"""

from __future__ import annotations

import gzip
import os
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlake.bronze.ingest import LandingFile, list_landing_files, read_landing_lines
from eventlake.config import Settings

pytestmark = pytest.mark.unit

HOUR = Path("event_date=2026-11-01") / "event_hour=10"
# Names as producers and operators write them: the collector's own, and odd ones dropped
# in by hand (spaces, URI delimiters, percent signs, non-ASCII).
ODD_NAMES = (
    "gen-b0-20261101T10-p00-42b56e75.jsonl.gz",
    "with space.jsonl",
    "plus+comma,semi;amp&eq=.jsonl.gz",
    "percent%41and%.jsonl",
    "hash#at@tilde~quote'.jsonl",
    "ünïcode-é-日本.jsonl.gz",
    "brackets[1]{2}.jsonl",
)


def hadoop_listing(spark, landing_root: str) -> dict[str, LandingFile]:
    """Every landing file under `landing_root` as Hadoop's FileSystem lists it."""
    jvm = spark.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(landing_root)
    fs = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    files = {}
    if not fs.exists(root):
        return files
    iterator = fs.listFiles(root, True)
    while iterator.hasNext():
        status = iterator.next()
        path = status.getPath()
        name = path.getName()
        if name.startswith((".", "_")) or not name.endswith((".jsonl", ".jsonl.gz")):
            continue
        uri = path.toUri().toString()
        uri = "file:/" + uri[len("file:///"):] if uri.startswith("file:///") else uri
        files[uri] = LandingFile(path.toString(), int(status.getLen()),
                                 datetime.fromtimestamp(status.getModificationTime() / 1000, timezone.utc))
    return files


def lake_settings(lake: Path) -> Settings:
    return Settings.from_env({"EVENTLAKE_LAKE_URI": str(lake), "EVENTLAKE_PSEUDONYM_SALT": "listing"})


def _land(root: Path, relative: Path, body: bytes = b'{"a":1}\n') -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(body) if path.name.endswith(".gz") else body)


def test_the_local_walk_lists_what_hadoop_lists(spark, tmp_path):
    lake = tmp_path / "odd dir é"  # the lake's own path is odd too
    root = lake / "landing" / "events"
    for name in ODD_NAMES:
        _land(root, HOUR / name)
    _land(root, Path("event_date=2026-11-02") / "deeper" / "still" / "late.jsonl")
    for hidden in (".tmp-half-written.jsonl.gz", "_SUCCESS", "notes.txt", "x.jsonl.gz.crc"):
        _land(root, HOUR / hidden)
    os.utime(root / HOUR / ODD_NAMES[0], ns=(1_700_000_000_123_456_789,) * 2)  # sub-ms part dropped

    listed, hadoop = list_landing_files(spark, lake_settings(lake)), hadoop_listing(spark, str(root))
    assert len(listed) == len(ODD_NAMES) + 1
    assert listed == hadoop
    assert list(listed) == sorted(hadoop)


def test_listed_uris_are_spelt_as_spark_reports_the_files_it_reads(spark, tmp_path):
    root = tmp_path / "lake" / "landing" / "events"
    readable = [name for name in ODD_NAMES if not set(name) & set("[]{}")]  # no glob patterns
    for name in readable:
        _land(root, HOUR / name)
    listed = list_landing_files(spark, lake_settings(tmp_path / "lake"))
    reported = {
        row.source_file
        for row in read_landing_lines(spark, [f.path for f in listed.values()]).select("source_file").collect()
    }
    assert reported == set(listed) and len(reported) == len(readable)


def test_a_symlinked_folder_is_listed_and_a_symlink_loop_ends(spark, tmp_path):
    lake = tmp_path / "lake"
    root = lake / "landing" / "events"
    _land(root, HOUR / "a.jsonl")
    elsewhere = tmp_path / "mounted" / "event_hour=11"
    _land(elsewhere.parent, Path("event_hour=11") / "b.jsonl")
    (root / "event_date=2026-11-01" / "event_hour=11").symlink_to(elsewhere, target_is_directory=True)
    (root / "event_date=2026-11-01" / "loop").symlink_to(root, target_is_directory=True)
    listed = list_landing_files(spark, lake_settings(lake))
    assert sorted(Path(uri).name for uri in listed) == ["a.jsonl", "b.jsonl"]


def test_a_missing_landing_zone_lists_nothing(spark, tmp_path):
    assert list_landing_files(spark, lake_settings(tmp_path / "nothing" / "here")) == {}


# Hadoop cannot list a child whose name holds ':' (it parses it as a URI scheme), and '/'
# and NUL cannot be in a name; every other printable character is fair game.
NAME_CHARACTERS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters=":/\\\x00"
) | st.sampled_from(string.punctuation.replace(":", "").replace("/", "").replace("\\", ""))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stems=st.lists(st.text(NAME_CHARACTERS, min_size=1, max_size=12), min_size=1, max_size=4, unique=True),
       gz=st.booleans())
def test_any_file_names_list_alike(spark, tmp_path_factory, stems, gz):
    root = tmp_path_factory.mktemp("names") / "landing" / "events"
    for stem in stems:
        try:
            _land(root, HOUR / f"{stem}.jsonl{'.gz' if gz else ''}")
        except OSError:  # a name this file system refuses (too long in bytes): not landable
            continue
    assert list_landing_files(spark, lake_settings(root.parent.parent)) == hadoop_listing(spark, str(root))
