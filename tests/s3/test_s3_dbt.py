"""dbt on gold with the lake on S3: EVENTLAKE_LAKE_URI=s3a://bucket/prefix as for every
eventlake command, the server and keys in the AWS_* variables delta-rs reads itself (docs/dbt.md);
no storage option is written in the dbt project."""

from __future__ import annotations

import pytest
from dbt_cases import (
    ACTIVE, CONTENT, ENGAGEMENT_WEEKLY, KPIS, TOP_CONTENT_WEEKLY, dbt_executable, read_models, rounded, run_dbt,
    write_gold,
)

pytestmark = pytest.mark.s3


def test_dbt_build_reads_gold_from_s3(s3_lake, tmp_path):
    dbt = dbt_executable()
    lake = f"s3://{s3_lake.server.bucket}/{s3_lake.prefix}"
    write_gold(lake, {"daily_kpis": KPIS, "daily_active_users": ACTIVE, "content_engagement": CONTENT},
               storage_options=s3_lake.server.storage_options())
    env = s3_lake.env()
    env["AWS_ENDPOINT_URL"] = env["EVENTLAKE_S3_ENDPOINT"]
    env["AWS_ALLOW_HTTP"] = "true"
    assert env["EVENTLAKE_LAKE_URI"].startswith("s3a://")  # as eventlake spells it
    done = run_dbt(dbt, tmp_path, env=env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    models = read_models(dbt, tmp_path, "engagement_weekly", "top_content_weekly")
    assert rounded(models["engagement_weekly"]) == rounded(ENGAGEMENT_WEEKLY)
    assert rounded(models["top_content_weekly"]) == rounded(TOP_CONTENT_WEEKLY)
