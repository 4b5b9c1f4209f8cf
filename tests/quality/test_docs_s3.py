"""Data Docs of an S3 lake: built locally, uploaded under _quality/docs/ (loopback moto server)."""

from __future__ import annotations

import socket

import pytest

from eventlake.config import Settings
from eventlake.lake import Lake
from eventlake.quality.engine import local_docs_dir, publish_docs

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


def test_docs_site_is_uploaded_to_the_lake(s3_settings, tmp_path):
    lake = Lake.from_settings(s3_settings)
    assert not str(local_docs_dir(s3_settings, lake.quality_docs)).startswith("s3")
    site = tmp_path / "site"
    (site / "validations" / "silver.run").mkdir(parents=True)
    (site / "index.html").write_text("<html>index</html>")
    (site / "validations" / "silver.run" / "r1.html").write_text("<html>r1</html>")

    where = publish_docs(s3_settings, site, lake.quality_docs)

    from eventlake.landing import s3_client

    client = s3_client(s3_settings)
    listed = client.list_objects_v2(Bucket="docs-bucket", Prefix="lake/_quality/docs/")
    assert sorted(o["Key"] for o in listed["Contents"]) == [
        "lake/_quality/docs/index.html",
        "lake/_quality/docs/validations/silver.run/r1.html",
    ]
    index = client.get_object(Bucket="docs-bucket", Key="lake/_quality/docs/index.html")
    assert index["ContentType"] == "text/html"
    assert index["Body"].read() == b"<html>index</html>"
    assert where == "s3://docs-bucket/lake/_quality/docs/index.html"
