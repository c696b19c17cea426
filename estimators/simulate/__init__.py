"""Simulated closed populations observed by k lists, with known truth: the scenarios of the benchmark study.

Every generator builds the probability of each of the 2**k capture patterns (cell 0 = on no list) and draws the
N members of a closed population into the cells with one multinomial draw. For individual-level mechanisms
(independent lists, latent classes, referral) the multinomial over cells has exactly the distribution of drawing
each person's lists independently, so nothing is lost by working with cells, and each replicate costs O(2**k).

Scenarios (see :func:`scenarios`):

(a) independent homogeneous lists (:func:`independent_lists`);
(b) individual heterogeneity: a two-class population after Manrique-Vallier (2016) (:func:`two_class_heterogeneity`,
    general :func:`latent_class_lists`);
(c) positive and negative pairwise dependence with the list margins held fixed (:func:`dependent_lists`) and
    referral, where being on one list makes another almost certain (:func:`referral_lists`);
(d) sparse lists where some pairs never overlap (:func:`sparse_lists`);
(e) low capture, every list below 0.15 (:func:`independent_lists` with small probabilities);
(f) a conflict observed over days, the generative story of :func:`estimators.daily_rates`
    (:func:`simulate_conflict`);
(g) tables resampled from log-linear models fitted to the shipped real datasets (:func:`resampled_table`), as
    Chan, Silverman & Vincent (2021) did, so the truth is known but the structure is real;
(h) person records as they come: regions, a late list, missing and coarse fields (:func:`simulate_records`);
(i) named death records on several lists, with spelling variants, typos and duplicates, for record linkage
    (:func:`simulate_named_lists`).

References
----------
1. Manrique-Vallier, D. (2016). Bayesian population size estimation using Dirichlet process mixtures.
   Biometrics 72(4), 1246-1254.
2. Chan, L., Silverman, B. W. & Vincent, K. (2021). Multiple systems estimation for sparse capture data:
   inferential challenges when there are nonoverlapping lists. Journal of the American Statistical Association
   116(535), 1297-1306.
3. Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k contingency
   tables. Biometrika 59(3), 591-603.
"""

from ._cells import independent_cells, latent_class_cells, loglinear_cells, referral_cells
from ._closed import (
    MV2016_CAPTURE,
    MV2016_WEIGHTS,
    Simulation,
    dependent_lists,
    from_cell_probabilities,
    independent_lists,
    latent_class_lists,
    referral_lists,
    sparse_lists,
    two_class_heterogeneity,
)
from ._conflict import SimulatedConflict, simulate_conflict
from ._names import SimulatedNamedLists, simulate_named_lists
from ._records import SimulatedRecords, simulate_records
from ._resampled import RealModel, fitted_real_model, resampled_table
from ._scenarios import SUITES, Scenario, scenarios

__all__ = [
    "Simulation",
    "Scenario",
    "from_cell_probabilities",
    "independent_lists",
    "latent_class_lists",
    "two_class_heterogeneity",
    "dependent_lists",
    "referral_lists",
    "sparse_lists",
    "resampled_table",
    "fitted_real_model",
    "simulate_conflict",
    "simulate_named_lists",
    "SimulatedNamedLists",
    "simulate_records",
    "SimulatedRecords",
    "scenarios",
    "SUITES",
]
