"""Daily death rates from matched lists, unmatched tallies and household surveys, jointly.

One latent death process over the study days: the expected number of deaths on day ``d`` is ``rate[d]`` and the
log rate is a Gaussian random walk (or a constant, or a weekly random walk). Every source observes a thinning
of that one process:

* **matched lists** (capture histories with the day of death): the count of each observed capture pattern in a
  time bin is Poisson with mean (expected deaths in the bin) x (pattern probability); the pattern probabilities
  are a log-linear model with one main effect per list (optionally a random walk over bins) and two-way
  interactions with a normal shrinkage prior. The unlisted cell is never observed, so it is marginalised by
  leaving it out: Poisson thinning makes the observed cells independent Poisson.
* **unmatched tallies** (a source that gives only its own count per period): Poisson with mean
  coverage x expected deaths in the period, coverage ~ Beta.
* **surveys** (deaths and person-days in a sample over a recall window): negative binomial with mean
  bias x person-days x rate per person-day over the recall window, its dispersion set from the design effect;
  the **affected-households** summary ("one family in three lost a member"): a binomial on households with at
  least one death whose effective sample size is divided by the design effect.
* the **population at risk** (a log-normal prior from a range) turns deaths per day into deaths per 10,000 per
  day and links survey rates to deaths.

:class:`DailyRatesModel` is made once per data *shape* (days, lists, bins, number of tallies and surveys) and
refits new data of that shape, and the alternatives of :func:`sensitivity`; its log density and gradient are
hand-written Numba kernels (``_kernel``), compiled once per installation for every shape.

Modules: ``_inputs`` (the sources, validation, :func:`prepare_data`), ``_days`` (days, dates and list windows),
``_model`` (priors, the PyMC statement of the model, :class:`DailyRatesModel`), ``_kernel`` (its log density,
gradient and recorded quantities in Numba), ``_packing`` (the data the kernels read, starting points, prior draws), ``_draws`` (quantities from the draws), ``_heterogeneity``
(the checks of homogeneous capture), ``_result`` (:class:`DailyRatesResult`), ``_fit`` (:func:`daily_rates`),
``_sensitivity`` (:func:`sensitivity`). The simulator of this model's generative story is
:func:`estimators.simulate.simulate_conflict`.

References
----------
1. Bishop, Y. M. M., Fienberg, S. E. & Holland, P. W. (1975). *Discrete Multivariate Analysis*. MIT Press
   (log-linear models of capture patterns).
2. Fienberg, S. E. (1972). The multiple recapture census for closed populations and incomplete 2^k contingency
   tables. *Biometrika* 59(3):591-603.
3. Ball, P., Betts, W., Scheuren, F., Dudukovich, J. & Asher, J. (2002). *Killings and Refugee Flow in Kosovo,
   March-June 1999*. AAAS (lists, time bins and a household survey side by side).
4. Checchi, F. & Roberts, L. (2005). Interpreting and using mortality data in humanitarian emergencies.
   *HPN Network Paper* 52, ODI (crude death rate per 10,000 per day; design effects).
5. Talts, S., Betancourt, M., Simpson, D., Vehtari, A. & Gelman, A. (2018). Validating Bayesian inference
   algorithms with simulation-based calibration. arXiv:1804.06788.
"""

from ._fit import daily_rates
from ._inputs import DailyData, HouseholdSummary, SurveyObservation, Tally, prepare_data
from ._model import DailyRatesModel, Priors
from ._result import DailyRatesResult
from ._sensitivity import sensitivity

__all__ = [
    "daily_rates",
    "sensitivity",
    "Tally",
    "SurveyObservation",
    "HouseholdSummary",
    "DailyRatesResult",
    "DailyRatesModel",
    "DailyData",
    "Priors",
    "prepare_data",
]
