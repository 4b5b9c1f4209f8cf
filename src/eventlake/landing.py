"""Landing files and the sinks that write them (contract §3).

A sink puts one immutable object at a path relative to the lake root, atomically: a reader
(the bronze job) sees the whole file or nothing. The collector and the generator write
through this interface only, so neither knows whether bytes end up on disk or in S3.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eventlake.config import Settings
from eventlake.lake import LANDING_EVENTS, Lake, bucket_and_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LANDING_SUFFIXES = (".jsonl.gz", ".jsonl")


def is_landing_file(name: str) -> bool:
    """Whether a file name is a landed file: a landing suffix, and not hidden (writers'
    temporary files start with "." or "_")."""
    return not name.startswith((".", "_")) and name.endswith(LANDING_SUFFIXES)


_LANDING_DATE = re.compile(r"/event_date=(\d{4}-\d{2}-\d{2})/")
UNDATED = "undated"


def landing_date(uri: str) -> str:
    """The ledger's partition of a file: the `event_date=` of its landing path."""
    match = _LANDING_DATE.search(uri)
    return match.group(1) if match else UNDATED


# Greedy: the text after the last `/landing/events/`, so a lake root that itself holds
# those words (`/data/landing/events/lake`) still yields the file's own place.
_IN_LANDING = re.compile(".*/" + re.escape(LANDING_EVENTS) + "/(.+)", re.DOTALL)


def path_in_landing(uri: str) -> str:
    """A landing file's place in the landing zone (`event_date=…/event_hour=…/<name>`): its
    URI without the lake's root. The ledger matches files by it rather than by the whole
    URI, so a lake copied or moved to another folder or bucket (or from disk to S3) still
    knows every file it ingested. A URI outside any landing zone is its own place."""
    match = _IN_LANDING.fullmatch(uri)
    return match.group(1) if match else uri


def held_by_ledger(listed: Iterable[str], recorded: Iterable[str]) -> set[str]:
    """The `listed` landing URIs the ledger's `recorded` URIs hold: the same place in the
    landing zone, whatever root the lake had when each was recorded."""
    places = {path_in_landing(uri) for uri in recorded}
    return {uri for uri in listed if path_in_landing(uri) in places}


def ledgered(settings: Settings, ledger_path: str, uris: list[str]) -> set[str]:
    """The listed URIs the ingestion ledger holds, read with delta-rs (no Spark), only
    from the partitions of their landing dates: bronze's exactly-once lookup and the idle
    check (`eventlake.pending`) ask the same question in the same way."""
    import pyarrow.compute as pc

    from eventlake.lake import open_delta

    table = open_delta(settings, ledger_path)
    if table is None or not uris:
        return set()
    dates = sorted({landing_date(uri) for uri in uris})
    held = table.to_pyarrow_dataset().to_table(
        columns=["file_uri"], filter=pc.field("landing_date").isin(dates)
    )
    return held_by_ledger(uris, held.column("file_uri").to_pylist())


def ledger_newest_bronze_version(settings: Settings, ledger_path: str) -> int | None:
    """The highest bronze version the ingestion ledger records (None: no ledger, or no
    row), from the column statistics of its log's file list: metadata only, where an
    aggregate over the ledger would read every row of a table that grows with the lake.
    The ledger is only ever appended to (a MERGE that inserts), so its files' maxima are
    its rows' maximum. Raises ValueError when a file has rows but no statistic."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from eventlake.lake import open_delta

    table = open_delta(settings, ledger_path)
    if table is None:
        return None
    files = pa.table(table.get_add_actions(flatten=True))
    if files.num_rows == 0:
        return None
    with_rows = pc.fill_null(pc.greater(files["num_records"], 0), True)
    maxima = files["max.bronze_version"].filter(with_rows) if "max.bronze_version" in files.column_names else None
    if maxima is None or maxima.null_count:
        raise ValueError("a ledger file has no bronze_version statistic")
    newest = pc.max(maxima).as_py()
    return None if newest is None else int(newest)


@dataclass(frozen=True)
class ListedFile:
    """A landed file as its store lists it: its absolute path (`/…` on disk, `/<key>` in a
    bucket), its size, and when it was written (UTC, whole milliseconds: what Hadoop, and
    so Spark, report)."""

    path: str
    size: int
    modified_at: datetime


def list_landed(settings: Settings) -> tuple[str, list[ListedFile]]:
    """Every landed file of the lake (`is_landing_file` names only) and the base its paths
    hang from (`file:` or `s3a://<bucket>`). The one listing of the landing zone: bronze
    ingests what it returns, and the idle check (`eventlake.pending`) counts it, so the two
    can never disagree on which files exist. Python and boto3 only, no Spark."""
    landing_root = Lake.from_settings(settings).landing_events
    if settings.is_s3:
        bucket, prefix = bucket_and_prefix(landing_root)
        return f"s3a://{bucket}", list(_list_bucket(settings, bucket, prefix + "/"))
    return "file:", list(walk_landing(landing_root))


def walk_landing(root: str) -> Iterator[ListedFile]:
    """The landed files under a local folder. Symlinked folders are followed (a landing
    zone may be assembled from mounts); a symlink loop is walked once."""
    seen: set[tuple[int, int]] = set()  # folders walked
    for folder, folders, names in os.walk(root, followlinks=True):
        here = os.stat(folder)
        if (here.st_dev, here.st_ino) in seen:
            folders.clear()
            continue
        seen.add((here.st_dev, here.st_ino))
        for name in names:
            if not is_landing_file(name):
                continue
            path = os.path.join(folder, name)
            try:
                status = os.stat(path)
            except FileNotFoundError:  # removed while listing (retention): not landed any more
                continue
            if stat.S_ISREG(status.st_mode):
                # Hadoop's local file system reports whole milliseconds, as Java's File does.
                modified_at = datetime.fromtimestamp(status.st_mtime_ns // 1_000_000 / 1000, timezone.utc)
                yield ListedFile(path, int(status.st_size), modified_at)


def _list_bucket(settings: Settings, bucket: str, prefix: str) -> Iterator[ListedFile]:
    pages = s3_client(settings).get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for item in page.get("Contents", []):
            key = item["Key"]
            if is_landing_file(key.rsplit("/", 1)[-1]):
                # S3 keeps milliseconds already.
                yield ListedFile("/" + key, int(item["Size"]), item["LastModified"].astimezone(timezone.utc))


def landing_key(event_hour: datetime, name: str) -> str:
    """`landing/events/event_date=YYYY-MM-DD/event_hour=HH/<name>` for an hour (UTC)."""
    hour = event_hour.astimezone(timezone.utc)
    return f"{LANDING_EVENTS}/event_date={hour:%Y-%m-%d}/event_hour={hour:%H}/{name}"


def landing_file_name(producer: str, first_event: datetime) -> str:
    """Unique, sortable, and safe to write twice under different names (never overwritten)."""
    return f"{producer}-{first_event.astimezone(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.jsonl.gz"


def encode_lines(lines: Iterable[bytes]) -> bytes:
    """gzip JSON lines, one per line, newline-terminated."""
    body = b"".join(line.rstrip(b"\n") + b"\n" for line in lines)
    return gzip.compress(body, compresslevel=6, mtime=0)


class LandingSink(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Write `data` at `key` (relative to the lake root) atomically and durably."""

    def describe(self) -> str: ...


class LocalSink:
    """A folder on local disk: write a hidden temporary file, fsync, rename into place."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def put(self, key: str, data: bytes) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def describe(self) -> str:
        return str(self.root)


class S3Sink:
    """An S3 bucket/prefix through boto3. A PUT is atomic; large bodies go multipart."""

    def __init__(self, settings: Settings, *, attempts: int = 5, client: S3Client | None = None):
        self.bucket, self.prefix = bucket_and_prefix(settings.lake_root)
        self.attempts = attempts
        self._client = client or s3_client(settings)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        import io

        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=16 * 1024 * 1024)
        delay = 0.2
        for attempt in range(1, self.attempts + 1):
            try:
                self._client.upload_fileobj(
                    io.BytesIO(data), self.bucket, self._key(key), Config=config
                )
                return
            except Exception:
                if attempt == self.attempts:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def s3_client(settings: Settings) -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        config=Config(
            retries={"max_attempts": 5, "mode": "adaptive"},
            s3={"addressing_style": "path" if settings.s3_endpoint else "auto"},
        ),
    )


def sink_for(settings: Settings) -> LandingSink:
    return S3Sink(settings) if settings.is_s3 else LocalSink(settings.lake_root)
