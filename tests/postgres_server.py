"""A real PostgreSQL server on a loopback port for one test module, from the machine's
PostgreSQL binaries (Debian's postgresql package: /usr/lib/postgresql/<v>/bin)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reaper import reap_on_exit


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str
    password: str
    bin_dir: Path

    def jdbc_url(self, database: str) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> str:
        done = subprocess.run(
            [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", database, "-At", "-c", sql],
            env=dict(os.environ, PGPASSWORD=self.password), capture_output=True, text=True, check=True,
        )
        return done.stdout


def bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed (apt install postgresql): tests/e2e/test_metastore.py needs it")
    return Path(versions[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def postgres_server(*databases: str) -> Iterator[Postgres]:
    binaries = bin_dir()
    # PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    home = Path(tempfile.mkdtemp(prefix="eventlake-pg-"))
    home.chmod(0o755)
    password = "metastore-" + os.urandom(8).hex()
    (home / "pw").write_text(password + "\n")
    if as_user:
        shutil.chown(home, "postgres")
        shutil.chown(home / "pw", "postgres")
    data, port = home / "data", free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(binaries / "initdb"), "-D", str(data), "-U", "eventlake", "-A", "scram-sha-256",
        f"--pwfile={home / 'pw'}", "--no-sync")
    run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w", "-t", "120",
        "-o", f"-p {port} -h 127.0.0.1 -k {home} -F", "start")
    server = Postgres(port=port, user="eventlake", password=password, bin_dir=binaries)
    stop = [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]
    # pg_ctl's server is a daemon: without the watchdog it would outlive a SIGKILLed pytest.
    with reap_on_exit(stop, ["rm", "-rf", str(home)]):
        try:
            for database in databases:
                server.psql("postgres", f"CREATE DATABASE {database}")
            yield server
        finally:
            subprocess.run(stop, capture_output=True)
            shutil.rmtree(home, ignore_errors=True)
