"""The server's gate: requests for a host we serve, WebSockets from our own pages, no framing.

An ASGI middleware for whatever serves the app (``app.py`` hands it to ``st.App``):

- A Host header outside the allowed hosts gets 400: with DNS rebinding, a page on another site
  reaches a server on loopback under its own name, and the Host header is what gives it away.
- A WebSocket whose Origin is not the page's own (the same host and port) or a configured origin
  is refused before it opens: the WebSocket is how the pages change state, and browsers send it
  from any page, with the user's cookies, to any port.
- Every HTTP answer says that only our own pages may frame it (``frame-ancestors 'self'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAME_HEADERS = {"Content-Security-Policy": "frame-ancestors 'self'", "X-Frame-Options": "SAMEORIGIN"}
_BAD_REQUEST, _FORBIDDEN = 400, 403


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

        await self.app(scope, receive, framed)


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


HEADER_TIMEOUT_S = 30  # a connection's first request head must be complete this long after it opened


def close_idle_connections() -> bool:
    """Makes uvicorn's HTTP/1.1 server close connections that stay silent or never finish a request head.

    uvicorn (h11) times a connection out only once it has answered a request (its keep-alive
    timeout, 5 s): a connection that sends nothing, or half a request head, stays open for ever,
    and a few thousand of them use up the server's open files. uvicorn has no public option for
    it, and Streamlit builds uvicorn's config itself, so this is the one place that reaches into
    uvicorn: every new connection starts uvicorn's own keep-alive timer (cancelled by the first
    byte, as after a response), and gets :data:`HEADER_TIMEOUT_S` to complete its first request
    head. ``tests/test_guard.py`` fails if a uvicorn upgrade changes what this relies on.

    Returns:
        True when installed now, False when it already was.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    original = H11Protocol.connection_made
    if getattr(original, "closes_idle", False):
        return False

    def connection_made(self: H11Protocol, transport) -> None:
        original(self, transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        self.loop.call_later(HEADER_TIMEOUT_S, _close_without_request, self)

    connection_made.closes_idle = True
    H11Protocol.connection_made = connection_made
    return True


def _close_without_request(protocol) -> None:
    """Closes a connection that has not started a request yet (and is not a WebSocket by now)."""
    transport = protocol.transport
    if protocol.cycle is None and transport.get_protocol() is protocol and not transport.is_closing():
        transport.close()
