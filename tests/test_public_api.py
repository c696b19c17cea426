"""The public surface is one list, estimators._registry: the namespace, __all__, the TYPE_CHECKING block of
estimators/__init__.py and the lazy imports all follow it, and `import estimators` stays light."""

import ast
import json
import subprocess
import sys
import types
from pathlib import Path

import estimators
from estimators import _registry

INIT = Path(estimators.__file__)
HEAVY = ("pymc", "pytensor", "nutpie", "numba", "matplotlib", "scipy.stats", "pandas")


def _type_checking_imports() -> dict[str, str]:
    """name -> module (relative, without the dot) imported under ``if TYPE_CHECKING:`` in estimators/__init__.py."""
    tree = ast.parse(INIT.read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING")
    names = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1, ast.dump(node)
        for alias in node.names:
            assert alias.asname is None
            names[alias.name] = node.module or alias.name
    return names


def test_all_is_the_registry():
    assert estimators.__all__ == [*_registry.PUBLIC, *_registry.SUBMODULES]
    assert len(set(estimators.__all__)) == len(estimators.__all__)


def test_every_public_name_resolves_from_its_module():
    for name, module in _registry.PUBLIC.items():
        value = getattr(estimators, name)
        assert not isinstance(value, types.ModuleType), name
        assert value is getattr(sys.modules[f"estimators.{module}"], name)
    for name in _registry.SUBMODULES:
        assert isinstance(getattr(estimators, name), types.ModuleType)


def test_no_public_name_is_shadowed_by_a_module():
    # a submodule named like a public function would replace it on the package once imported
    modules = {p.stem for p in INIT.parent.glob("*.py")} | {p.name for p in INIT.parent.iterdir() if p.is_dir()}
    assert not (set(_registry.PUBLIC) & modules)
    for name in _registry.PUBLIC:
        assert not isinstance(getattr(estimators, name), types.ModuleType), name


def test_type_checking_block_lists_the_registry():
    assert _type_checking_imports() == {**_registry.PUBLIC, **{name: name for name in _registry.SUBMODULES}}


def test_dir_and_unknown_names():
    assert set(estimators.__all__) <= set(dir(estimators))
    try:
        estimators.no_such_estimator
    except AttributeError as error:
        assert "no_such_estimator" in str(error)
    else:
        raise AssertionError("estimators.no_such_estimator resolved")


def test_import_is_light():
    code = f"import json, sys, estimators; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
