"""The server's gate (hdr/serving/guard.py) against a real ``streamlit run app.py``: hosts, origins, frames.

A page on another local port is what a user opens without thinking (another dev server, a
downloaded HTML file served locally): from there, nothing may reach the app's WebSocket (the
way the pages change state), and the app may not be framed.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
import requests
from playwright.sync_api import sync_playwright

from hdr.serving.guard import FRAME_HEADERS, host_allowed
from synth.browser import CHROMIUM_LAUNCH
from tests.test_browser import server  # noqa: F401 - the fixture: streamlit run app.py on a free port

TIMEOUT_S = 60
PAGE_MS = 60_000
_OPEN_WEBSOCKET = """url => new Promise(resolve => {
    const ws = new WebSocket(url, ["streamlit"]);
    ws.onopen = () => { ws.close(); resolve("open"); };
    ws.onerror = () => resolve("refused");
})"""


@pytest.fixture(scope="module")
def other_origin(server):  # noqa: F811
    """A page on another local port that frames the app: what a user might open in another tab."""
    html = f'<html><body><iframe id="app" src="{server}/" width="600" height="400"></iframe></body></html>'.encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server hook's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):  # quiet
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}"
    site.shutdown()
    site.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(**CHROMIUM_LAUNCH)
        yield chromium
        chromium.close()


def _stream_url(server: str) -> str:  # noqa: F811
    return server.replace("http://", "ws://") + "/_stcore/stream"


def test_a_page_on_another_local_port_cannot_open_the_apps_websocket(server, other_origin, browser):  # noqa: F811
    tab = browser.new_page()
    tab.goto(server, timeout=PAGE_MS)
    assert tab.evaluate(_OPEN_WEBSOCKET, _stream_url(server)) == "open"  # the app's own page can
    tab.goto(other_origin, timeout=PAGE_MS)
    assert tab.evaluate(_OPEN_WEBSOCKET, _stream_url(server)) == "refused"
    tab.close()


def test_another_origin_cannot_frame_the_app(server, other_origin, browser):  # noqa: F811
    tab = browser.new_page()
    tab.goto(other_origin, timeout=PAGE_MS)
    tab.wait_for_load_state("load")
    [frame] = [f for f in tab.frames if f != tab.main_frame]
    assert not frame.url.startswith(server), f"the app loaded inside {other_origin}"  # chrome-error:// instead
    tab.close()


def test_a_host_the_app_does_not_serve_is_refused_and_answers_forbid_framing(server):  # noqa: F811
    port = urlparse(server).port
    refused = requests.get(f"{server}/api/health", headers={"Host": f"rebound.example:{port}"}, timeout=TIMEOUT_S)
    assert refused.status_code == 400 and "host not served" in refused.text
    answer = requests.get(f"{server}/api/health", timeout=TIMEOUT_S)
    assert answer.status_code == 200
    for name, value in FRAME_HEADERS.items():
        assert answer.headers[name] == value


def test_a_websocket_handshake_from_another_origin_is_refused(server):  # noqa: F811
    host, port = urlparse(server).hostname, urlparse(server).port

    def handshake(origin: str) -> str:
        with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
            conn.sendall(
                f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
                "Sec-WebSocket-Protocol: streamlit\r\n\r\n".encode()
            )
            return conn.recv(200).split(b"\r\n")[0].decode()

    assert handshake(f"http://{host}:{port}") == "HTTP/1.1 101 Switching Protocols"
    assert handshake(f"http://localhost:{port + 1}") == "HTTP/1.1 403 Forbidden"
    assert handshake(f"http://{host}:{port + 1}") == "HTTP/1.1 403 Forbidden"


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("127.0.0.1:8501", ["localhost", "127.0.0.1"], True),
        ("LOCALHOST", ["localhost"], True),
        ("evil.example:8501", ["localhost", "127.0.0.1"], False),
        ("app.example.com", ["*.example.com"], True),
        ("example.com.evil", ["*.example.com"], False),
        ("anything", [], True),
        ("", ["localhost"], False),
        ("[::1]:8501", ["::1"], True),
        ("bad:port:x", ["bad"], False),
    ],
)
def test_host_allowed(host, allowed, expected):
    assert host_allowed(host, allowed) is expected


IDLE_CONNECTIONS = 3000
IDLE_BATCH, IDLE_BATCH_PAUSE_S = 500, 0.5  # opened 500 at a time, the server accepts each batch before the next
ANSWER_S = 1.0  # a new request's answer, with the idle connections open
CLOSED_BY_S = 60  # when every idle connection must have been closed by the server


def test_thousands_of_idle_connections_neither_block_the_server_nor_stay_open(server):  # noqa: F811
    host, port = urlparse(server).hostname, urlparse(server).port
    assert requests.get(f"{server}/api/health", timeout=TIMEOUT_S).status_code == 200  # loads what health needs
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS // IDLE_BATCH):  # as they pile up, not all in the same instant
            idle.extend(socket.create_connection((host, port), timeout=TIMEOUT_S) for _ in range(IDLE_BATCH))
            time.sleep(IDLE_BATCH_PAUSE_S)
        idle[-1].sendall(b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request head
        started = time.monotonic()
        answer = requests.get(f"{server}/api/health", timeout=TIMEOUT_S)
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
