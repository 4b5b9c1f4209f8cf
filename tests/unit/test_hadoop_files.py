"""Small files through Hadoop's FileSystem: what state, the Delta log readers and DSAR use."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

from eventlake.hadoop_files import hadoop_fs, read_file, write_file

pytestmark = pytest.mark.unit


def test_a_written_file_reads_back_byte_for_byte_and_a_missing_one_is_none(spark, tmp_path):
    target = tmp_path / "state" / "consumer.json"
    assert read_file(spark, str(target)) is None
    write_file(spark, str(target), b'{"version": 3}\n')
    assert target.read_bytes() == b'{"version": 3}\n'  # the plain file, as any reader sees it
    write_file(spark, f"file://{target}", b"{}")  # a URI names the same file; it is replaced whole
    assert read_file(spark, str(target)) == b"{}" == target.read_bytes()
    fs, path = hadoop_fs(spark, str(tmp_path / "state"))
    assert [status.getPath().getName() for status in fs.listStatus(path)] == ["consumer.json"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096))
def test_any_bytes_survive_the_round_trip(spark, tmp_path, data):
    target = str(tmp_path / "blob.bin")
    write_file(spark, target, data)
    assert read_file(spark, target) == data
