"""The parser modules that setup.py may compile with mypyc.

An editable install builds the compiled modules next to their sources, and
Python imports a compiled module in preference to its source. After a
source changes, the old compiled module would keep running, so these tests
fail until the install is rebuilt.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from syncd.parser.bench import COMPILABLE_MODULES

ROOT = Path(__file__).resolve().parents[2]


def _setup_modules() -> list[str]:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "COMPILED_MODULES" for target in node.targets
        ):
            return [Path(path).stem for path in ast.literal_eval(node.value)]
    raise AssertionError("setup.py has no COMPILED_MODULES list")


def test_bench_lists_setup_modules():
    assert sorted(_setup_modules()) == sorted(COMPILABLE_MODULES)


@pytest.mark.parametrize("name", COMPILABLE_MODULES)
def test_compiled_module_not_stale(name):
    module = importlib.import_module(f"syncd.parser.{name}")
    loaded = Path(module.__file__ or "")
    if loaded.suffix == ".py":
        return
    source = loaded.parent / f"{name}.py"
    assert source.stat().st_mtime <= loaded.stat().st_mtime, (
        f"{loaded.name} was compiled before {source.name} last changed, so the old code "
        "runs: run `pip install -e .` again, or delete the .so files to use the sources"
    )
