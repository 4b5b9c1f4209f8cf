"""Screenshots for docs/airflow.md: the Airflow grid after a backfill, and the Data Docs index.

    .venv/bin/python scripts/screenshots.py [--out docs/images] [--keep]

Builds everything it shows from nothing, in a temporary folder: generated traffic over
three days, one `eventlake pipeline` (the hourly run), then a real Airflow (`airflow
standalone`, SQLite, on a free loopback port, every user an admin) that runs a backfill of
`eventlake_pipeline` over 2026-11-01..2026-11-02. Then headless Chromium (Debian's
`chromium`, or $CHROMIUM) photographs the DAG's grid and the lake's Data Docs index.
Takes about five minutes on two cores.

GX's Data Docs pages load their styles and scripts from public CDNs. For the picture, a copy
of the index points at the same files taken from the npm registry (`npm pack`, cached in
~/.cache/eventlake/npm), so it renders as a reader with internet access sees it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "eventlake_pipeline"
BACKFILL = ("2026-11-01", "2026-11-02")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
    if done.returncode != 0:
        sys.exit(f"screenshots: `{' '.join(command)}` exited {done.returncode}; see {log}")


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("screenshots: no Chromium; install Debian's `chromium` or set CHROMIUM")
    return found


def screenshot(browser: str, url: str, out: Path, profile: Path, size: str = "1600,900") -> None:
    # The flags keep Chromium off the network it cannot reach (docs of the machine).
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={size}",
        "--virtual-time-budget=20000", f"--screenshot={out}", url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    if not out.is_file() or out.stat().st_size < 5000:
        sys.exit(f"screenshots: Chromium wrote no image of {url}")


# The web assets of GX's Data Docs pages: CDN URL -> (npm package@version, file in it).
DATA_DOCS_ASSETS = {
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": ("bootstrap@4.3.1", "dist/css/bootstrap.min.css"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": ("bootstrap@4.3.1", "dist/js/bootstrap.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": ("popper.js@1.12.9", "dist/umd/popper.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": ("@fortawesome/fontawesome-free@6.6.0", "css/all.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": ("bootstrap-datepicker@1.9.0", "dist/css/bootstrap-datepicker.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": ("bootstrap-datepicker@1.9.0", "dist/js/bootstrap-datepicker.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": ("bootstrap-table@1.19.1", "dist/bootstrap-table.min.css"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": ("bootstrap-table@1.19.1", "dist/bootstrap-table.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": ("bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js"),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": ("bootstrap-table@1.19.1", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css"),
}


def npm_package(spec: str) -> Path:
    """The unpacked npm package `name@version`, fetched once into the cache."""
    import tarfile

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "eventlake" / "npm"
    target = cache / spec.replace("/", "__")
    if not (target / "package").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(target)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            sys.exit(f"screenshots: npm pack {spec} failed: {done.stderr.strip()[:300]}")
        [archive] = target.glob("*.tgz")
        with tarfile.open(archive) as bundle:
            bundle.extractall(target, filter="data")
    return target / "package"


def offline_copy(index: Path, root: Path) -> Path:
    """A copy of the Data Docs index whose CDN links point at the npm packages' files."""
    html = index.read_text("utf-8")
    for url, (spec, file) in DATA_DOCS_ASSETS.items():
        html = html.replace(url, (npm_package(spec) / file).as_uri())
    copy = index.with_name("index-offline.html")
    copy.write_text(html, "utf-8")
    return copy


def backfill_states(database: Path) -> dict[str, str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        return dict(connection.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? AND run_type = 'backfill'", (DAG_ID,)
        ).fetchall())


def backfill_done(database: Path) -> bool:
    """The scheduler has marked the backfill complete (the UI's banner is gone)."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as connection:
        rows = connection.execute("SELECT completed_at FROM backfill").fetchall()
    return bool(rows) and all(completed is not None for (completed,) in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    browser = chromium()
    root = Path(tempfile.mkdtemp(prefix="eventlake-screenshots-"))
    log = root / "screenshots.log"
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "EVENTLAKE_"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",  # a throwaway, loopback-only Airflow
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{root / 'airflow' / 'airflow.db'}",
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW_CONN_SPARK_DEFAULT=json.dumps({"conn_type": "spark", "host": "local[2]"}),
        EVENTLAKE_LAKE_URI=str(root / "lakehouse"),
        EVENTLAKE_PSEUDONYM_SALT="screenshots-salt",
        EVENTLAKE_CATALOG_DIR=str(root / "catalog"),
        EVENTLAKE_PIPELINE_SCHEDULE="@daily",
        PYSPARK_PYTHON=sys.executable,
    )
    (root / "airflow").mkdir()
    print(f"screenshots: working in {root} (log: {log})")
    run([str(BIN / "eventlake"), "generate", "--events", "900", "--days", "3",
         "--start-date", "2026-11-01", "--seed", "11"], env, log)
    run([str(BIN / "eventlake"), "pipeline"], env, log)
    run([str(BIN / "airflow"), "db", "migrate"], env, log)
    run([str(BIN / "airflow"), "pools", "set", "eventlake_lake", "1", "eventlake: one writer of the lake at a time"], env, log)
    with (root / "standalone.log").open("wb") as out:
        standalone = subprocess.Popen([str(BIN / "airflow"), "standalone"], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
    try:
        # Once the DAG processor has stored the DAG (a backfill needs its serialised form),
        # unpause it (a paused DAG's backfill runs stay queued) and create the backfill.
        deadline = time.monotonic() + 300
        # (`dags unpause` of a DAG not stored yet exits 0 and does nothing: backfill first.)
        for command in (["backfill", "create", "--dag-id", DAG_ID, "--from-date", BACKFILL[0],
                         "--to-date", BACKFILL[1]],
                        ["dags", "unpause", DAG_ID]):
            while subprocess.run([str(BIN / "airflow"), *command], env=env, capture_output=True).returncode != 0:
                if time.monotonic() > deadline or standalone.poll() is not None:
                    sys.exit(f"screenshots: `airflow {' '.join(command)}` kept failing; see {root / 'standalone.log'}")
                time.sleep(3)
        deadline = time.monotonic() + 1800
        while True:
            states = backfill_states(root / "airflow" / "airflow.db")
            if len(states) == 2 and set(states.values()) <= {"success", "failed"} and backfill_done(
                root / "airflow" / "airflow.db"
            ):
                break
            if time.monotonic() > deadline:
                sys.exit(f"screenshots: the backfill did not finish: {states}")
            time.sleep(5)
        print(f"screenshots: backfill runs {states}")
        args.out.mkdir(parents=True, exist_ok=True)
        screenshot(browser, f"http://127.0.0.1:{port}/dags/{DAG_ID}", args.out / "airflow-grid-after-backfill.png",
                   root / "chromium")
    finally:
        os.killpg(standalone.pid, signal.SIGINT)
        try:
            standalone.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(standalone.pid, signal.SIGKILL)
            standalone.wait()
    docs_index = offline_copy(root / "lakehouse" / "_quality" / "docs" / "index.html", root)
    screenshot(browser, docs_index.as_uri(), args.out / "data-docs-index.png", root / "chromium", "1600,1000")
    print(f"screenshots: wrote {args.out / 'airflow-grid-after-backfill.png'} and {args.out / 'data-docs-index.png'}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
