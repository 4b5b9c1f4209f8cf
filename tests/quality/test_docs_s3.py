"""Data Docs of an S3 lake: built locally from the lake's validation results, uploaded
under _quality/ (loopback moto server)."""

from __future__ import annotations

import os
import socket

import pytest

from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.quality.engine import local_quality_dirs, publish, pull_results

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_settings():
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    settings = Settings.from_env(
        {
            "EVENTLAKE_LAKE_URI": "s3a://docs-bucket/lake",
            "EVENTLAKE_S3_ENDPOINT": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "EVENTLAKE_PSEUDONYM_SALT": "salt",
        }
    )
    from eventlake.landing import s3_client

    s3_client(settings).create_bucket(Bucket="docs-bucket")
    yield settings
    server.stop()


def test_what_this_process_wrote_is_uploaded_and_other_tasks_results_are_pulled(s3_settings, tmp_path):
    from eventlake.landing import s3_client

    lake = Lake.from_settings(s3_settings)
    docs, results = local_quality_dirs(s3_settings, lake.quality_docs, lake.quality_validations)
    assert not str(docs).startswith("s3") and not str(results).startswith("s3")
    client = s3_client(s3_settings)
    # Another task (another machine) validated earlier: its result is in the lake only.
    client.put_object(Bucket="docs-bucket", Key="lake/_quality/gx/validations/bronze.run/r0/t0/b.json",
                      Body=b'{"from": "another task"}')
    site, store = tmp_path / "site", tmp_path / "store"
    pull_results(s3_settings, store, lake.quality_validations)
    assert (store / "bronze.run" / "r0" / "t0" / "b.json").read_text() == '{"from": "another task"}'

    (site / "validations" / "silver.run").mkdir(parents=True)
    (site / "old.html").write_text("built by an earlier process")
    os.utime(site / "old.html", (1_000_000, 1_000_000))
    since = 2_000_000.0
    (site / "index.html").write_text("<html>index</html>")
    (site / "validations" / "silver.run" / "r1.html").write_text("<html>r1</html>")
    (store / "silver.run" / "r1" / "t1").mkdir(parents=True)
    (store / "silver.run" / "r1" / "t1" / "b.json").write_text("{}")
    os.utime(store / "bronze.run" / "r0" / "t0" / "b.json", (1_000_000, 1_000_000))

    where = publish(s3_settings, site, lake.quality_docs, store, lake.quality_validations, since=since)

    listed = client.list_objects_v2(Bucket="docs-bucket", Prefix="lake/_quality/")
    assert sorted(o["Key"] for o in listed["Contents"]) == [
        "lake/_quality/docs/index.html",
        "lake/_quality/docs/validations/silver.run/r1.html",
        "lake/_quality/gx/validations/bronze.run/r0/t0/b.json",
        "lake/_quality/gx/validations/silver.run/r1/t1/b.json",
    ]
    index = client.get_object(Bucket="docs-bucket", Key="lake/_quality/docs/index.html")
    assert index["ContentType"] == "text/html"
    assert index["Body"].read() == b"<html>index</html>"
    assert where == "s3://docs-bucket/lake/_quality/docs/index.html"
