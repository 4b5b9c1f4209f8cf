"""A lake moved from disk to S3 keeps its ingestion ledger (docs/privacy.md, "Moving a lake").

What "when one machine is not enough" looks like in practice: a lake built on a laptop's
disk is uploaded to a bucket, and the same jobs carry on against S3. Its ledger names the
old folder in every URI; the idle check (delta-rs and boto3 against a real S3-compatible
server) must still know every landed file, and only what lands after the move is new.
"""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from eventlake.bronze.ingest import ingest_bronze
from eventlake.config import Settings
from eventlake.generate import generate_traffic
from eventlake.pending import landing_uris, new_landing_bytes, pending_work

pytestmark = pytest.mark.s3


def test_a_lake_uploaded_from_disk_to_a_bucket_ingests_only_what_lands_after(spark, s3_lake, tmp_path):
    local_root = tmp_path / "laptop" / "lake"
    local = Settings.from_env({"EVENTLAKE_LAKE_URI": str(local_root), "EVENTLAKE_PSEUDONYM_SALT": "s3-test-salt"})
    generate_traffic(local, events=80, days=1, start_date=date(2026, 11, 2), seed=11)
    assert ingest_bronze(spark, local).files_ingested > 0

    client = s3_lake.server.client()
    for path in sorted(local_root.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), s3_lake.server.bucket,
                               f"{s3_lake.prefix}/{path.relative_to(local_root).as_posix()}")
    moved = Settings.from_env(s3_lake.env())

    landed = landing_uris(moved)
    assert landed and all(uri.startswith(f"s3a://{s3_lake.server.bucket}/") for uri in landed)
    assert new_landing_bytes(moved) == 0
    assert pending_work(moved).new_landing_files == 0

    body = gzip.compress(b'{"late": true}\n')
    client.put_object(Bucket=s3_lake.server.bucket, Body=body,
                      Key=f"{s3_lake.prefix}/landing/events/event_date=2026-11-02/event_hour=23/after-the-move.jsonl.gz")
    assert new_landing_bytes(moved) == len(body)
    assert pending_work(moved).new_landing_files == 1
