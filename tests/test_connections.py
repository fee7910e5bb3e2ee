"""The server's connections (hdr/serving/connections.py) against a real ``streamlit run app.py``.

Idle, slow and abandoned connections, as a careless or hostile client makes them: the server
closes them in bounded time, keeps room for a fresh request, and logs a client that went away in
one line.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from urllib.parse import urlparse

import h11
import pytest
import requests

from hdr.serving.connections import BODY_GRACE_S, HEADER_TIMEOUT_S, limit_connections, max_connections
from synth.servers import free_port, seconds_until_closed, serving, streamlit_command
from tests.app_support import copy_models

TIMEOUT_S = 60
SLACK_S = 5  # the deadline check runs every second, on busy cores


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A fresh server and its log (the log is read by the disconnect test)."""
    root = tmp_path_factory.mktemp("connections")
    env = dict(os.environ, HDR_MODELS_DIR=str(copy_models(root / "models")), HDR_FEEDBACK_DIR=str(root / "feedback"))
    port = free_port()
    with serving(streamlit_command(port), port, env=env, log=root / "streamlit.log") as (url, _):
        assert requests.get(f"{url}/api/health", timeout=TIMEOUT_S).status_code == 200  # loads what health needs
        yield url, root / "streamlit.log"


def _address(url: str) -> tuple[str, int]:
    return urlparse(url).hostname, urlparse(url).port


def test_a_request_head_or_body_sent_byte_by_byte_is_cut_off(served):
    url, log = served
    host, port = _address(url)
    head = f"GET /api/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    upload = (
        f"POST /api/predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: 10000000\r\n"
        "Content-Type: multipart/form-data; boundary=xx\r\n\r\n"
        '--xx\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    ).encode()
    closed: dict[str, float | None] = {}

    def second_head() -> None:  # a first request answered, then the next head a byte at a time
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
            conn.sendall(head)
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            endless = head[: head.index(b"\r\n") + 2] + b"X-Slow: " + b"a" * 1000  # never ends in time
            closed["head"] = seconds_until_closed(conn, endless, HEADER_TIMEOUT_S + 3 * SLACK_S)

    def body() -> None:  # a whole head, then its body a byte at a time
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
            conn.sendall(upload)
            closed["body"] = seconds_until_closed(conn, b"0123456789", BODY_GRACE_S + 3 * SLACK_S)

    threads = [threading.Thread(target=second_head), threading.Thread(target=body)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert closed["head"] is not None and closed["head"] < HEADER_TIMEOUT_S + SLACK_S, closed
    assert closed["body"] is not None and closed["body"] < BODY_GRACE_S + SLACK_S, closed
    time.sleep(1)  # the app hears of the closed connection, then logs it
    text = log.read_text()
    assert "POST /api/predict: the client went away before its request was complete" in text
    assert "Traceback" not in text and "ClientDisconnect" not in text


EXTRA = 300  # connections opened past the cap
CAP_OPEN_S = 3.0  # opening them all must take less, or the keep-alive timeout (5 s) would close them too


def test_past_the_cap_idle_connections_make_room_for_a_fresh_request(served):
    url, _ = served
    host, port = _address(url)
    idle = []
    try:
        started = time.monotonic()
        idle.extend(socket.create_connection((host, port), timeout=TIMEOUT_S) for _ in range(max_connections() + EXTRA))
        assert time.monotonic() - started < CAP_OPEN_S, "too slow to open the connections: the test proves nothing"
        answered = time.monotonic()
        assert requests.get(f"{url}/api/health", timeout=TIMEOUT_S).status_code == 200
        assert time.monotonic() - answered < 1.0
        # Closed before any keep-alive timeout could have closed one: by the cap, oldest first.
        closed, waiting = [], selectors.DefaultSelector()
        for conn in idle:
            waiting.register(conn, selectors.EVENT_READ)
        while time.monotonic() < started + 4.5:
            for key, _ in waiting.select(timeout=0.2):
                if key.fileobj.recv(1) == b"":
                    waiting.unregister(key.fileobj)
                    closed.append(idle.index(key.fileobj))
        assert len(closed) >= EXTRA, f"only {len(closed)} of {len(idle)} closed"
        assert max(closed) < len(idle) - max_connections() // 2, "the newest connections were closed, not the oldest"
    finally:
        for conn in idle:
            conn.close()


IDLE_CONNECTIONS = 3000
IDLE_BATCH, IDLE_BATCH_PAUSE_S = 500, 0.5  # opened 500 at a time, the server accepts each batch before the next
ANSWER_S = 1.0  # a new request's answer, with the idle connections open
CLOSED_BY_S = 60  # when every idle connection must have been closed by the server


def test_thousands_of_idle_connections_neither_block_the_server_nor_stay_open(served):
    url, _ = served
    host, port = _address(url)
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS // IDLE_BATCH):  # as they pile up, not all in the same instant
            idle.extend(socket.create_connection((host, port), timeout=TIMEOUT_S) for _ in range(IDLE_BATCH))
            time.sleep(IDLE_BATCH_PAUSE_S)
        idle[-1].sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request head
        started = time.monotonic()
        answer = requests.get(f"{url}/api/health", timeout=TIMEOUT_S)
        assert answer.status_code == 200 and time.monotonic() - started < ANSWER_S
        deadline = time.monotonic() + CLOSED_BY_S
        still_open = selectors.DefaultSelector()  # epoll: select() stops at file descriptor 1024
        for conn in idle:
            still_open.register(conn, selectors.EVENT_READ)
        while still_open.get_map() and time.monotonic() < deadline:
            for key, _ in still_open.select(timeout=1.0):
                if key.fileobj.recv(1024) == b"":  # the server closed it
                    still_open.unregister(key.fileobj)
        left = len(still_open.get_map())
        assert not left, f"{left} of {IDLE_CONNECTIONS} idle connections still open after {CLOSED_BY_S} s"
    finally:
        for conn in idle:
            conn.close()


def test_what_the_limits_rely_on_in_uvicorn_is_still_there():
    """The names hdr/serving/connections.py reaches for in uvicorn's HTTP/1.1 protocol (see its docstring)."""
    from uvicorn.protocols.http.flow_control import FlowControl
    from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle

    limit_connections()
    assert getattr(H11Protocol.connection_made, "limits_connections", False)
    assert not limit_connections()  # once per process
    for name in ("timeout_keep_alive_handler", "data_received", "connection_lost"):
        assert callable(getattr(H11Protocol, name))
    assert "response_complete" in RequestResponseCycle.__init__.__code__.co_names
    assert "read_paused" in FlowControl.__init__.__code__.co_names
    assert h11.Connection(h11.SERVER).their_state is h11.IDLE  # a connection waiting for its first head
