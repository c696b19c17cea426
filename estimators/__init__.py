"""undercount-estimators: how many deaths went unrecorded, and daily death rates with honest intervals.

Capture-recapture / multiple systems estimation over incomplete overlapping lists, household mortality surveys,
and a Bayesian model joining them into daily death rates (deaths per day and per 10,000 per day).

The public API is what this module exports. Heavy dependencies (PyMC) load only when a Bayesian method is used.
"""

import sys
import types
from importlib import import_module

from .exceptions import (
    ConvergenceWarning,
    DataError,
    IdentifiabilityWarning,
    NonexistentEstimateError,
    SmallSampleWarning,
)
from .histories import CaptureHistories
from .results import Estimate, PosteriorEstimate, Rate, Summary, load_result

__version__ = "0.1.0"

# name -> submodule; imported on first use so `import estimators` stays fast and PyMC loads only when needed.
_LAZY = {
    "lincoln_petersen": "twolist",
    "chapman": "twolist",
    "pairwise": "twolist",
    "loglinear": "_loglinear",
    "loglinear_models": "_loglinear",
    "mle_exists": "_loglinear",
    "bootstrap_interval": "_loglinear",
    "chao_lower_bound": "heterogeneity",
    "zelterman": "heterogeneity",
    "heterogeneity": "heterogeneity",
    "sample_coverage": "heterogeneity",
    "sample_coverage_table": "heterogeneity",
    "huggins": "_huggins",
    "graphical_bma": "_graphical",
    "decomposable_graphs": "_graphical",
    "latent_class": "_latent_class",
    "loglinear_bayes": "_loglinear",
    "LoglinearBayesModel": "_loglinear",
    "estimate_strata": "strata",
    "daily_rates": "_daily",
    "sensitivity": "_daily",
    # inputs and result types, importable by name for isinstance checks, type hints and unpickling
    "Tally": "_daily",
    "SurveyObservation": "_daily",
    "HouseholdSummary": "_daily",
    "DailyRatesResult": "_daily",
    "SurveyRate": "survey",
    "AffectedHouseholds": "survey",
    "StrataResult": "strata",
    "load_dataset": "datasets",
    "list_datasets": "datasets",
    "impute": "_records",
    "pool": "_records",
    "Imputations": "_records",
}
_SUBMODULES = {"survey", "simulate", "datasets"}

__all__ = [
    "CaptureHistories",
    "Estimate",
    "PosteriorEstimate",
    "Rate",
    "Summary",
    "load_result",
    "DataError",
    "NonexistentEstimateError",
    "ConvergenceWarning",
    "IdentifiabilityWarning",
    "SmallSampleWarning",
    *_LAZY,
    *_SUBMODULES,
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'estimators' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


class _PublicAPI(types.ModuleType):
    """Keeps a public function that shares its submodule's name (``loglinear``, ``heterogeneity``) from being
    replaced by the submodule object, which Python binds on the package when the submodule is first imported."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == name:
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicAPI
