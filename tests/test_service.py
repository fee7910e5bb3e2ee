"""The API as its own service (hdr/serving/service.py): ``uvicorn hdr.serving.service:app --workers 2``, over real HTTP."""

from __future__ import annotations

import io
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from PIL import Image

from synth.servers import free_port, serving
from tests.app_support import copy_models

TIMEOUT_S = 120
WORKERS = 2
REQUESTS = 8
BUSY_RETRIES = 5  # on a loaded machine a request may find both image slots busy for the whole wait


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    models = copy_models(root / "models")
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "hdr.serving.service:app", "--workers", str(WORKERS),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    env = dict(os.environ, HDR_MODELS_DIR=str(models))
    with serving(command, port, env=env, log=root / "uvicorn.log", health="/api/models") as (url, _):
        yield url, models


def test_several_workers_answer_predictions_as_one_server_does(service, mnist):
    service, _ = service
    buffer = io.BytesIO()
    Image.fromarray(255 - np.kron(mnist.x_test[0], np.ones((8, 8), np.uint8))).save(buffer, format="PNG")
    files = {"file": ("seven.png", buffer.getvalue())}

    def post(_: int) -> requests.Response:
        for _attempt in range(BUSY_RETRIES):  # as a client should: a 503 "busy" asks to retry after a moment
            answer = requests.post(f"{service}/api/predict", files=files, timeout=TIMEOUT_S)
            if answer.status_code != 503:
                break
            time.sleep(float(answer.headers["Retry-After"]))
        return answer

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
