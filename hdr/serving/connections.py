"""The server's connections: a cap on how many, and a time limit on every request head and body.

uvicorn (h11) times a connection out only once it has answered a request (its keep-alive
timeout, 5 s), has no limit on how long a request head or body may take to arrive, and no cap on
open connections (``limit_concurrency`` answers 503 but keeps every connection open). So a few
thousand silent connections, or a few clients sending a head or a body a byte at a time, hold
the server's open files for ever. uvicorn has no public option for what is needed here, and
Streamlit builds uvicorn's config itself, so this module is the one place that reaches into
uvicorn's HTTP/1.1 protocol (``H11Protocol``); ``tests/test_connections.py`` fails if a uvicorn
upgrade changes what it relies on. What it adds, per server process:

- A connection that sends nothing is closed after uvicorn's keep-alive timeout, as after a response.
- A request head must be complete :data:`HEADER_TIMEOUT_S` after the connection opened or the
  previous answer was sent.
- A request body gets :data:`BODY_GRACE_S`, plus a second per :data:`BODY_MIN_RATE` bytes
  received: a slow upload that keeps coming is fine, one that trickles is cut off. Time the server
  itself stops reading (the request waits for a free slot) is not counted.
- Past :func:`max_connections` open connections, the oldest ones with no request in progress
  (silent, or still sending a head) are closed to make room; a new connection is closed at once
  only when every other one is busy. A fresh request is thus answered however many idle
  connections pile up.
"""

from __future__ import annotations

import contextlib
import resource

import h11

MAX_CONNECTIONS = 1000  # open connections per server process (WebSockets included)
FILES_PER_CONNECTION = 2  # the cap leaves half the process's open-file limit to models, uploads and logs
HEADER_TIMEOUT_S = 30  # a request head must be complete this long after the connection became ready for it
BODY_GRACE_S = 20  # a request body's time before its rate counts...
BODY_MIN_RATE = 32 * 1024  # ... then one more second per this many bytes (256 kbit/s, below a slow phone upload)
SWEEP_S = 1.0  # how often the deadlines are checked: one timer per server, not one per connection
EVICT_TO = 0.9  # past the cap, idle connections are closed down to this fraction of it, so a burst costs one sort


def max_connections() -> int:
    """How many connections one server process keeps open: :data:`MAX_CONNECTIONS`, or fewer under a low file limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else min(MAX_CONNECTIONS, soft // FILES_PER_CONNECTION)


def limit_connections() -> bool:
    """Installs the cap and the timeouts (see the module) in uvicorn's HTTP/1.1 server, once per process.

    Returns:
        True when installed now, False when it already was.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    made, received, lost = H11Protocol.connection_made, H11Protocol.data_received, H11Protocol.connection_lost
    if getattr(made, "limits_connections", False):
        return False

    def connection_made(self: H11Protocol, transport) -> None:
        made(self, transport)
        self.hdr_received = 0  # bytes received on this connection, for the body's rate
        self.hdr_phase = (h11.IDLE, id(None))  # what the connection is doing, and since when
        self.hdr_since, self.hdr_since_bytes, self.hdr_paused_s = self.loop.time(), 0, 0.0
        # A silent connection is closed by uvicorn's own keep-alive timer, cancelled by the first byte.
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)
        _make_room(self)
        _start_sweeping(self)

    def data_received(self: H11Protocol, data: bytes) -> None:
        self.hdr_received += len(data)
        received(self, data)

    def connection_lost(self: H11Protocol, exc: Exception | None) -> None:
        _closing(self).discard(self)
        lost(self, exc)

    connection_made.limits_connections = True
    H11Protocol.connection_made, H11Protocol.data_received = connection_made, data_received
    H11Protocol.connection_lost = connection_lost
    return True


def _idle(protocol) -> bool:
    """No request in progress: silent, or still sending a head (never a WebSocket or a request being answered)."""
    return (
        getattr(protocol, "hdr_phase", None) is not None
        and protocol.conn.their_state is h11.IDLE
        and (protocol.cycle is None or protocol.cycle.response_complete)
    )


def _make_room(new) -> None:
    """Past the cap, closes the oldest idle connections; the new one itself if none is idle."""
    cap = max_connections()
    closing = _closing(new)
    if len(new.connections) - len(closing) <= cap:  # O(1): this runs for every new connection
        return
    live = [c for c in new.connections if c not in closing]
    idle = sorted((c for c in live if c is not new and _idle(c)), key=lambda c: c.hdr_since)
    for protocol in idle[: len(live) - int(cap * EVICT_TO)] if idle else [new]:
        _close(protocol)


def _closing(protocol) -> set:
    """The server's connections closed here that the loop has not yet reported lost (they count no more)."""
    state = protocol.server_state
    if not hasattr(state, "hdr_closing"):
        state.hdr_closing = set()
    return state.hdr_closing


def _start_sweeping(protocol) -> None:
    """Starts the server's deadline check, unless it already runs (one per server)."""
    state = protocol.server_state
    if not getattr(state, "hdr_sweeping", False):
        state.hdr_sweeping = True
        protocol.loop.call_later(SWEEP_S, _sweep, state, protocol.loop)


def _sweep(state, loop) -> None:
    """Closes every HTTP connection past its head or body deadline, then runs again in :data:`SWEEP_S`."""
    now = loop.time()
    for protocol in list(state.connections):
        if getattr(protocol, "hdr_phase", None) is not None and _overdue(protocol, now):
            _close(protocol)
    loop.call_later(SWEEP_S, _sweep, state, loop)


def _overdue(protocol, now: float) -> bool:
    """Whether a connection has taken too long over its request head or body."""
    their = protocol.conn.their_state
    phase = (their, id(protocol.cycle))
    if phase != protocol.hdr_phase:  # a new head or body started since the last sweep
        protocol.hdr_phase, protocol.hdr_since, protocol.hdr_since_bytes = phase, now, protocol.hdr_received
        protocol.hdr_paused_s = 0.0
        return False
    if their is h11.IDLE:
        return _idle(protocol) and now - protocol.hdr_since > HEADER_TIMEOUT_S
    if their is h11.SEND_BODY:
        if protocol.flow.read_paused:  # the server is not reading: not the client's time
            protocol.hdr_paused_s += SWEEP_S
        allowed = BODY_GRACE_S + (protocol.hdr_received - protocol.hdr_since_bytes) / BODY_MIN_RATE
        return now - protocol.hdr_since - protocol.hdr_paused_s > allowed
    return False  # the request is in, its answer is the app's business


def _close(protocol) -> None:
    """Closes a connection the way uvicorn's keep-alive timeout does."""
    transport = protocol.transport
    if transport.is_closing():
        return
    _closing(protocol).add(protocol)
    with contextlib.suppress(h11.LocalProtocolError):  # half-way through an answer: just close
        protocol.conn.send(h11.ConnectionClosed())
    transport.close()
