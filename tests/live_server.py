"""An ASGI app served by uvicorn on a loopback port, in the test's own event loop (so it shares the test's
pool and Temporal client): for tests that need real HTTP connections (a browser, the access log, concurrent
requests, an identity provider the app calls)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from devstack.servers import free_port

# How long uvicorn may take to listen before the test fails (it takes milliseconds when all is well).
START_SECONDS = 5.0


def loopback(app: Any, *, port: int | None = None, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn's settings for `app` on 127.0.0.1 (a free port unless one is given). Building them configures
    uvicorn's loggers, so a test that captures its log attaches the capture after."""
    return uvicorn.Config(app, host="127.0.0.1", port=port or free_port(), log_level=log_level)


@asynccontextmanager
async def live_server(config: uvicorn.Config) -> AsyncIterator[str]:
    """Serves `config` until the block ends; yields the base URL once uvicorn listens."""
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_SECONDS
        while not (server.started or serving.done()) and loop.time() < deadline:
            await asyncio.sleep(0.025)
        assert server.started, "uvicorn did not start"
        yield f"http://{config.host}:{config.port}"
    finally:
        server.should_exit = True
        await serving
