"""The silver quality suite runs PHONE_PATTERN / EMAIL_PATTERN in Spark (Java regex) over the
properties JSON text; silver redacts with Python's `re`. Both must read them alike, or the
critical `no_phone_in_properties` check fails on data that was redacted (or misses some)."""

from __future__ import annotations

import random
import re

import orjson
import pytest
from pyspark.sql import functions as F

from eventlake.privacy import EMAIL_PATTERN, PHONE_PATTERN, contains_pii, redact_pii

from pii_cases import NOT_PHONES, PHONES, PII_PIECES

pytestmark = pytest.mark.unit
EMAILS = ["a.b@example.co.uk", "write to x+y@mail.example.org",
          # internationalised (RFC 6531): letters beyond ASCII in any part
          "josé@example.com", "zoë.müller@beispiel.de", "用户@例子.广告", "ольга@пример.рф"]


def test_java_and_python_read_the_patterns_alike(spark):
    texts = PHONES + NOT_PHONES + EMAILS
    # Each text alone, and as silver stores it: inside the properties JSON, after redaction.
    rows = [(text, orjson.dumps(redact_pii({"v": text, "n": 1234567})).decode()) for text in texts]
    found = spark.createDataFrame(rows, "text STRING, properties STRING").select(
        "text",
        F.col("text").rlike(PHONE_PATTERN).alias("phone"),
        F.col("text").rlike(EMAIL_PATTERN).alias("email"),
        (F.col("properties").rlike(PHONE_PATTERN) | F.col("properties").rlike(EMAIL_PATTERN)).alias("left"),
    ).collect()
    by_text = {row["text"]: row for row in found}
    for text in texts:
        assert (by_text[text]["phone"] or by_text[text]["email"]) == contains_pii(text), text
        assert by_text[text]["phone"] is (text in PHONES), text
        assert not by_text[text]["left"], text  # the quality check passes on what silver wrote


def test_java_finds_a_pattern_in_the_same_generated_texts_as_python(spark):
    # Texts glued from the pieces the patterns (and their guards) turn on, many holding a
    # match or nearly: one Spark job, Python on the driver.
    rng = random.Random(12)
    texts = sorted({"".join(rng.choices(PII_PIECES, k=rng.randint(1, 18))) for _ in range(8000)})
    found = spark.createDataFrame([(text,) for text in texts], "text STRING").select(
        "text", F.col("text").rlike(EMAIL_PATTERN).alias("email"), F.col("text").rlike(PHONE_PATTERN).alias("phone"),
    ).collect()
    assert len(found) == len(texts)
    assert sum(row["email"] for row in found) > 20 and sum(row["phone"] for row in found) > 20
    for row in found:
        assert row["email"] == bool(re.search(EMAIL_PATTERN, row["text"])), row["text"]
        assert row["phone"] == bool(re.search(PHONE_PATTERN, row["text"])), row["text"]
