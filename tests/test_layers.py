"""The library's layers: every import in ``hdr/`` runs down (or stays in its own layer), never up."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# From the bottom up; a module may import from its own layer and the layers before it.
LAYERS = (
    ("hdr.settings",),
    ("hdr.storage", "hdr.imaging"),
    ("hdr.config",),
    ("hdr.inference",),
    ("hdr.training",),
    ("hdr.serving",),
    ("hdr.cli",),
    ("hdr.__main__",),
)


def _layer(module: str) -> int:
    for rank, names in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in names):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _home(module: str) -> str:
    """The layer name a module belongs to (its subpackage, or itself at the top)."""
    return next(n for names in LAYERS for n in names if module == n or module.startswith(n + "."))


def _imports(path: Path) -> set[str]:
    """Every ``hdr`` module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("hdr.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hdr"):
            if node.module == "hdr":  # from hdr import settings, config
                found |= {f"hdr.{a.name}" for a in node.names}
            else:
                found.add(node.module)
    return found


def _library() -> dict[str, Path]:
    files = sorted((ROOT / "hdr").rglob("*.py"))
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in files}
    return {m.removesuffix(".__init__"): p for m, p in modules.items() if m != "hdr.__init__"}


def test_every_library_module_is_in_a_layer():
    for module in _library():
        _layer(module)


def test_no_import_runs_up_a_layer():
    upward = []
    for module, path in _library().items():
        for target in _imports(path):
            if _layer(target) > _layer(module) or (_layer(target) == _layer(module) and _home(target) != _home(module)):
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from hdr.inference.predict import Predictor\n", encoding="utf-8")
    assert _imports(bad) == {"hdr.inference.predict"}
    assert _layer("hdr.inference.predict") > _layer("hdr.imaging.segment")
