"""One writer per lake: a lease every writing job holds while it writes.

Why: Delta on S3 with `S3SingleDriverLogStore` is only safe for one driver at a time (two
drivers can both "create" the same `_delta_log` version and one commit is silently lost),
and even on local disk two pipelines running side by side read the same landing files and
bronze versions. The lease serialises every writer of the lake: bronze, silver, gold,
quality results, catalog registration, maintenance and erasure.

How: the lease lives in `_state/lease/` as numbered generation objects
(`gen-000000000042.json`). Taking the lease is *creating the next generation* with a
create-if-absent write, the one primitive both stores offer atomically: `os.link` of a
fully written temporary file on a local disk, `PutObject` with `If-None-Match: *` on S3
(AWS since 2024, MinIO, moto). Of two processes that try at the same moment exactly one
creates it. The holder renews (heartbeat) by rewriting its own generation with a later
`expires_at`; a generation whose holder released it or stopped renewing (killed) may be
superseded by creating the next one, so a dead holder blocks for at most one TTL. A holder
whose generation was superseded (it stalled for longer than the TTL) notices at its next
heartbeat and stops before its next commit (`ensure_held`).

The lease is re-entrant within one process (`eventlake pipeline` takes it once; the layers
it runs take it again for free). A second process waits up to `lease_wait_seconds`, then
fails with `LeaseHeld` (exit code 75, "try again later").
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eventlake.config import Settings
from eventlake.lake import bucket_and_prefix
from eventlake.errors import UserError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

LEASE_PREFIX = "_state/lease"
_GENERATION = re.compile(r"^gen-(\d{12})\.json$")
POLL_SECONDS = 2.0


class LeaseHeld(UserError):
    """Another process holds the lake's lease and did not release it within the wait."""

    exit_code = 75  # EX_TEMPFAIL: nothing is wrong, try again later (Airflow retries it)


class LeaseLost(UserError):
    """This process's lease was superseded (it stalled past its TTL): it must not commit."""

    exit_code = 75


# --- the stores: create-if-absent, overwrite, read, list -------------------------------


class ObjectStore(Protocol):
    def create(self, key: str, data: bytes) -> bool: ...  # False when the key exists
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def names(self, prefix: str) -> list[str]: ...  # names directly under prefix/
    def delete(self, key: str) -> None: ...


class LocalStore:
    """Files under a local lake root. Writes go through a temporary file in the same folder,
    so a reader never sees half a record; `os.link` refuses an existing name atomically."""

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def _temporary(self, path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return name

    def create(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        temporary = self._temporary(path, data)
        try:
            os.link(temporary, path)
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.replace(self._temporary(path, data), path)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def names(self, prefix: str) -> list[str]:
        folder = self._path(prefix)
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Objects under the lake's bucket/prefix through boto3 (S3, MinIO, moto)."""

    def __init__(self, settings: Settings, client: S3Client | None = None):
        from eventlake.landing import s3_client

        self.bucket, self.prefix = bucket_and_prefix(settings.lake_root)
        self.client = client or s3_client(settings)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def create(self, key: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # 412: the key exists; 409: another conditional write to it is in flight.
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
                return False
            raise

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def names(self, prefix: str) -> list[str]:
        base = self._key(prefix).rstrip("/") + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        return sorted(
            item["Key"][len(base):]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base, Delimiter="/")
            for item in page.get("Contents", [])
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


def store_for(settings: Settings) -> ObjectStore:
    return S3Store(settings) if settings.is_s3 else LocalStore(settings.lake_root)


# --- the lease --------------------------------------------------------------------------


@dataclass(frozen=True)
class LeaseRecord:
    owner: str  # unique per acquisition
    job: str
    host: str
    pid: int
    acquired_at: str  # ISO-8601 UTC
    expires_at: str
    released: bool = False

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LeaseRecord:
        return cls(**json.loads(data))

    def expired(self, now: datetime) -> bool:
        return self.released or datetime.fromisoformat(self.expires_at) <= now

    def describe(self) -> str:
        return (
            f"{self.job} (pid {self.pid} on {self.host}, since {self.acquired_at}, "
            f"lease expires {self.expires_at} unless renewed)"
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _key(generation: int) -> str:
    return f"{LEASE_PREFIX}/gen-{generation:012d}.json"


class Lease:
    """One acquisition of the lake's lease; use `lake_lease()` rather than this directly."""

    def __init__(self, store: ObjectStore, job: str, ttl: float):
        self.store, self.job, self.ttl = store, job, ttl
        self.owner = uuid.uuid4().hex
        self.generation: int | None = None
        self.record: LeaseRecord | None = None
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self, acquired_at: str | None = None, released: bool = False) -> LeaseRecord:
        now = _now()
        return LeaseRecord(
            owner=self.owner, job=self.job, host=socket.gethostname(), pid=os.getpid(),
            acquired_at=acquired_at or now.isoformat(),
            expires_at=(now if released else now + timedelta(seconds=self.ttl)).isoformat(),
            released=released,
        )

    def current(self) -> tuple[int, LeaseRecord | None]:
        """The newest generation and its record (0, None when the lake was never leased)."""
        generations = [int(m.group(1)) for n in self.store.names(LEASE_PREFIX) if (m := _GENERATION.match(n))]
        if not generations:
            return 0, None
        newest = max(generations)
        data = self.store.get(_key(newest))
        return newest, LeaseRecord.from_bytes(data) if data else None

    def try_acquire(self) -> LeaseRecord | None:
        """Take the lease if it is free; else return the holder's record."""
        generation, holder = self.current()
        if holder is not None and not holder.expired(_now()):
            return holder
        if holder is not None and not holder.released:
            log.warning("lease: %s stopped renewing; taking over", holder.describe())
        record = self._record()
        if not self.store.create(_key(generation + 1), record.to_bytes()):
            # Someone else created it first: report them as the holder.
            _, holder = self.current()
            return holder or record
        self.generation, self.record = generation + 1, record
        for old in range(max(1, generation - 10), generation):  # tidy, best effort
            try:
                self.store.delete(_key(old))
            except Exception:  # noqa: BLE001 - leftovers are harmless
                break
        self._thread = threading.Thread(target=self._heartbeat, name="eventlake-lease", daemon=True)
        self._thread.start()
        return None

    def _heartbeat(self) -> None:
        interval = max(self.ttl / 3.0, 0.05)
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - a blip; the next beat tries again
                log.warning("lease: renewal failed", exc_info=True)
            if self.lost:
                return

    def renew(self) -> None:
        assert self.generation is not None and self.record is not None
        if self.store.get(_key(self.generation + 1)) is not None:
            self.lost = True
            log.error("lease: superseded by generation %d; this process must stop writing", self.generation + 1)
            return
        self.record = self._record(acquired_at=self.record.acquired_at)
        self.store.put(_key(self.generation), self.record.to_bytes())
        if self.store.get(_key(self.generation + 1)) is not None:
            self.lost = True

    def ensure_held(self) -> None:
        if self.lost:
            raise LeaseLost(
                f"lost the lake's lease (generation {self.generation} was superseded after "
                f"this process stopped renewing it for {self.ttl:.0f}s); nothing more is committed"
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.generation is not None and self.record is not None and not self.lost:
            if self.store.get(_key(self.generation + 1)) is None:
                released = self._record(acquired_at=self.record.acquired_at, released=True)
                self.store.put(_key(self.generation), released.to_bytes())


@dataclass
class _Held:
    lease: Lease
    depth: int


_HELD: dict[str, _Held] = {}
_HELD_LOCK = threading.Lock()


def acquire(settings: Settings, job: str, *, store: ObjectStore | None = None) -> Lease:
    """Take the lake's lease, waiting up to `settings.lease_wait_seconds`; raise LeaseHeld."""
    lease = Lease(store or store_for(settings), job, settings.lease_ttl_seconds)
    deadline = time.monotonic() + settings.lease_wait_seconds
    announced = False
    while True:
        holder = lease.try_acquire()
        if holder is None:
            log.info("lease: %s holds the lake %s (generation %d)", job, settings.lake_root, lease.generation)
            return lease
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LeaseHeld(
                f"the lake {settings.lake_root} is being written by {holder.describe()}; "
                f"waited {settings.lease_wait_seconds:.0f}s. Try again later "
                f"(EVENTLAKE_LEASE_WAIT_SECONDS sets how long to wait)"
            )
        if not announced:
            log.warning("lease: waiting up to %.0fs for %s", remaining, holder.describe())
            announced = True
        time.sleep(min(POLL_SECONDS, remaining))


@contextmanager
def lake_lease(settings: Settings, job: str) -> Iterator[Lease]:
    """Hold the lake's lease for the block; re-entrant within one process."""
    key = settings.lake_root
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            held.depth += 1
    if held is not None:
        try:
            held.lease.ensure_held()
            yield held.lease
        finally:
            with _HELD_LOCK:
                held.depth -= 1
        return
    lease = acquire(settings, job)
    with _HELD_LOCK:
        _HELD[key] = _Held(lease, 1)
    try:
        yield lease
    finally:
        with _HELD_LOCK:
            _HELD.pop(key, None)
        lease.release()


def ensure_held(lake_root: str) -> None:
    """Before a commit: raise LeaseLost if this process's lease on the lake was superseded.

    A process that holds no lease (a library caller, a test) is not stopped.
    """
    with _HELD_LOCK:
        held = _HELD.get(lake_root)
    if held is not None:
        held.lease.ensure_held()
