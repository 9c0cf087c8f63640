"""Serving the app with uvicorn inside a running event loop (``mingle dashboard`` and ``mingle demo``).

uvicorn normally owns the process: it installs its own SIGINT/SIGTERM handlers and
re-raises the signal when it stops. Embedded, the host program owns the signals (one stop
event for the whole demo), so :class:`EmbeddedServer` leaves them alone; :func:`serving`
binds the socket itself (port 0 = a free port) and reports the bound port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["EmbeddedServer", "serving"]


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the host program handles SIGINT/SIGTERM and sets should_exit


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.set_inheritable(True)
    return sock


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, host: str = "127.0.0.1", port: int = 8000) -> AsyncIterator[int]:
    """Serve ``app`` on ``host:port`` for the block's duration; yields the bound port.

    The app's lifespan (the MQTT consumer) runs inside; leaving the block stops uvicorn
    gracefully (open WebSockets are closed, at most 3 s) and then the lifespan.
    """
    sock = _bind(host, port)
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, ws="wsproto", timeout_graceful_shutdown=3
    )
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the dashboard did not start (see the log above)")
            await asyncio.sleep(0.02)
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
