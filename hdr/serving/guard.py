"""The server's gate: requests for a host we serve, WebSockets from our own pages, no framing.

An ASGI middleware for whatever serves the app (``app.py`` hands it to ``st.App``):

- A Host header outside the allowed hosts gets 400: with DNS rebinding, a page on another site
  reaches a server on loopback under its own name, and the Host header is what gives it away.
- A WebSocket whose Origin is not the page's own (the same host and port) or a configured origin
  is refused before it opens: the WebSocket is how the pages change state, and browsers send it
  from any page, with the user's cookies, to any port.
- Every HTTP answer says that only our own pages may frame it (``frame-ancestors 'self'``).
- A client that goes away in the middle of its request (an abandoned upload, or a connection
  closed for being too slow, see :mod:`hdr.serving.connections`) is logged as one line, not a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAME_HEADERS = {"Content-Security-Policy": "frame-ancestors 'self'", "X-Frame-Options": "SAMEORIGIN"}
_BAD_REQUEST, _FORBIDDEN = 400, 403
_LOG = logging.getLogger(__name__)


class RequestGuard:
    """ASGI middleware: allowed hosts, same-origin WebSockets and frame headers (see the module).

    Args:
        app: The ASGI app to guard.
        allowed_hosts: Returns the host names served (``"*"`` any, ``"*.example.com"`` subdomains);
            empty allows any. Called per request, so a changed setting counts at once.
        allowed_origins: Returns the origins, besides the page's own, whose WebSockets are accepted.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Callable[[], Sequence[str]] = lambda: (),
        allowed_origins: Callable[[], Sequence[str]] = lambda: (),
    ):
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed_hosts()):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                await PlainTextResponse(f"host not served: {host[:100]}", _BAD_REQUEST)(scope, receive, send)
            return
        if scope["type"] == "websocket":
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != host and origin not in self.allowed_origins():
                await send({"type": "websocket.close", "code": 1008})  # before accept: the handshake gets 403
                return
            await self.app(scope, receive, send)
            return

        async def framed(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in FRAME_HEADERS.items():
                    response_headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, framed)
        except ClientDisconnect:  # nobody is left to answer; a traceback per abandoned upload would flood the log
            _LOG.warning("%s %s: the client went away before its request was complete", scope["method"], scope["path"])


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """Whether a Host header (port ignored) names one of ``allowed``; an empty list allows any."""
    if not allowed:
        return True
    try:
        parts = urlsplit(f"//{host}")
        name, _ = parts.hostname, parts.port  # reading the port checks it is a number
    except ValueError:
        return False
    if not name:
        return False
    name = name.rstrip(".")
    for pattern in (p.strip().lower().rstrip(".") for p in allowed):
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False
