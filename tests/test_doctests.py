"""The Examples sections of the package's docstrings run as doctests, so a documented call cannot rot.

Only modules whose examples are fast (all of them together well under a second once imported) are listed.
Left out: the PyMC methods (loglinear_bayes, daily, strata: model compilation). graphical and simulate are in
(their examples took 0.25 s and 0.6 s, so a documented call there cannot rot either). latent_class's example runs a
Gibbs sampler (numba compilation, several seconds), so it runs only with -m slow.
"""

import doctest
import importlib

import pytest

MODULES = [
    "histories",
    "_histories_dates",
    "results",
    "_summary",
    "datasets",
    "twolist",
    "_loglinear._existence",
    "_loglinear._estimator",
    "_loglinear._bootstrap",
    "_heterogeneity._chao",
    "_heterogeneity._mh",
    "_heterogeneity._coverage",
    "survey._smart",
    "survey._rate",
    "survey._households",
    "survey._excess",
    "survey._plausibility",
    "survey._roster",
    "_daily._inputs",
    "diagnostics",
    "_graphical._graphs",
    "_graphical._marginal",
    "_graphical._estimator",
    "simulate._cells",
    "simulate._closed",
    "simulate._resampled",
    "simulate._conflict",
    "simulate._scenarios",
    "_records._impute",
    "_records._pool",
    pytest.param("_latent_class._estimator", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(f"estimators.{name}")
    tests = [test for test in doctest.DocTestFinder().find(module) if test.examples]
    assert tests, f"estimators.{name} has no doctest examples"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in estimators.{name}"
