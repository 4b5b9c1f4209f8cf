"""Landing files through S3Sink (boto3) on a real S3-compatible server."""

from __future__ import annotations

import gzip
import random
from datetime import datetime, timezone

import pytest

from eventlake.config import Settings
from eventlake.landing import S3Sink, encode_lines, landing_key, sink_for

pytestmark = pytest.mark.s3


def lake_settings(s3_lake) -> Settings:
    return Settings.from_env(s3_lake.env())


def test_sink_for_an_s3a_lake_is_the_s3_sink(s3_lake):
    sink = sink_for(lake_settings(s3_lake))

    assert isinstance(sink, S3Sink)
    assert sink.describe() == f"s3://{s3_lake.server.bucket}/{s3_lake.prefix}"


def test_a_landed_file_is_the_object_under_the_lake_prefix(s3_lake):
    sink = sink_for(lake_settings(s3_lake))
    hour = datetime(2024, 3, 5, 14, tzinfo=timezone.utc)
    lines = [b'{"event_id":"e1","event_name":"playback.started"}', b'{"event_id":"e2"}']
    key = landing_key(hour, "test-producer-1.jsonl.gz")

    sink.put(key, encode_lines(lines))

    client = s3_lake.server.client()
    expected_key = (
        f"{s3_lake.prefix}/landing/events/event_date=2024-03-05/event_hour=14/"
        "test-producer-1.jsonl.gz"
    )
    assert s3_lake.server.keys(s3_lake.prefix) == [expected_key]
    body = client.get_object(Bucket=s3_lake.server.bucket, Key=expected_key)["Body"].read()
    assert gzip.decompress(body) == b'{"event_id":"e1","event_name":"playback.started"}\n{"event_id":"e2"}\n'


def test_a_large_file_goes_up_in_parts_and_arrives_whole(s3_lake):
    sink = sink_for(lake_settings(s3_lake))
    # Above the sink's 16 MiB multipart threshold; incompressible so the size is real.
    data = random.Random(8).randbytes(17 * 1024 * 1024)
    key = landing_key(datetime(2024, 3, 5, 15, tzinfo=timezone.utc), "big.jsonl.gz")

    sink.put(key, data)

    client = s3_lake.server.client()
    head = client.head_object(Bucket=s3_lake.server.bucket, Key=f"{s3_lake.prefix}/{key}")
    # A multipart object's ETag is "<md5 of the parts' md5s>-<number of parts>".
    _, _, parts = head["ETag"].strip('"').partition("-")
    assert int(parts) > 1
    body = client.get_object(Bucket=s3_lake.server.bucket, Key=f"{s3_lake.prefix}/{key}")
    assert body["Body"].read() == data


def test_landing_into_a_missing_bucket_fails_after_its_retries(s3_server, tmp_path):
    from botocore.exceptions import ClientError

    env = {
        "EVENTLAKE_LAKE_URI": "s3a://no-such-bucket-here/lake",
        "EVENTLAKE_PSEUDONYM_SALT": "salt",
        "EVENTLAKE_S3_ENDPOINT": s3_server.endpoint,
        "AWS_ACCESS_KEY_ID": s3_server.access_key,
        "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
    }
    sink = S3Sink(Settings.from_env(env), attempts=2)

    with pytest.raises(ClientError) as raised:
        sink.put("landing/events/x.jsonl", b"{}\n")

    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
