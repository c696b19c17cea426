"""undercount-estimators: how many deaths went unrecorded, and daily death rates with honest intervals.

Capture-recapture / multiple systems estimation over incomplete overlapping lists, household mortality surveys,
and a Bayesian model joining them into daily death rates (deaths per day and per 10,000 per day).

The public API is what this module exports, ``estimators.__all__``; the implementation lives in private modules.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from ._registry import PUBLIC, SUBMODULES

__version__ = "0.1.0"

__all__ = [*PUBLIC, *SUBMODULES]

# Every name is imported on first use: pandas and scipy.stats alone take over a second to import, PyMC, nutpie and
# numba several, and `import estimators` (the `undercount` command, a worker process) needs none of them.
# The block below is the same list spelled out for type checkers, IDEs and Sphinx; tests/test_public_api.py
# checks that it equals the registry.
if TYPE_CHECKING:
    from . import datasets, simulate, survey
    from ._daily import DailyRatesResult, HouseholdSummary, SurveyObservation, Tally, daily_rates, sensitivity
    from ._graphical import decomposable_graphs, graphical_bma
    from ._heterogeneity import chao_lower_bound, heterogeneity, sample_coverage, sample_coverage_table, zelterman
    from ._huggins import huggins
    from ._latent_class import latent_class
    from ._linkage import Linkage, LinkageReplicates, link
    from ._loglinear import (
        LoglinearBayesModel,
        LoglinearPooledModel,
        PooledStrataResult,
        bootstrap_interval,
        loglinear,
        loglinear_bayes,
        loglinear_models,
        loglinear_pooled,
        mle_exists,
    )
    from ._records import Imputations, impute, pool
    from ._recommend import Recommendation, estimate
    from .datasets import list_datasets, load_dataset
    from .exceptions import (
        ConvergenceWarning,
        DataError,
        IdentifiabilityWarning,
        NonexistentEstimateError,
        SmallSampleWarning,
    )
    from .histories import CaptureHistories, list_coverage_gaps
    from .results import Estimate, PosteriorEstimate, Rate, Summary, load_result
    from .strata import StrataResult, estimate_strata
    from .survey import AffectedHouseholds, SurveyRate
    from .twolist import chapman, lincoln_petersen, pairwise


def __getattr__(name):
    if name in PUBLIC:
        value = getattr(import_module(f".{PUBLIC[name]}", __name__), name)
    elif name in SUBMODULES:
        value = import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'estimators' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
