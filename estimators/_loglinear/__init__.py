"""Log-linear models for multiple-systems estimation: maximum likelihood with model search, the existence of the
MLE, a selection-aware bootstrap, and a Bayesian model with shrinkage on the interactions.

The counts of the 2**k - 1 observable capture patterns are Poisson with log mean the sum of the model's terms that
the pattern contains; the never-listed pattern has log mean u, so N = n + exp(u) (Fienberg 1972; Cormack 1989).

Modules: ``_model`` (hierarchical models as bit masks, parsing, design matrices; the Poisson fits
under them are :mod:`estimators._glm`, shared with heterogeneity and two lists), ``_existence`` (Fienberg-Rinaldo
check, :func:`mle_exists`), ``_fit`` (many models on one table), ``_search`` (model enumeration and selection),
``_estimator`` (:func:`loglinear`, :func:`loglinear_models`), ``_bootstrap`` (:func:`bootstrap_interval`),
``_bayes`` (:func:`loglinear_bayes`, :class:`LoglinearBayesModel`; PyMC and nutpie load only when one is fitted),
``_pooled`` (:func:`loglinear_pooled`: strata fitted jointly, their capture parameters partially pooled).
"""

from importlib import import_module
from typing import TYPE_CHECKING

# Each name is imported from its module on first use, as in estimators/__init__.py: a first `loglinear` fit in a
# fresh process should not pay for the modules of the others (pandas and scipy.stats for `loglinear_pooled`).
_MODULES = {
    "loglinear": "_estimator",
    "loglinear_models": "_estimator",
    "mle_exists": "_existence",
    "bootstrap_interval": "_bootstrap",
    "loglinear_bayes": "_bayes",
    "LoglinearBayesModel": "_bayes",
    "loglinear_pooled": "_pooled",
    "LoglinearPooledModel": "_pooled",
    "PooledStrataResult": "_pooled",
}

__all__ = list(_MODULES)

if TYPE_CHECKING:
    from ._bayes import LoglinearBayesModel, loglinear_bayes
    from ._bootstrap import bootstrap_interval
    from ._estimator import loglinear, loglinear_models
    from ._existence import mle_exists
    from ._pooled import LoglinearPooledModel, PooledStrataResult, loglinear_pooled


def __getattr__(name):
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_MODULES[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
