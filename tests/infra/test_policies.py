"""infra/policies: the collector writes landing/ only; jobs read landing and own the layers."""

from __future__ import annotations

import json

import pytest

from eventlake.lake import LANDING_EVENTS, Lake

from .conftest import INFRA

pytestmark = pytest.mark.unit

BUCKET_ARN = "arn:aws:s3:::EVENTLAKE_BUCKET"
WRITE_ACTIONS = {"s3:PutObject", "s3:DeleteObject", "s3:*"}


def policy(name: str) -> dict:
    document = json.loads((INFRA / "policies" / name).read_text())
    assert document["Version"] == "2012-10-17"
    return document


def allowed(document: dict) -> list[tuple[str, str]]:
    """(action, resource) pairs the policy allows."""
    pairs = []
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs += [(action, resource) for action in actions for resource in resources]
    return pairs


def lake_prefixes() -> set[str]:
    """The first path segment of everything the jobs write, as eventlake.lake names it."""
    lake = Lake("ROOT")
    tables = [
        lake.bronze_events, lake.silver_events, lake.silver_quarantine, lake.gold("any"),
        lake.watermarks, lake.run_log, lake.quality_results,
    ]
    paths = [t.path for t in tables] + [lake.quality_docs]
    return {path[len("ROOT/"):].split("/", 1)[0] for path in paths}


def test_the_collector_may_only_write_under_landing():
    pairs = allowed(policy("collector-landing.json"))
    assert pairs
    assert {resource for _, resource in pairs} == {f"{BUCKET_ARN}/landing/*"}
    assert {action for action, _ in pairs} == {
        "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"
    }


def test_the_jobs_read_landing_and_write_every_layer_but_landing():
    pairs = allowed(policy("jobs-lake.json"))
    landing = LANDING_EVENTS.split("/", 1)[0]
    on_landing = {action for action, resource in pairs if resource == f"{BUCKET_ARN}/{landing}/*"}
    assert on_landing == {"s3:GetObject"}
    writable = {
        resource[len(BUCKET_ARN) + 1:].split("/", 1)[0]
        for action, resource in pairs
        if action == "s3:PutObject"
    }
    assert lake_prefixes() <= writable
    assert landing not in writable


def test_readers_see_gold_only():
    pairs = allowed(policy("readers-gold.json"))
    objects = {resource for action, resource in pairs if action == "s3:GetObject"}
    assert objects == {f"{BUCKET_ARN}/gold/*"}
    assert not any(action in WRITE_ACTIONS for action, _ in pairs)


def test_the_aws_bucket_policy_denies_plain_http_and_fences_the_collector():
    statements = {s["Sid"]: s for s in policy("aws-bucket-policy.json")["Statement"]}
    insecure = statements["DenyPlainHttp"]
    assert insecure["Effect"] == "Deny"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    fence = statements["CollectorTouchesNothingButLanding"]
    assert fence["Effect"] == "Deny" and fence["NotResource"] == [f"{BUCKET_ARN}/landing/*"]
    assert all(s["Effect"] == "Deny" for s in statements.values())
