"""A real S3-compatible server on loopback for the s3 tests: MinIO when built, else moto.

`EVENTLAKE_TEST_S3_SERVER=minio|moto` picks one; by default MinIO is used when its binary
is cached (`.ci/s3-server.sh` builds it into ~/.cache/eventlake/bin), moto's standalone
server otherwise. Either way it is a separate process speaking HTTP on 127.0.0.1 on a free
port, started once per test session and killed at the end. Nothing reaches the internet.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reaper import reap_on_exit, stop
from short_lived import SHORT_LIVED_JVM_ENV

SERVER_KINDS = ("minio", "moto")
BUCKET = "eventlake-test"
REGION = "us-east-1"
STARTUP_SECONDS = 60.0


def cached_minio_binary() -> Path | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    candidate = cache / "eventlake" / "bin" / "minio"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("minio")
    return Path(found) if found else None


def moto_server_binary() -> Path | None:
    beside_python = Path(sys.executable).parent / "moto_server"
    if beside_python.exists():
        return beside_python
    found = shutil.which("moto_server")
    return Path(found) if found else None


def chosen_server_kind() -> str:
    kind = os.environ.get("EVENTLAKE_TEST_S3_SERVER", "").strip().lower()
    if kind and kind not in SERVER_KINDS:
        raise pytest.UsageError(
            f"EVENTLAKE_TEST_S3_SERVER={kind!r}: expected one of {', '.join(SERVER_KINDS)}"
        )
    if kind:
        return kind
    return "minio" if cached_minio_binary() else "moto"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server and what a client needs to reach it."""

    kind: str
    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str
    bucket: str

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )

    def lake_uri(self, prefix: str) -> str:
        return f"s3a://{self.bucket}/{prefix}"

    def env(self, lake_uri: str) -> dict[str, str]:
        """The environment that points eventlake (CLI, jobs, collector) at this server."""
        return {
            "EVENTLAKE_LAKE_URI": lake_uri,
            "EVENTLAKE_S3_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    def storage_options(self) -> dict[str, str]:
        """For `deltalake` (delta-rs) reading the lake's tables straight from the server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
        }

    def keys(self, prefix: str) -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        )


def _server_command(kind: str, port: int, data_dir: Path) -> tuple[list[str], dict[str, str]]:
    if kind == "minio":
        binary = cached_minio_binary()
        if binary is None:
            raise RuntimeError(
                "EVENTLAKE_TEST_S3_SERVER=minio but no minio binary: run .ci/s3-server.sh "
                "(builds it into ~/.cache/eventlake/bin) or put minio on PATH"
            )
        command = [
            str(binary), "server", str(data_dir),
            "--address", f"127.0.0.1:{port}",
            "--console-address", f"127.0.0.1:{free_port()}",
            "--quiet",
        ]
        return command, {"MINIO_BROWSER": "off", "MINIO_UPDATE": "off"}
    binary = moto_server_binary()
    if binary is None:
        raise RuntimeError("moto_server not found: install the dev extra (moto[server])")
    return [str(binary), "-H", "127.0.0.1", "-p", str(port)], {}


def _wait_until_serving(server: S3Server, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    client = server.client()
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"{server.kind} exited with {process.returncode}:\n{log.read_text()[-2000:]}"
            )
        try:
            client.list_buckets()
            return
        except Exception as error:  # not listening yet, or still starting
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{server.kind} not serving on {server.endpoint} after "
                    f"{STARTUP_SECONDS:.0f}s ({error}):\n{log.read_text()[-2000:]}"
                ) from error
            time.sleep(0.2)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> S3Server:
    """Start the server, create the test bucket, yield how to reach it, kill it at the end."""
    kind = chosen_server_kind()
    workdir = tmp_path_factory.mktemp(f"s3-{kind}")
    # Fresh random credentials per run: MinIO enforces them, moto accepts any.
    access_key = "test" + secrets.token_hex(6)
    secret_key = secrets.token_hex(16)
    env = {
        **os.environ,
        "MINIO_ROOT_USER": access_key,
        "MINIO_ROOT_PASSWORD": secret_key,
    }
    last_error: Exception | None = None
    # A free port can be taken between probing and binding; try a few.
    for attempt in range(3):
        port = free_port()
        command, extra_env = _server_command(kind, port, workdir / "data")
        log = workdir / f"server-{attempt}.log"
        with log.open("wb") as log_handle:
            process = subprocess.Popen(
                command,
                env={**env, **extra_env},
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = S3Server(
            kind=kind,
            endpoint=f"http://127.0.0.1:{port}",
            access_key=access_key,
            secret_key=secret_key,
            region=REGION,
            bucket=BUCKET,
        )
        try:
            _wait_until_serving(server, process, log)
        except Exception as error:
            stop(process, timeout=15)
            last_error = error
            continue
        # Without the watchdog the server would outlive a SIGKILLed pytest.
        with reap_on_exit(["kill", "-TERM", str(process.pid)]):
            try:
                server.client().create_bucket(Bucket=BUCKET)
                yield server
            finally:
                stop(process, timeout=15)
        return
    raise RuntimeError(f"could not start the {kind} S3 server: {last_error}")


@dataclass(frozen=True)
class S3Lake:
    """A lake under a prefix of the shared bucket that belongs to one test alone."""

    server: S3Server
    prefix: str
    workdir: Path

    @property
    def uri(self) -> str:
        return self.server.lake_uri(self.prefix)

    def table_uri(self, relative: str) -> str:
        """A table's address for delta-rs (which speaks s3://)."""
        return f"s3://{self.server.bucket}/{self.prefix}/{relative}"

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment for an eventlake subprocess against this lake.

        Spark packages can only be chosen when a JVM starts, so everything touching s3a
        runs in its own process; the shared test session's JVM has no hadoop-aws.
        """
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("EVENTLAKE_", "AWS_", "PYSPARK_", "SPARK_"))
        }
        env.update(self.server.env(self.uri))
        env.update(
            {
                "EVENTLAKE_PSEUDONYM_SALT": "s3-test-salt",
                "EVENTLAKE_SPARK_MASTER": "local[2]",
                "EVENTLAKE_CATALOG_DIR": str(self.workdir / "catalog"),
                "EVENTLAKE_SPOOL_DIR": str(self.workdir / "spool"),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            }
        )
        if os.environ.get("EVENTLAKE_IVY_DIR"):
            env["EVENTLAKE_IVY_DIR"] = os.environ["EVENTLAKE_IVY_DIR"]
        env.update(SHORT_LIVED_JVM_ENV)
        env.update(extra)
        return env


@pytest.fixture
def s3_lake(s3_server: S3Server, tmp_path: Path, request) -> S3Lake:
    name = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:40].strip("-")
    return S3Lake(server=s3_server, prefix=f"{name}-{uuid.uuid4().hex[:8]}", workdir=tmp_path)
