"""`eventlake collector [--host H] [--port P]`: serve the HTTP collector (contract §8)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

from eventlake.config import Settings
from eventlake.errors import UserError

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("eventlake.collector")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")


def _check_spool_dir(directory: str) -> None:
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the spool directory {path}: {error.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"the spool directory {path} is not writable")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from .app import CollectorApp
    from .http import raise_open_file_limit, server_config
    from .logs import use_json_logs

    use_json_logs(logging.DEBUG if getattr(args, "verbose", False) else logging.INFO)
    _check_spool_dir(settings.spool_dir)
    app = CollectorApp(settings)  # a missing credential configuration fails here, as one line
    raise_open_file_limit()  # idle connections are capped below it (eventlake.collector.http)
    config = server_config(app, settings, host=args.host, port=args.port, loop="uvloop",
                           backlog=2048, timeout_graceful_shutdown=15)
    server = _clean_exit_server(config)
    try:
        server.run()
    except OSError as error:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    if not server.started:
        raise UserError("the collector did not start (see the log above)")
    return 1 if app.unlanded_segments else 0


def _clean_exit_server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, except that SIGTERM/SIGINT end it with a clean exit (uvicorn itself
    re-raises the signal after its graceful shutdown, which would make the exit status 143)."""
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stop, sig)
            try:
                yield
            finally:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)

        def _stop(self, sig: int) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True
            log.info("stopping: no new connections, flushing the spool", extra={"signal": signal.Signals(sig).name})

    return Server(config)
