"""Provenance of a Bayesian fit is written by one function, under one set of keys."""

from pathlib import Path

import estimators
from estimators import _provenance

KEYS = {"method", "settings", "settings_hash", "random_seed", "package_version"}


def test_attrs_has_one_key_set_and_an_integer_seed():
    attrs = _provenance.attrs("m", {"b": 1, "a": (1, 2)}, 7)
    assert set(attrs) == KEYS
    assert attrs["random_seed"] == 7 and isinstance(attrs["random_seed"], int)
    assert attrs["package_version"] == estimators.__version__
    # the hash does not depend on the order the settings were written in
    assert attrs["settings_hash"] == _provenance.attrs("m", {"a": (1, 2), "b": 1}, 8)["settings_hash"]
    assert _provenance.details(attrs) == {"random_seed": 7, "settings_hash": attrs["settings_hash"]}


def test_no_other_module_writes_provenance():
    package = Path(estimators.__file__).parent
    writers = [p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if "settings_hash" in p.read_text() and p.name != "_provenance.py"]
    assert writers == [], writers
