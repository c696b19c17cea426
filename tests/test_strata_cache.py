"""estimate_strata's cache: a result is served only to a call with the same table and everything else that
determines it (bound arguments, closures, object state, defaults, the package's code), and an unreadable entry is
refitted and reported as such."""

import functools
import shutil
from pathlib import Path
import threading
import warnings

import pytest

import estimators
from estimators import strata as strata_module
from estimators._strata_cache import _package_digest
from estimators.strata import estimate_strata
from tests.test_strata import petersen, weekly_table


@pytest.fixture(scope="module")
def tables():
    split = weekly_table(seed=3, size=300).split_strata("date", "W")
    return dict(list(split.items())[:3])


def fit(tables, method, cache, **options):
    return estimate_strata(tables, method=method, cache=cache, progress=False, **options)


def levels(result):
    return {result.level for result in result.results.values()}


def test_partials_differing_in_a_bound_argument_do_not_share_entries(tables, tmp_path):
    wide = fit(tables, functools.partial(estimators.chao_lower_bound, level=0.95), tmp_path)
    narrow = fit(tables, functools.partial(estimators.chao_lower_bound, level=0.5), tmp_path)
    assert not narrow.table["cached"].any() and levels(narrow) == {0.5}
    assert (narrow.table["upper"] < wide.table["upper"]).all()
    again = fit(tables, functools.partial(estimators.chao_lower_bound, level=0.5), tmp_path)
    assert again.table["cached"].all() and levels(again) == {0.5}
    # bound arguments are followed through partials of partials
    nested = fit(tables, functools.partial(functools.partial(petersen, level=0.8)), tmp_path)
    other = fit(tables, functools.partial(functools.partial(petersen, level=0.6)), tmp_path)
    assert levels(nested) == {0.8} and levels(other) == {0.6} and not other.table["cached"].any()


def closure(level):
    def method(h):
        return petersen(h, level=level)

    return method


class Fitter:
    def __init__(self, level):
        self.level = level

    def __call__(self, h):
        return petersen(h, level=self.level)


def with_default():
    def method(h, level=0.95):
        return petersen(h, level=level)

    return method


def test_closures_objects_and_defaults_are_part_of_the_key(tables, tmp_path):
    assert levels(fit(tables, closure(0.95), tmp_path)) == {0.95}
    changed = fit(tables, closure(0.5), tmp_path)
    assert levels(changed) == {0.5} and not changed.table["cached"].any()
    assert fit(tables, closure(0.5), tmp_path).table["cached"].all()

    assert levels(fit(tables, Fitter(0.95), tmp_path)) == {0.95}
    changed = fit(tables, Fitter(0.7), tmp_path)
    assert levels(changed) == {0.7} and not changed.table["cached"].any()

    default = with_default()
    assert levels(fit(tables, default, tmp_path)) == {0.95}
    changed = with_default()
    changed.__defaults__ = (0.6,)
    assert levels(fit(tables, changed, tmp_path)) == {0.6}


def helper_level():
    return 0.95


def calls_a_helper(h):
    return petersen(h, level=helper_level())


def test_a_module_level_function_the_method_calls_is_part_of_the_key(tables, tmp_path, monkeypatch):
    assert levels(fit(tables, calls_a_helper, tmp_path)) == {0.95}
    monkeypatch.setitem(globals(), "helper_level", lambda: 0.5)
    changed = fit(tables, calls_a_helper, tmp_path)
    assert levels(changed) == {0.5} and not changed.table["cached"].any()


def test_the_package_source_is_part_of_the_key(tables, tmp_path, monkeypatch):
    fit(tables, "chao_lower_bound", tmp_path)
    assert fit(tables, "chao_lower_bound", tmp_path).table["cached"].all()
    # an edit of any module (not only the method's own) invalidates the entries
    monkeypatch.setattr(strata_module, "_package_digest", lambda root=None: "edited")
    assert not fit(tables, "chao_lower_bound", tmp_path).table["cached"].any()


def test_the_package_digest_covers_every_module(tmp_path):
    copy = tmp_path / "estimators"
    shutil.copytree(Path(strata_module.__file__).parent, copy,
                    ignore=shutil.ignore_patterns("__pycache__", "data"))
    before = _package_digest(copy)
    assert _package_digest(copy) == before
    (copy / "twolist.py").write_text((copy / "twolist.py").read_text() + "\n# edited\n")
    assert _package_digest(copy) != before


def test_a_method_that_cannot_be_keyed_is_fitted_without_the_cache(tables, tmp_path):
    lock = threading.Lock()

    def locked(h):
        with lock:
            return petersen(h)

    with pytest.warns(UserWarning, match="cache is not used.*closure variable 'lock'"):
        first = fit(tables, locked, tmp_path)
    with pytest.warns(UserWarning, match="cache is not used"):
        second = fit(tables, locked, tmp_path)
    assert not first.table["cached"].any() and not second.table["cached"].any()
    assert not any(tmp_path.iterdir())


def test_an_unreadable_entry_is_refitted_and_not_reported_as_cached(tables, tmp_path):
    log = tmp_path / "calls.log"
    cache = tmp_path / "cache"
    fit(tables, petersen, cache, log=str(log))
    outputs = sorted(cache.rglob("output.pkl"))
    assert len(outputs) == len(tables)
    outputs[0].write_bytes(outputs[0].read_bytes()[:20])  # a write cut short
    with pytest.warns(UserWarning, match="1 cache entry could not be read"):
        again = fit(tables, petersen, cache, log=str(log))
    assert again.table["cached"].sum() == len(tables) - 1
    refitted = again.table[~again.table["cached"]]
    assert refitted["warnings"].str.contains("could not be read").all()
    assert len(log.read_text().splitlines()) == len(tables) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the refit rewrote the entry
        assert fit(tables, petersen, cache, log=str(log)).table["cached"].all()
