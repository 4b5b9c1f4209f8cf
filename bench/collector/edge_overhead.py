"""The HTTP edge's own cost per request, in isolation: a protocol instance fed 20,000 requests
in-process (no sockets, a trivial app), uvicorn's HttpToolsProtocol against the guarded one.

    .venv/bin/python bench/collector/edge_overhead.py
"""
import asyncio
import time

import uvloop
from uvicorn.config import Config
from uvicorn.server import ServerState
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from eventlake.collector.http import guarded_protocol, HttpLimits

async def app(scope, receive, send):
    await receive()  # the request body is read and dropped
    await send({"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})

class T(asyncio.Transport):
    def __init__(self):
        super().__init__(); self.closing = False
    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)
    def write(self, data): pass
    def is_closing(self): return self.closing
    def close(self): self.closing = True
    def pause_reading(self): pass
    def resume_reading(self): pass
    def can_write_eof(self): return True
    def write_eof(self): pass
    def set_protocol(self, p): pass

REQ = (b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
       b"Authorization: Bearer " + b"x" * 180 + b"\r\nUser-Agent: eventlake-bench/1\r\nContent-Length: 300\r\n\r\n" + b"{" + b" " * 298 + b"}")

async def run(cls, n):
    config = Config(app, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    proto = cls(config=config, server_state=state, app_state={})
    proto.connection_made(T())
    t0 = time.process_time()
    for _ in range(n):
        proto.data_received(REQ)
        while state.tasks:
            await asyncio.sleep(0)
    return (time.process_time() - t0) / n * 1e6

async def main():
    limits = HttpLimits(5, 10, 30, 16384, 100, 1000)
    guarded = guarded_protocol(limits)
    for _ in range(6):
        a = await run(HttpToolsProtocol, 20000)
        b = await run(guarded, 20000)
        print(f"httptools {a:.1f} us/request, guarded {b:.1f} us/request, overhead {b - a:.1f} us")

uvloop.run(main())
