"""The API as its own service (hdr/serving/service.py): ``uvicorn hdr.serving.service:app --workers 2``, over real HTTP."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from tests.app_support import copy_models
from tests.test_browser import _free_port

REPO = Path(__file__).resolve().parent.parent
START_S = 120  # two workers import TensorFlow on busy cores
TIMEOUT_S = 120
WORKERS = 2
REQUESTS = 8


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    models = copy_models(root / "models")
    env = dict(os.environ, HDR_MODELS_DIR=str(models))
    port = _free_port()
    log = open(root / "uvicorn.log", "w")  # noqa: SIM115 - closed after the server stops
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "hdr.serving.service:app", "--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_S
    while True:
        try:
            if requests.get(f"{url}/api/models", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"uvicorn did not start: {(root / 'uvicorn.log').read_text()[-2000:]}")
        time.sleep(0.5)
    yield url, models
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def test_several_workers_answer_predictions_as_one_server_does(service, mnist):
    service, _ = service
    buffer = io.BytesIO()
    Image.fromarray(255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))).save(buffer, format="PNG")
    files = {"file": ("seven.png", buffer.getvalue())}

    def post(_: int) -> requests.Response:
        return requests.post(f"{service}/api/predict", files=files, timeout=TIMEOUT_S)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(REQUESTS)))
    assert [a.status_code for a in answers] == [200] * REQUESTS
    assert {a.json()["digit"] for a in answers} == {7}
    assert requests.get(f"{service}/api/health", timeout=TIMEOUT_S).json() == {"status": "ok", "model": "default"}
    assert (
        requests.get(f"{service}/api/health", headers={"Host": "rebound.example"}, timeout=TIMEOUT_S).status_code == 400
    )


def test_health_is_503_once_the_active_model_no_longer_loads(service):  # runs last: it damages the model
    url, models = service
    model = models / "default.keras"
    model.write_bytes(model.read_bytes()[:1000])  # truncated, as a full disk or a killed copy leaves it
    for _ in range(WORKERS * 2):  # whichever worker answers
        answer = requests.get(f"{url}/api/health", timeout=TIMEOUT_S)
        assert answer.status_code == 503 and answer.json()["error"].startswith("model unavailable")
