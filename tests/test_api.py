"""The HTTP API, with real requests to a real ``streamlit run app.py`` (the one server serves pages and API).

The command line is the reference: for the same files, ``/api/predict`` and ``/api/read`` must
answer exactly what ``python -m hdr predict|read --json`` prints.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import select
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import requests
from PIL import Image

from hdr.cli.main import main
from hdr.serving.api import MAX_FILE_MB, MAX_FILES, MAX_REQUEST_MB, _predict_files, _read_files, api_routes
from synth.non_digits import LETTER_A, WIDE_CANVAS, draw_shape, pen_text
from tests.test_browser import server  # noqa: F401 - the fixture: streamlit run app.py on a free port

TIMEOUT_S = 120  # the first request loads TensorFlow and the model on busy cores


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pictures(mnist, tmp_path_factory):
    """Real digits as photos of paper, a two-digit number, and bad files, written to a folder."""
    folder = tmp_path_factory.mktemp("api")
    paper = lambda digit: 255 - np.kron(digit, np.ones((8, 8), np.uint8))  # noqa: E731 - dark ink on white
    seven, two = _png(paper(mnist.x_test[0])), _png(paper(mnist.x_test[1]))
    number = _png(paper(np.concatenate([mnist.x_test[4], mnist.x_test[1]], axis=1)))
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # 144 MP in a few KB
    files = {
        "seven.png": seven,
        "two.png": two,
        "number.png": number,
        "notes.txt": b"this is not an image",
        "empty.png": b"",
        "truncated.png": seven[: len(seven) // 2],
        "bomb.png": bomb.getvalue(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _post(url: str, folder: Path, names: list[str], route: str = "predict") -> requests.Response:
    files = [("file", (name, (folder / name).read_bytes())) for name in names]
    return requests.post(f"{url}/api/{route}", files=files, timeout=TIMEOUT_S)


def _cli_json(command: str, folder: Path, names: list[str], capsys) -> list[dict]:
    """What ``python -m hdr COMMAND --json`` prints for the files, with paths as the API names them."""
    capsys.readouterr()
    main([command, *[str(folder / n) for n in names], "--json"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [{**r, "path": Path(r["path"]).name} for r in records]


def test_one_image_answers_what_the_command_line_prints(server, pictures, capsys):  # noqa: F811
    response = _post(server, pictures, ["seven.png"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["path"] == "seven.png" and answer["digit"] == 7
    [expected] = _cli_json("predict", pictures, ["seven.png"], capsys)
    assert answer.keys() == expected.keys()
    assert answer["digit"] == expected["digit"]
    np.testing.assert_allclose(answer["probabilities"], expected["probabilities"], atol=1e-5)


def test_bad_files_get_one_line_errors_and_the_others_are_still_answered(server, pictures, capsys):  # noqa: F811
    names = ["seven.png", "notes.txt", "empty.png", "two.png", "truncated.png", "bomb.png"]
    response = _post(server, pictures, names)
    assert response.status_code == 422
    answers = response.json()
    assert [a["path"] for a in answers] == names  # in order
    assert [a.get("digit") for a in answers] == [7, None, None, 2, None, None]
    expected = _cli_json("predict", pictures, names, capsys)
    for answer, cli in zip(answers, expected, strict=True):
        assert ("error" in answer) == ("error" in cli)
        if "error" in answer:
            assert answer["error"] == cli["error"] and "\n" not in answer["error"] and "<bytes>" not in answer["error"]
    assert "not an image" in answers[1]["error"] and "empty" in answers[2]["error"]
    assert requests.get(f"{server}/api/health", timeout=TIMEOUT_S).status_code == 200  # still serving


def test_a_text_file_alone_is_a_4xx_with_an_error_line(server, pictures):  # noqa: F811
    response = _post(server, pictures, ["notes.txt"])
    assert response.status_code == 422
    assert response.json() == {
        "path": "notes.txt",
        "error": "not an image in an accepted format (PNG, JPEG, WebP, BMP or HEIC)",
    }


@pytest.mark.parametrize("format_name", ["EPS", "GIF", "TIFF"])
def test_a_format_the_readme_does_not_name_is_refused_as_the_command_line_refuses_it(
    server,  # noqa: F811
    tmp_path,
    capsys,
    format_name,
):
    Image.new("RGB", (64, 64), "white").save(tmp_path / "page.png", format=format_name)  # named as a PNG
    response = _post(server, tmp_path, ["page.png"])
    assert response.status_code == 422
    expected = "not an image in an accepted format (PNG, JPEG, WebP, BMP or HEIC)"
    assert (
        response.json()
        == {"path": "page.png", "error": expected}
        == _cli_json("predict", tmp_path, ["page.png"], capsys)[0]
    )


def test_read_answers_the_number_as_the_command_line_does(server, pictures, capsys):  # noqa: F811
    response = _post(server, pictures, ["number.png", "notes.txt"], route="read")
    assert response.status_code == 422
    number, junk = response.json()
    [expected, _] = _cli_json("read", pictures, ["number.png", "notes.txt"], capsys)
    assert number == expected and number["text"] == "42"
    assert junk["path"] == "notes.txt" and "not an image" in junk["error"]


@pytest.mark.parametrize(
    ("method", "route", "kwargs", "status", "message"),
    [
        ("GET", "predict", {}, 405, "method GET not allowed: use POST"),
        ("POST", "models", {}, 405, "method POST not allowed: use GET"),
        ("POST", "predict", {}, 400, "send images as multipart/form-data"),
        ("POST", "read", {"data": b"x", "headers": {"content-type": "image/png"}}, 400, "multipart/form-data"),
        ("POST", "predict", {"files": {"note": (None, "just text")}}, 400, "no file"),
        ("POST", "predict", {"files": [("f", ("a.png", b"x"))] * (MAX_FILES + 1)}, 413, "too many files"),
    ],
)
def test_requests_wrong_as_a_whole_get_a_4xx_with_one_error_line(server, method, route, kwargs, status, message):  # noqa: F811
    response = requests.request(method, f"{server}/api/{route}", timeout=TIMEOUT_S, **kwargs)
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["error"] and message in body["error"] and "\n" not in body["error"]


def test_a_file_over_the_size_limit_is_refused_and_the_others_answered(server, pictures):  # noqa: F811
    big = b"\0" * ((MAX_FILE_MB + 1) * 1024 * 1024)
    files = [("file", ("big.png", big)), ("file", ("seven.png", (pictures / "seven.png").read_bytes()))]
    response = requests.post(f"{server}/api/predict", files=files, timeout=TIMEOUT_S)
    assert response.status_code == 422
    big_answer, seven = response.json()
    assert big_answer["error"].startswith("file too large") and seven["digit"] == 7


def _read_response(conn: socket.socket) -> str:
    """One whole HTTP response: the headers and the body may arrive in separate packets."""
    data = b""
    while True:
        head, separator, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE) if separator else None
        if length and len(body) >= int(length.group(1)):
            return data.decode()
        chunk = conn.recv(65536)
        if not chunk:  # the server closed the connection: that is all
            return data.decode()
        data += chunk


def test_a_request_over_the_limit_is_refused_before_its_body_is_read(server):  # noqa: F811
    host, port = urlparse(server).hostname, urlparse(server).port
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
        conn.sendall(
            b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            + f"Content-Length: {(MAX_REQUEST_MB + 1) * 1024 * 1024}\r\n\r\n".encode()
        )
        reply = _read_response(conn)
    assert reply.startswith("HTTP/1.1 413")
    assert '{"error":"request too large' in reply


def test_models_and_health(server):  # noqa: F811
    models = requests.get(f"{server}/api/models", timeout=TIMEOUT_S)
    assert models.status_code == 200
    by_name = {m["name"]: m for m in models.json()}
    default = json.loads((Path(__file__).resolve().parent.parent / "models" / "default.json").read_text())
    assert by_name["default"] == {"name": "default", "accuracy": default["metrics"]["test_accuracy"], "active": True}
    assert requests.get(f"{server}/api/health", timeout=TIMEOUT_S).json() == {"status": "ok", "model": "default"}
    page = requests.get(server, timeout=TIMEOUT_S)  # the same server still serves the app
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_the_openapi_spec_names_every_route_with_its_method_and_nothing_else(server):  # noqa: F811
    spec = requests.get(f"{server}/api/openapi.json", timeout=TIMEOUT_S)
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, methods in spec.json()["paths"].items() for method in methods}
    routes = [route.path for route in api_routes(predictor=lambda: None, models_dir=Path)]
    served = set()
    for path in routes:  # each route names its one method in the Allow header of a 405
        reply = requests.request("PATCH", f"{server}{path}", timeout=TIMEOUT_S)
        assert reply.status_code == 405, path
        served |= {(path, m) for m in reply.headers["Allow"].split(", ") if m != "HEAD"}
    assert documented == served and len(served) == len(routes)


def test_api_docs_is_a_readable_page_that_needs_no_internet(server):  # noqa: F811
    page = requests.get(f"{server}/api/docs", timeout=TIMEOUT_S)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text.lower()  # nothing to fetch from a CDN, nothing to run
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # no outside stylesheet or link
    for path in requests.get(f"{server}/api/openapi.json", timeout=TIMEOUT_S).json()["paths"]:
        assert f">{path}</h2>" in page.text, path
    assert "curl -F file=@seven.png" in page.text


def test_all_readable_files_of_a_request_go_through_one_forward_pass(shipped, pictures, monkeypatch):
    calls = []
    forward = shipped.predict_preprocessed
    monkeypatch.setattr(shipped, "predict_preprocessed", lambda items: calls.append(len(items)) or forward(items))
    files = [(n, (pictures / n).read_bytes()) for n in ["seven.png", "notes.txt", "two.png", "seven.png"]]
    records = _predict_files(files, shipped)
    assert calls == [3]
    assert [r.get("digit") for r in records] == [7, None, 2, 7]


def test_a_letter_gets_digit_null_with_a_reason_and_a_word_no_number(shipped):
    rng = np.random.default_rng(0)
    letter = _png(draw_shape(LETTER_A))
    word = _png(pen_text("Hello", "test", rng, size=WIDE_CANVAS, pen=(12, 12)))
    [answer] = _predict_files([("a.png", letter)], shipped)
    assert answer["digit"] is None and answer["reason"].startswith("No digit here: ")
    [reading] = _read_files([("hello.png", word)], shipped)
    assert reading["text"] == "" and reading["reason"].startswith("No number here: ")


IDLE_GROWTH_LIMIT_MB = 1536  # the bound: peak within 1.5 GB of the idle server
LARGE_WEBP_SIDE = 7000  # 49 megapixels in ~130 KB: under the old 50-megapixel cap, decoded whole
PARALLEL_REQUESTS = 6


def _server_pid(url: str) -> int:
    """The pid of the ``streamlit run`` serving ``url`` (found by its port on the command line)."""
    port = str(urlparse(url).port)
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(args) and port.encode() in args:
            return int(proc.name)
    pytest.fail(f"no streamlit process serving port {port}")


def _memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024


def test_parallel_requests_of_large_webps_keep_the_server_memory_bounded(server, pictures, tmp_path):  # noqa: F811
    from concurrent.futures import ThreadPoolExecutor

    picture = Image.new("L", (LARGE_WEBP_SIDE, LARGE_WEBP_SIDE), 255)
    picture.paste(0, (3400, 1400, 3600, 5600))
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=10, method=0)
    del picture
    webp = buffer.getvalue()
    assert _post(server, pictures, ["seven.png"]).status_code == 200  # the model is loaded: this is idle
    pid = _server_pid(server)
    idle = _memory_mb(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current size

    def post_two(_: int) -> requests.Response:
        files = [("file", (f"large{i}.webp", webp)) for i in range(2)]
        return requests.post(f"{server}/api/predict", files=files, timeout=TIMEOUT_S)

    with ThreadPoolExecutor(PARALLEL_REQUESTS) as pool:
        responses = list(pool.map(post_two, range(PARALLEL_REQUESTS)))
    peak = _memory_mb(pid, "VmHWM")
    assert peak - idle < IDLE_GROWTH_LIMIT_MB, f"peak {peak:.0f} MB, idle {idle:.0f} MB"
    for response in responses:
        assert response.headers["content-type"] == "application/json"
        assert response.status_code in (422, 503), response.text
        body = response.json()
        if response.status_code == 422:
            assert all("too large" in record["error"] for record in body)


def test_a_chunked_body_with_a_small_content_length_is_refused_before_it_is_read(server):  # noqa: F811
    host, port = urlparse(server).hostname, urlparse(server).port
    chunk = b"\0" * (1024 * 1024)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'  # one endless file
    sent = 0
    with socket.create_connection((host, port), timeout=TIMEOUT_S) as conn:
        conn.sendall(
            b"POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n" + f"{len(part):x}\r\n".encode() + part + b"\r\n"
        )
        try:
            for _ in range(150):  # 150 MB at most, bounded
                conn.sendall(framed)
                sent += len(chunk)
                readable, _, _ = select.select([conn], [], [], 0)
                if readable:
                    break
            else:
                conn.sendall(b"0\r\n\r\n")  # all of it sent: end the body, so the answer comes now
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        reply = _read_response(conn)
    assert reply.startswith("HTTP/1.1 4"), reply[:200]
    assert sent < (MAX_REQUEST_MB + 1) * 1024 * 1024
    assert '{"error":"' in reply


def test_a_body_longer_than_its_content_length_is_cut_off_at_the_limit():
    """Whatever the header says, the body is counted as it streams (as a proxy may re-frame it)."""
    routes = api_routes(predictor=lambda: pytest.fail("nothing is classified"), models_dir=Path)
    [predict] = [route for route in routes if route.path == "/api/predict"]
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'
    received, sent = [], []

    async def receive() -> dict:
        received.append(1)
        body = part if len(received) == 1 else b"\0" * (1024 * 1024)
        return {"type": "http.request", "body": body, "more_body": len(received) < 2 * MAX_REQUEST_MB}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"content-type", b"multipart/form-data; boundary=b"), (b"content-length", b"10")]
    scope = {"type": "http", "method": "POST", "path": "/api/predict", "headers": headers, "query_string": b""}
    asyncio.run(predict.handle(scope, receive, send))
    assert sent[0]["status"] == 413 and b"request too large" in sent[1]["body"]
    assert len(received) <= MAX_REQUEST_MB + 2  # stopped at the limit, not at the end of the body
