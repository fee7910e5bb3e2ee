"""``import hdr``: the supported names, imported lazily; the CLI's help without TensorFlow; the README's example."""

from __future__ import annotations

import doctest
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import hdr
import hdr.imaging
from synth.canvas import draw_digit

ROOT = Path(__file__).resolve().parent.parent
_HEAVY = ("tensorflow", "keras")  # seconds to import: what a quick start must not pay for


def _imported_after(code: str) -> list[str]:
    """The heavy top-level modules a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return [m for m in json.loads(done.stdout.splitlines()[-1]) if m in _HEAVY]


def test_every_public_name_is_found_in_its_module():
    for name in hdr.__all__:
        assert getattr(hdr, name) is not None, name
    assert set(hdr.__all__) <= set(dir(hdr))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hdr.nope  # noqa: B018


# The picture pipeline, whole, and what the command line needs before it runs a command.
_LIGHT = (
    *(f"hdr.imaging.{m.name}" for m in pkgutil.iter_modules(hdr.imaging.__path__)),
    "hdr.config",
    "hdr.training.data",
    "hdr.training.training_data",
    "hdr.cli.main",
)


def test_import_hdr_and_the_picture_pipeline_load_no_tensorflow():
    assert len(_LIGHT) >= 11  # every module of hdr.imaging is among them
    assert _imported_after("import hdr") == []
    assert _imported_after("\n".join(f"import {name}" for name in _LIGHT)) == []
    assert _imported_after("import hdr; hdr.to_mnist, hdr.TrainConfig, hdr.PRESETS, hdr.load_mnist") == []
    assert _imported_after("import hdr; hdr.Predictor") != []  # the probe sees TensorFlow when it is there


def test_the_command_line_help_loads_no_tensorflow():
    code = "from hdr.cli.main import main\nfor argv in (['--help'], ['train', '--help']):\n    try: main(argv)\n    except SystemExit: pass"
    assert _imported_after(code) == []


def test_the_readme_library_example_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(>>> .*?)```", readme, flags=re.S)
    for digit, name in ((7, "seven.png"), (2, "two.png")):
        Image.fromarray(draw_digit(digit, style="black_on_white")).save(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    test = doctest.DocTestParser().get_doctest(example, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0 and len(test.examples) >= 4
