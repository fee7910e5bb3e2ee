"""The server process's set-up: what keeps a stroke's answer fast (bench/draw_load.py measures it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import keras
import pytest
import tomllib
from streamlit.runtime.scriptrunner import script_runner

from ui import server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def streamlit_hook(monkeypatch):
    """Streamlit's after-run hook, restored after the test; and a spy on Keras' clear_session."""
    calls = []
    monkeypatch.setattr(script_runner, server._STREAMLIT_HOOK, getattr(script_runner, server._STREAMLIT_HOOK))
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: calls.append(1))
    return calls


def test_streamlit_clears_the_keras_session_after_every_run_unless_told_not_to(streamlit_hook):
    script_runner._clean_problem_modules()
    assert streamlit_hook == [1], "the pinned Streamlit no longer clears Keras: the hook and ui.server can go"
    assert server.keep_keras_state() is True
    script_runner._clean_problem_modules()
    assert streamlit_hook == [1]


def test_the_server_import_of_app_py_keeps_the_keras_state(streamlit_hook):
    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    spec.loader.exec_module(importlib.util.module_from_spec(spec))  # as `streamlit run` imports it
    script_runner._clean_problem_modules()
    assert streamlit_hook == []


def test_the_server_neither_watches_sources_nor_collects_garbage_after_every_run():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["fileWatcherType"] == "none"
    assert config["runner"]["postScriptGC"] is False
