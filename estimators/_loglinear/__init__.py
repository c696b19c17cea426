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

from ._bayes import LoglinearBayesModel, loglinear_bayes
from ._bootstrap import bootstrap_interval
from ._estimator import loglinear, loglinear_models
from ._existence import mle_exists
from ._pooled import LoglinearPooledModel, PooledStrataResult, loglinear_pooled

__all__ = [
    "loglinear",
    "loglinear_models",
    "mle_exists",
    "bootstrap_interval",
    "loglinear_bayes",
    "LoglinearBayesModel",
    "loglinear_pooled",
    "LoglinearPooledModel",
    "PooledStrataResult",
]
