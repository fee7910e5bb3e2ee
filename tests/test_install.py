"""The built wheel, installed in a fresh venv outside the checkout: the ``hdr`` command and ``import hdr``.

The venv sees the system's site-packages (TensorFlow is not installed twice) but gets the wheel
itself with ``--no-deps``, and everything runs from a folder outside the checkout with
``PYTHONPATH`` cleared, so only the installed package can answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from synth.canvas import draw_digit

pytestmark = pytest.mark.slow  # builds and installs a wheel: ~30 s, most of it TensorFlow starting

ROOT = Path(__file__).resolve().parent.parent
# What a build reads: pyproject.toml names the rest (dependencies, readme, the shipped model).
_BUILD_INPUTS = [
    "pyproject.toml",
    "requirements.txt",
    "README.md",
    "hdr",
    "models/default.keras",
    "models/default.json",
    "models/gate",
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline from a copy of the build's inputs (the checkout gets no build/ folder)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in _BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", out, source]
    subprocess.run(build, check=True, capture_output=True, cwd=out)
    [built] = out.glob("hdr-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict]:
    """A fresh venv with the wheel installed, and the environment to run it in (away from the checkout)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
    python = venv / "bin" / "python"
    install = [python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel]
    subprocess.run(install, check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDR_") and k != "PYTHONPATH"}
    env["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("data"))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return venv, env


def _run(installed, *command: str, cwd: Path) -> str:
    venv, env = installed
    env = {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_wheel_holds_the_library_and_the_shipped_model_only(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "hdr").rglob("*.py")}
    assert {n for n in names if n.endswith(".py")} == sources  # every module, and nothing else
    assert {"hdr/shipped/default.keras", "hdr/shipped/default.json"} <= names
    assert {"hdr/shipped/gate/gate.keras", "hdr/shipped/gate/gate.json"} <= names  # the digit gate beside it
    assert {n.split("/")[0] for n in names} == {"hdr", wheel.name.split("-py3")[0] + ".dist-info"}


def test_hdr_predict_and_the_library_work_from_the_installed_wheel(installed, tmp_path):
    seven = tmp_path / "seven.png"
    Image.fromarray(draw_digit(7, style="black_on_white")).save(seven)

    [line] = _run(installed, "hdr", "predict", "--json", str(seven), cwd=tmp_path).splitlines()
    assert json.loads(line)["digit"] == 7

    script = (
        "import json, hdr, hdr.settings\n"
        "p = hdr.Predictor.load().predict('seven.png')\n"
        "print(json.dumps({'digit': p.digit, 'hdr': hdr.__file__, 'models': str(hdr.settings.models_dir())}))\n"
    )
    found = json.loads(_run(installed, str(installed[0] / "bin" / "python"), "-c", script, cwd=tmp_path))
    assert found["digit"] == 7
    assert Path(found["hdr"]).is_relative_to(installed[0]) and not Path(found["hdr"]).is_relative_to(ROOT)
    assert found["models"] == str(Path(installed[1]["XDG_DATA_HOME"]) / "hdr" / "models")  # the user's own folder
