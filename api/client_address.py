"""The client's address (and scheme) as the app sees it: from the socket, or from X-Forwarded-For and
X-Forwarded-Proto only when the request comes through a trusted proxy (`FORWARDED_ALLOW_IPS`).

The resident limits count per client address: trusting every forwarded header would let anyone pick the
address they are counted under, and trusting none behind a load balancer would count everyone as the
balancer. uvicorn's own middleware does the work (it takes the right-most untrusted hop, so a client
cannot prepend a made-up address); the app installs it itself, so the rule holds however it is served
(run uvicorn with `--no-proxy-headers`, as the Dockerfile and `make run` do, so it is applied once).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.settings import Settings


def trust_proxies(app: FastAPI, settings: Settings) -> None:
    # An empty setting trusts no one: every address comes from the socket.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
